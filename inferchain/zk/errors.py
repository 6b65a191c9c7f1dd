"""Errors of the ZK verification tier::

InferchainError
└── ZkError               EZKL failed, or a circuit file is missing or malformed
    ├── ZkInputInvalid    the job input is not a ZK-tier input file (also ValueError)
    └── ProofRejected     a proof does not verify, or does not bind this job's input/output
"""

from __future__ import annotations

from inferchain.errors import InferchainError


class ZkError(InferchainError):
    """EZKL failed or a circuit artifact is missing; the message names the step and the file."""


class ZkInputInvalid(ZkError, ValueError):
    """The input file cannot be a public input of the circuit (wrong length, value out of range)."""


class ProofRejected(ZkError):
    """The proof is invalid, or its public inputs/outputs are not this job's input and output.

    ``reason`` names the check that failed (for an on-chain check, the contract's error name).
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason
