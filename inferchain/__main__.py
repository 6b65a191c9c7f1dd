"""`python -m inferchain` runs the CLI."""

from inferchain.cli import main

main()
