"""Errors of model bundles and the runtimes that execute them.

    BundleError
    ├── ManifestError         manifest.json unreadable or invalid (also ValueError)
    ├── BundleFileMissing     a listed file is absent (also FileNotFoundError)
    ├── BundleHashMismatch    a file's size or sha-256 differs from the manifest (also ValueError)
    ├── UnknownRuntime        no runtime of that name, or not for that task (also ValueError)
    ├── TensorMismatch        weights of the wrong dtype, shape or name (also ValueError)
    ├── BundleTooLarge        larger than the whole weight cache (also ValueError)
    ├── InvalidInput          a job input the model refuses; report it on-chain (also ValueError)
    └── InferenceFailed       the runtime itself failed (device, memory); not the input's fault

``InvalidInput`` is the only one a worker reports as the requester's fault: the job is failed
with evidence and the worker keeps its stake. Everything else is the worker's or provider's
problem.
"""

from __future__ import annotations

from inferchain.errors import InferchainError


class BundleError(InferchainError):
    """Root of bundle and runtime errors."""


class ManifestError(BundleError, ValueError):
    """manifest.json is missing a field, malformed, or inconsistent with the bundle."""


class BundleFileMissing(BundleError, FileNotFoundError):
    """A file the manifest lists (or manifest.json itself) is not in the bundle directory."""


class BundleHashMismatch(BundleError, ValueError):
    """A file's bytes differ from the size or sha-256 the manifest records."""

    def __init__(self, path: str, expected: str, actual: str) -> None:
        self.path = path
        self.expected = expected
        self.actual = actual
        super().__init__(f"{path}: expected {expected}, found {actual}")


class UnknownRuntime(BundleError, ValueError):
    """The manifest names a runtime this version does not know, or pairs it with another task."""


class TensorMismatch(BundleError, ValueError):
    """The weights file holds a tensor of the wrong name, dtype or shape."""


class BundleTooLarge(BundleError, ValueError):
    """A bundle exceeds the cache's byte budget on its own, so caching it would evict everything."""


class InvalidInput(BundleError, ValueError):
    """The job input cannot be run: the worker fails the job as invalid, with this as evidence.

    ``reason`` is a stable machine-readable code (see ``REASONS``); the message is for humans.
    """

    REASONS = frozenset(
        {
            "oversize",  # raw input, text or image larger than the model's limits
            "wrong_type",  # not the JSON object / image / array the task expects
            "undecodable",  # not UTF-8, not JSON, not a PNG/JPEG the decoder can read
            "context_overflow",  # prompt plus new tokens beyond the model's context length
            "invalid_param",  # unknown parameter or a value out of range
            "over_limits",  # prompt or new tokens beyond what a metered request pays for
        }
    )

    def __init__(self, reason: str, message: str) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown InvalidInput reason {reason!r}")
        self.reason = reason
        super().__init__(f"{reason}: {message}")

    def evidence(self) -> dict[str, str]:
        """What a worker pins as the failure evidence."""
        return {"error": "invalid_input", "reason": self.reason, "message": str(self)}


class InferenceFailed(BundleError):
    """The runtime failed for reasons of its own (out of memory, device error)."""
