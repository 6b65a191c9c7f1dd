"""Errors of the worker node.

InferchainError
└── WorkerError
    ├── WorkerNotReady        balance, stake or registration missing at start (also RuntimeError)
    ├── IllegalTransition     a job moved between phases its lifecycle forbids (also RuntimeError)
    └── TransientFailure      retry later: IPFS or RPC down, runtime hiccup (also ConnectionError)

Chain (``inferchain.chain``), IPFS (``inferchain.ipfs``) and bundle errors keep their own
types; the pipeline decides per stage which of them are transient.
"""

from __future__ import annotations

from inferchain.errors import InferchainError


class WorkerError(InferchainError):
    """Root of worker errors."""


class WorkerNotReady(WorkerError, RuntimeError):
    """The worker cannot start serving: not registered, stake below minimum, no gas."""


class IllegalTransition(WorkerError, RuntimeError):
    """A job was moved between phases its lifecycle does not allow."""


class TransientFailure(WorkerError, ConnectionError):
    """A stage failed for a reason that may pass (a service down); the job is retried."""
