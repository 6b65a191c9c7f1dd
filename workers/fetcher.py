"""Claimed job → input bytes from IPFS, verified against the on-chain CID, size-limited.

An input the requester got wrong (no valid CID, larger than the limit, a DAG that is not a
file) is a refusal, reported on-chain; anything else (node down, timeout, a node serving
wrong bytes) is transient and retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor

from inferchain.bundle import InvalidInput
from inferchain.ipfs import Cid, InvalidCid, IpfsClient, IpfsError, IpfsTooLarge, UnsupportedDag
from inferchain.worker.jobs import TrackedJob

Failure = tuple[TrackedJob, Exception]


class InputFetcher:
    def __init__(
        self, ipfs: IpfsClient, pool: Executor, *, timeout_s: float, max_bytes: int
    ) -> None:
        self._ipfs, self._pool = ipfs, pool
        self._timeout, self._max = timeout_s, max_bytes

    def fetch(self, jobs: Sequence[TrackedJob]) -> list[Failure]:
        """Fetch every job's input in parallel; returns the transient failures."""
        results = list(self._pool.map(self._one, jobs))
        failures = []
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, bytes):
                job.fetched(result)
            elif isinstance(result, InvalidInput):
                job.ran(None, result, 0.0)
            else:
                failures.append((job, result))
        return failures

    def _one(self, job: TrackedJob) -> bytes | Exception:
        try:
            cid = Cid.parse(job.input_cid)
            return self._ipfs.cat(cid, timeout=self._timeout, max_size=self._max)
        except InvalidCid as exc:
            return InvalidInput("undecodable", f"input CID is not a valid sha2-256 CID: {exc}")
        except IpfsTooLarge:
            return InvalidInput("oversize", f"input is larger than {self._max} bytes")
        except UnsupportedDag as exc:
            return InvalidInput("wrong_type", f"input CID is not a file: {exc}")
        except IpfsError as exc:
            return exc
