"""Per-job token streams: what a job's generation has produced so far, for any number of readers.

A stream opens before the first token, so a reader who connects at once waits for tokens
rather than for a 404. The generation thread appends text pieces; every reader replays them
from the first and then waits for more. It ends with either ``done`` (the output document's
digest and usage: the same bytes that get pinned) or an ``error`` (the generation failed,
or the input was refused). Ended streams stay readable for ``keep_s`` seconds, so a late
reader still gets the whole text, then are dropped.

A stream may open before the worker holds its job (``held=False``): the worker decodes
while its claim is in flight (or, on the fast path, before it submits on Open). Readers of
such a stream wait, seeing nothing, until ``confirm`` (the job is this worker's) or
``drop`` (another worker took it: they get one ``error`` event, ``job.lost``, and never a
token of text that is not the job's result).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["JobStream", "StreamEvent", "StreamHub"]

#: Seconds an ended stream stays readable.
KEEP_S = 300.0


@dataclass(frozen=True)
class StreamEvent:
    """``kind`` is ``token`` (``data = {"text"}``), ``done`` or ``error``."""

    kind: str
    data: dict[str, Any]


class JobStream:
    """One job's pieces so far, appended by one writer and read by many."""

    def __init__(self, job_id: int, requester: str, token: str, *, held: bool = True) -> None:
        self.job_id, self.requester, self.token = job_id, requester, token
        self._events: list[StreamEvent] = []
        self._ended_at: float | None = None
        self._held = held
        self._lost: StreamEvent | None = None
        self._cond = threading.Condition()

    @property
    def ended(self) -> bool:
        return self._ended_at is not None

    @property
    def held(self) -> bool:
        return self._held

    def confirm(self) -> None:
        """The worker holds the job now: readers get its events."""
        with self._cond:
            if self._lost is None:
                self._held = True
            self._cond.notify_all()

    def drop(self, code: str, message: str) -> None:
        """The job is not this worker's: readers waiting for ``confirm`` get only this error.
        A stream already confirmed is failed instead (its readers saw the job's text)."""
        with self._cond:
            if self._held:
                self._fail_locked(code, message)
                return
            self._lost = StreamEvent("error", {"code": code, "message": message})
            if self._ended_at is None:
                self._ended_at = time.monotonic()
            self._cond.notify_all()

    def text(self) -> str:
        """The text streamed so far."""
        with self._cond:
            return "".join(e.data["text"] for e in self._events if e.kind == "token")

    def put(self, text: str) -> None:
        self._append(StreamEvent("token", {"text": text}), end=False)

    def finish(self, data: dict[str, Any]) -> None:
        self._append(StreamEvent("done", data), end=True)

    def fail(self, code: str, message: str) -> None:
        with self._cond:
            self._fail_locked(code, message)

    def _fail_locked(self, code: str, message: str) -> None:
        self._append_locked(StreamEvent("error", {"code": code, "message": message}), end=True)

    def _append(self, event: StreamEvent, *, end: bool) -> None:
        with self._cond:
            self._append_locked(event, end=end)

    def _append_locked(self, event: StreamEvent, *, end: bool) -> None:
        if self._ended_at is not None:
            return  # the first ending wins
        self._events.append(event)
        if end:
            self._ended_at = time.monotonic()
        self._cond.notify_all()

    def read(self, heartbeat_s: float, closed: threading.Event) -> Iterator[StreamEvent | None]:
        """Every event from the first, then new ones as they come; ``None`` as a heartbeat
        after ``heartbeat_s`` without one. Ends after the last event or when ``closed``.
        Nothing but heartbeats until the job is confirmed; only ``job.lost`` if dropped."""
        sent = 0
        while not closed.is_set():
            with self._cond:
                waiting = not self._held and self._lost is None
                quiet = False
                if waiting or (sent == len(self._events) and self._ended_at is None):
                    quiet = not self._cond.wait(heartbeat_s)
                lost, held = self._lost, self._held
                new = self._events[sent:] if held else []
                ended = self._ended_at is not None
            if lost is not None:
                yield lost
                return
            sent += len(new)
            if not new and not (held and ended):
                if quiet:
                    yield None
                continue
            yield from new
            if ended and sent == len(self._events):
                return

    def expired(self, now: float, keep_s: float) -> bool:
        return self._ended_at is not None and now - self._ended_at > keep_s


class StreamHub:
    """The streams of the jobs this worker holds, by job id (thread-safe)."""

    def __init__(self, keep_s: float = KEEP_S) -> None:
        self._keep_s = keep_s
        self._streams: dict[int, JobStream] = {}
        self._lock = threading.Lock()
        #: Set on shutdown: every reader's loop ends.
        self.closed = threading.Event()

    def open(self, job_id: int, requester: str, token: str, *, held: bool = True) -> JobStream:
        """A fresh stream for ``job_id`` (a retried generation starts over); readers wait
        for ``confirm`` unless ``held``."""
        stream = JobStream(job_id, requester, token, held=held)
        with self._lock:
            old = self._streams.get(job_id)
            self._streams[job_id] = stream
        if old is not None and not (old.ended and old.held):
            old.drop("stream.restarted", "the generation restarted; read the stream again")
        return stream

    def get(self, job_id: int) -> JobStream | None:
        with self._lock:
            return self._streams.get(job_id)

    def confirm(self, job_id: int) -> None:
        stream = self.get(job_id)
        if stream is not None:
            stream.confirm()

    def drop(self, job_id: int, code: str, message: str) -> None:
        stream = self.get(job_id)
        if stream is not None:
            stream.drop(code, message)

    def prune(self) -> None:
        """Drop streams that ended more than ``keep_s`` ago."""
        now = time.monotonic()
        with self._lock:
            for job_id in [i for i, s in self._streams.items() if s.expired(now, self._keep_s)]:
                del self._streams[job_id]

    def close(self) -> None:
        """End every open stream (the worker stops) and release waiting readers."""
        self.closed.set()
        with self._lock:
            streams = list(self._streams.values())
        for stream in streams:
            stream.fail("worker.stopping", "the worker is stopping; the job stays claimed")
