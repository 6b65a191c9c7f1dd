"""Solidity build: the pinned solcjs compiles contracts/ into package-data artifacts."""

from inferchain.solidity.compiler import (
    BuildResult,
    compile_contracts,
    compile_standard_json,
    standard_json_input,
    write_artifacts,
)
from inferchain.solidity.errors import CompilationError

__all__ = [
    "BuildResult",
    "CompilationError",
    "compile_contracts",
    "compile_standard_json",
    "standard_json_input",
    "write_artifacts",
]
