"""Streamed text generation: each job decodes in its own thread and writes its stream.

Jobs whose runtime has ``generate_stream(request)`` (a generator of text pieces returning the
``Output``: ``hf-transformers``, ``inferchain-gpt``) do not wait for a batch: a job starts
decoding the tick it is fetched, its pieces go to its ``JobStream`` as they come, and the
node's loop collects finished jobs with ``collect``. The runtime does the batching: the
``hf-transformers`` scheduler runs one decode step for every thread waiting on it.

The stream ends with the digest and CID of the output document, the same bytes that get
pinned, so a reader can match the text against the result on-chain.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from inferchain.bundle import BundleError, InvalidInput
from inferchain.ipfs import file_cid
from inferchain.worker.metering import check_request
from inferchain.worker.runtimes import Output, Runtime
from inferchain.worker.streams import JobStream
from inferchain.worker.tracked import Phase, TrackedJob

log = logging.getLogger(__name__)

__all__ = ["Generations", "streams_text"]


def streams_text(runtime: Runtime) -> bool:
    """Whether ``runtime`` decodes one job at a time as a stream of text pieces."""
    return callable(getattr(runtime, "generate_stream", None))


@dataclass
class _Running:
    job: TrackedJob
    stream: JobStream
    future: Future[tuple[bytes, float]]
    cancel: threading.Event


class Generations:
    """Jobs decoding in threads, by job id; ``collect`` hands back the finished ones."""

    def __init__(self, max_threads: int, wake: Callable[[], None]) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="worker-gen")
        self._running: dict[int, _Running] = {}
        self._wake = wake

    def __len__(self) -> int:
        return len(self._running)

    def __contains__(self, job_id: int) -> bool:
        return job_id in self._running

    def start(self, job: TrackedJob, runtime: Runtime, stream: JobStream) -> None:
        """Check the job's input now (a refusal moves it to ``ran`` at once), then decode."""
        assert job.input is not None
        try:
            request = runtime.prepare(job.input)
            check_request(job.job, request)  # a metered job: within what was paid for
        except InvalidInput as exc:
            stream.fail("input.invalid", f"the worker refuses the input: {exc}")
            job.ran(None, exc, 0.0)
            return
        cancel = threading.Event()
        future = self._pool.submit(self._decode, runtime, request, stream, cancel)
        future.add_done_callback(lambda _f: self._wake())
        self._running[job.job_id] = _Running(job, stream, future, cancel)

    def collect(self) -> list[tuple[TrackedJob, Exception | None, float]]:
        """Jobs whose decoding ended: (job, failure or None, model seconds); a finished job
        has moved to ``ran``."""
        ended = []
        for job_id in [i for i, r in self._running.items() if r.future.done()]:
            running = self._running.pop(job_id)
            job = running.job
            try:
                output, elapsed = running.future.result()
            except BundleError as exc:
                ended.append((job, exc, 0.0))
                continue
            if job.phase is Phase.FETCHED:  # not abandoned meanwhile
                job.ran(output, None, elapsed)
            ended.append((job, None, elapsed))
        return ended

    def cancel(self, job_id: int) -> None:
        """Stop decoding ``job_id`` (its claim ended): the thread closes the generator."""
        running = self._running.pop(job_id, None)
        if running is not None:
            running.cancel.set()
            running.stream.fail("job.abandoned", "the worker stopped this job")

    def close(self) -> None:
        for job_id in list(self._running):
            self.cancel(job_id)
        self._pool.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _decode(
        runtime: Runtime, request: Any, stream: JobStream, cancel: threading.Event
    ) -> tuple[bytes, float]:
        started = time.perf_counter()
        pieces = runtime.generate_stream(request)  # type: ignore[attr-defined]
        try:
            while True:
                if cancel.is_set():
                    raise BundleError("cancelled")
                stream.put(next(pieces))
        except StopIteration as finished:
            output: Output = finished.value
        except BundleError as exc:
            stream.fail("worker.generation_failed", f"generation failed: {exc}; retrying")
            raise
        except Exception as exc:  # a runtime bug must end the stream, not hang its readers
            stream.fail("worker.generation_failed", "generation failed; retrying")
            raise BundleError(f"generation failed: {exc!r}") from exc
        finally:
            pieces.close()
        elapsed = time.perf_counter() - started
        data = output.to_bytes()
        text = output.result.get("text")
        if text != stream.text():
            log.error("streamed text differs from the output", extra={"job_id": stream.job_id})
        stream.finish(_summary(data, output.result))
        return data, elapsed


def _summary(data: bytes, result: dict[str, Any]) -> dict[str, Any]:
    """The stream's last event: which document will be pinned, and the usage it reports."""
    return {
        "output_cid": str(file_cid(data)),
        "output_sha256": hashlib.sha256(data).hexdigest(),
        "finish_reason": result.get("finish_reason"),
        "prompt_tokens": result.get("prompt_tokens"),
        "completion_tokens": result.get("completion_tokens"),
    }
