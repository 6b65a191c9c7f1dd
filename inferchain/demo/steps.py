"""Numbered, timed steps: progress on the console, and any failure turned into `StepFailed`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from inferchain.demo.errors import StepFailed

Say = Callable[[str], None]


class Steps:
    """`with steps.step("deploy contracts", log=...):` prints `[3] deploy contracts … 1.2s`."""

    def __init__(self, say: Say = print) -> None:
        self.say = say
        self.count = 0
        self.started = time.monotonic()

    @contextmanager
    def step(self, name: str, log: Path | None = None) -> Iterator[None]:
        self.count += 1
        self.say(f"[{self.count}] {name}")
        start = time.monotonic()
        try:
            yield
        except StepFailed:
            raise
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # every failure is reported with its step
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise StepFailed(name, reason, log) from exc
        self.say(f"    done in {time.monotonic() - start:.1f}s")

    def elapsed(self) -> float:
        return time.monotonic() - self.started
