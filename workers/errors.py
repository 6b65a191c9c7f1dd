"""Errors of the worker node.

InferchainError
└── WorkerError
    ├── WorkerNotReady        cannot start: gas, stake, registration, key in use (also RuntimeError)
    ├── IllegalTransition     a job moved between phases its lifecycle forbids (also RuntimeError)
    ├── TransientFailure      retry later: IPFS or RPC down, runtime hiccup (also ConnectionError)
    ├── CannotClaim           the registry refuses this worker's claims (stake below minimum…)
    └── StateFileUnusable     the saved state is damaged or from another chain (also ValueError)

Chain (``inferchain.chain``), IPFS (``inferchain.ipfs``) and bundle errors keep their own
types; the pipeline decides per stage which of them are transient.
"""

from __future__ import annotations

from inferchain.errors import InferchainError


class WorkerError(InferchainError):
    """Root of worker errors."""


class WorkerNotReady(WorkerError, RuntimeError):
    """The worker cannot start serving: not registered, no gas, a stake or allocation refused."""


class IllegalTransition(WorkerError, RuntimeError):
    """A job was moved between phases its lifecycle does not allow."""


class TransientFailure(WorkerError, ConnectionError):
    """A stage failed for a reason that may pass (a service down); the job is retried."""


class CannotClaim(WorkerError):
    """The registry refuses this worker's claims; ``reason`` says why and how to fix it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StateFileUnusable(WorkerError, ValueError):
    """The state file cannot be used: unreadable, not the expected JSON, or another chain's."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"worker state file {path}: {problem}")
        self.path = path
        self.problem = problem
