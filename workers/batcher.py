"""Fetched jobs → batches per model (dynamic batching: at most N jobs, at most T seconds wait).

A batch leaves as soon as it is full, or when its oldest job has waited ``max_wait_s``, so
a lone job pays at most that much latency and a burst fills whole batches.
"""

from __future__ import annotations

import time
from collections import defaultdict

from inferchain.worker.tracked import TrackedJob


class Batcher:
    def __init__(self, max_batch: int, max_wait_s: float) -> None:
        self.max_batch, self.max_wait_s = max_batch, max_wait_s
        self._queues: dict[int, list[tuple[float, TrackedJob]]] = defaultdict(list)

    def add(self, job: TrackedJob) -> None:
        self._queues[job.model_id].append((time.monotonic(), job))

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def ready(self, *, flush: bool = False) -> list[list[TrackedJob]]:
        """Batches to run now; ``flush`` takes everything (shutdown)."""
        now = time.monotonic()
        batches = []
        for model_id in list(self._queues):
            queue = self._queues[model_id]
            while queue and (
                flush or len(queue) >= self.max_batch or now - queue[0][0] >= self.max_wait_s
            ):
                taken, queue[:] = queue[: self.max_batch], queue[self.max_batch :]
                batches.append([job for _, job in taken])
            if not queue:
                del self._queues[model_id]
        return batches

    def next_due_s(self) -> float | None:
        """Seconds until the oldest queued job's wait runs out (None when empty)."""
        if not self._queues:
            return None
        oldest = min(q[0][0] for q in self._queues.values())
        return max(0.0, oldest + self.max_wait_s - time.monotonic())
