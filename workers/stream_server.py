"""``GET /jobs/{jobId}/stream?expiry=…&signature=…``: a job's text as server-sent events.

Served from daemon threads beside the node's loop (``stream_host``/``stream_port``)::

    event: token    data: {"text": " once"}           one per piece, replayed from the first
    event: done     data: {"output_cid", "output_sha256", "finish_reason",
                           "prompt_tokens", "completion_tokens"}
    event: error    data: {"code", "message"}          the generation failed or was stopped
    : keepalive                                          every ``HEARTBEAT_S`` without news

The stream ends after ``done`` or ``error``; ``done`` names the exact document that gets
pinned (its CID goes on-chain with ``submitResult``). Authorisation: ``stream_access``.
Refusals are JSON ``{"error": {"code", "message"}}`` with 400, 401, 403, 404, 405 or 503;
http.server itself answers 414/431 for an oversized request line or headers, and a connection
silent for ``REQUEST_TIMEOUT_S`` is dropped. At most ``MAX_CONNECTIONS`` connections get a
thread; further ones are closed unanswered, so a flood (or slowloris) cannot exhaust threads.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from inferchain.worker.stream_access import StreamAccess, StreamDenied
from inferchain.worker.streams import StreamEvent, StreamHub

__all__ = ["StreamServer", "bind_stream_server"]

log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
REQUEST_TIMEOUT_S = 10.0
#: Requests checked or served at once (each may hold a chain RPC); more get 503.
MAX_READERS = 256
#: Open connections given a thread; more are closed at once.
MAX_CONNECTIONS = 2 * MAX_READERS
_PATH = re.compile(r"/jobs/([0-9]{1,20})/stream")
#: The job URL template announced in the worker's metadata document.
PATH_TEMPLATE = "/jobs/{job_id}/stream"


class StreamServer:
    """The stream endpoint in daemon threads; ``url`` is what the metadata announces."""

    def __init__(
        self, hub: StreamHub, access: StreamAccess, host: str, port: int, public_url: str | None
    ) -> None:
        readers = threading.BoundedSemaphore(MAX_READERS)

        class Handler(_StreamHandler):
            pass

        Handler.hub, Handler.access, Handler.readers = hub, access, readers
        self._server = _Server((host, port), Handler)
        bound = f"http://{_host_in_url(host)}:{self.port}"
        self.base_url = (public_url or bound).rstrip("/")
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="worker-streams", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url_template(self) -> str:
        return self.base_url + PATH_TEMPLATE

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def bind_stream_server(
    hub: StreamHub, access: StreamAccess, host: str, port: int, public_url: str | None,
    *, remembered: Path,
) -> StreamServer:  # fmt: skip
    """The stream server, bound. With port 0 the port is kept in ``remembered`` and reused
    at the next start, so the announced URL (and the metadata on-chain) does not change
    with every restart."""
    chosen = port
    if port == 0 and remembered.is_file():
        text = remembered.read_text().strip()
        chosen = int(text) if text.isdigit() and 0 < int(text) < 65536 else 0
    try:
        server = StreamServer(hub, access, host, chosen, public_url)
    except OSError:
        if chosen == port:
            raise
        server = StreamServer(hub, access, host, 0, public_url)  # taken meanwhile
    if port == 0:
        remembered.parent.mkdir(parents=True, exist_ok=True)
        remembered.write_text(str(server.port))
    return server


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        """One thread per connection, up to ``MAX_CONNECTIONS``; past that, close it."""
        if not self._connections.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connections.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connections.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.warning("stream request failed", exc_info=True, extra={"client": client_address})


class _StreamHandler(BaseHTTPRequestHandler):
    hub: StreamHub
    access: StreamAccess
    readers: threading.BoundedSemaphore
    timeout = REQUEST_TIMEOUT_S
    server_version = "inferchain-worker"
    sys_version = ""

    def do_GET(self) -> None:
        try:
            stream, expiry, signature = self._request()
        except StreamDenied as exc:
            self._refuse(exc.status, exc.code, exc.message)
            return
        # Taken before the check: its chain calls may each hang up to the RPC timeout.
        if not self.readers.acquire(blocking=False):
            self._refuse(503, "stream.busy", "too many readers; try again shortly")
            return
        try:
            try:
                self.access.check(stream, expiry, signature)
            except StreamDenied as exc:
                self._refuse(exc.status, exc.code, exc.message)
                return
            self._serve(stream.read(HEARTBEAT_S, self.hub.closed))
        except OSError:  # the reader went away (reset, broken pipe, write timeout)
            pass
        finally:
            self.readers.release()

    def do_POST(self) -> None:
        self._refuse(405, "method_not_allowed", "only GET is served here")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_POST

    def _request(self) -> tuple[Any, int, str]:
        parts = urlsplit(self.path)
        match = _PATH.fullmatch(parts.path)
        if match is None:
            raise StreamDenied(404, "not_found", "the stream of job N is at /jobs/N/stream")
        try:
            query = parse_qs(parts.query, strict_parsing=False, max_num_fields=8)
        except ValueError as exc:
            raise StreamDenied(400, "request.invalid", "too many query parameters") from exc
        expiry_s, signature = query.get("expiry", [""])[0], query.get("signature", [""])[0]
        if not expiry_s or not signature:
            raise StreamDenied(
                401,
                "auth.missing",
                "pass ?expiry=<unix time>&signature=<0x personal_sign of the stream text by "
                "the requester or its session signer> (see docs/worker.md)",
            )
        if not expiry_s.isascii() or not expiry_s.isdigit() or len(expiry_s) > 12:
            raise StreamDenied(400, "request.invalid", "expiry must be a unix time in seconds")
        job_id = int(match[1])
        stream = self.hub.get(job_id)
        if stream is None:
            raise StreamDenied(
                404,
                "stream.unknown_job",
                f"this worker has no stream for job {job_id}: it does not hold the job, the "
                "job's model does not stream, or it ended long ago",
            )
        return stream, int(expiry_s), signature

    def _serve(self, events: Any) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        self.wfile.flush()
        for event in events:
            self.wfile.write(_frame(event))
            self.wfile.flush()
        self.close_connection = True

    def _refuse(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


def _frame(event: StreamEvent | None) -> bytes:
    if event is None:
        return b": keepalive\n\n"
    data = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event.kind}\ndata: {data}\n\n".encode()


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host
