"""The `inferchain` console entry point; each role's commands live in their own module."""

from inferchain.cli.app import app, main

__all__ = ["app", "main"]
