"""Ran jobs → pinned outputs (or pinned refusal evidence) on IPFS.

The output CID goes on-chain; ``outputHash`` is the sha256 of the same canonical bytes, so a
verifier can check the result without trusting any node. Evidence of an invalid input is a
small canonical JSON document naming the job, its input and the runtime's refusal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import Executor

from inferchain.ipfs import Cid, IpfsError
from inferchain.worker.runtimes import canonical_json
from inferchain.worker.seams import OutputStore
from inferchain.worker.tracked import TrackedJob

Failure = tuple[TrackedJob, Exception]


def evidence_bytes(job: TrackedJob) -> bytes:
    assert job.refusal is not None
    return canonical_json(
        {
            **job.refusal.evidence(),
            "job_id": job.job_id,
            "input_cid": str(Cid.parse(job.input_cid)) if _parses(job.input_cid) else None,
        }
    )


def _parses(raw: bytes) -> bool:
    try:
        Cid.parse(raw)
    except ValueError:
        return False
    return True


class Pinner:
    def __init__(self, ipfs: OutputStore, pool: Executor) -> None:
        self._ipfs, self._pool = ipfs, pool

    def pin(self, jobs: Sequence[TrackedJob]) -> list[Failure]:
        """Pin every job's output or evidence in parallel; returns the transient failures."""
        payloads = [job.output if job.refusal is None else evidence_bytes(job) for job in jobs]
        results = list(self._pool.map(self._add, payloads))
        failures = []
        for job, data, result in zip(jobs, payloads, results, strict=True):
            if isinstance(result, Cid):
                digest = hashlib.sha256(data).digest() if job.refusal is None else None
                job.pinned(result, digest)
            else:
                failures.append((job, result))
        return failures

    def _add(self, data: bytes | None) -> Cid | Exception:
        assert data is not None
        try:
            return self._ipfs.add_bytes(data, pin=True)
        except IpfsError as exc:
            return exc
