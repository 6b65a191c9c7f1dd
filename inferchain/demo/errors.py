"""Demo errors: every failure names the step that failed and the log to read.

InferchainError
 └── DemoError
      └── StepFailed      a step of `inferchain demo up` failed (step name, log file)
"""

from __future__ import annotations

from pathlib import Path

from inferchain.errors import InferchainError


class DemoError(InferchainError):
    """Root of the demo's errors."""


class StepFailed(DemoError, RuntimeError):
    def __init__(self, step: str, reason: str, log: Path | str | None = None) -> None:
        self.step, self.reason, self.log = step, reason, log
        where = f"; see the log: {log}" if log is not None else ""
        super().__init__(f"demo step '{step}' failed: {reason}{where}")
