"""Errors of the Solidity build."""

from __future__ import annotations

from inferchain.errors import InferchainError


class CompilationError(InferchainError):
    """solc reported errors; each message names file:line and the problem."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("Solidity compilation failed:\n" + "\n".join(messages))
