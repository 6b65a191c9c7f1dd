"""Reading a job's tokens from the worker that claimed it, straight from the chain.

Nothing here waits on the indexer: the claiming worker is read from the job's
``JobClaimed`` log, its stream URL from the registry metadata document it pinned (the
registry holds the document's sha256; the bytes come from IPFS and are hashed against it;
the last ``METADATA_CACHE_SIZE`` are kept), checked against ``market.stream_hosts`` before
every read, and the read is authorised with the wallet's session signer key over
``inferchain.market.stream_auth``'s text. The worker's server-sent events
(docs/worker.md, *Streams*) come back as ``Piece`` and one final ``StreamEnd``.
``submitted_result`` reads a job's result CID and usage from its ``ResultSubmitted`` log.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from web3 import Web3

from inferchain import untrusted_json
from inferchain.gateway.errors import GatewayError
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.market.stream_hosts import UnsafeStreamUrl, check_stream_url
from inferchain.ipfs import Cid, IpfsClient, IpfsError
from inferchain.market import decode_logs
from inferchain.market.stream_auth import sign_stream_read

T = TypeVar("T")

__all__ = [
    "Piece",
    "StreamEnd",
    "WorkerStreamError",
    "authorisation",
    "claiming_worker",
    "read",
    "stream_url",
    "submitted_result",
]

#: Seconds a read authorisation the gateway signs stays valid.
AUTH_TTL_S = 600
#: Largest metadata document read, and largest single event line or event.
MAX_METADATA_BYTES = 64 << 10
MAX_LINE_CHARS = 1 << 20
#: Worker metadata documents kept (least recently used dropped first).
METADATA_CACHE_SIZE = 1024
#: How long a stream the worker does not know yet is asked for again.
UNKNOWN_JOB_GRACE_S = 3.0
_POLL_S = 0.02
#: Job events after which no result will come.
_ENDINGS = frozenset({"JobFailed", "JobTimedOut", "JobCancelled", "JobExpired"})
_METADATA: OrderedDict[tuple[str, bytes], str] = OrderedDict()
_METADATA_LOCK = threading.Lock()
#: One client for every stream read: building one (its TLS context) costs tens of ms, on
#: the path to the first token. Redirects are never followed (the URL was checked).
_HTTP: httpx.Client | None = None
_HTTP_LOCK = threading.Lock()


class WorkerStreamError(GatewayError):
    """The worker's stream cannot be read or broke; ``code`` says which (status 502)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, status=502)


@dataclass(frozen=True)
class Piece:
    text: str


@dataclass(frozen=True)
class StreamEnd:
    """The worker's last event: the document it will pin, and its usage."""

    output_cid: str
    output_sha256: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


def claiming_worker(
    c: MarketContracts, job_id: int, from_block: int, timeout_s: float, poll_s: float = _POLL_S
) -> str:
    """The worker that took ``job_id``, as soon as it is on-chain: its ``JobClaimed`` log, or,
    for a job it ran first and submitted on Open (the worker's fast path), its
    ``ResultSubmitted`` log. Then the stream has ended, and the worker replays it whole."""
    events = c.market.events
    topics = [
        [events.JobClaimed().topic, events.ResultSubmitted().topic],
        "0x" + job_id.to_bytes(32, "big").hex(),
    ]
    late = f"no worker took job {job_id} in {timeout_s:g} s; follow it at /jobs/{job_id}"

    def worker(logs: list[Any]) -> str | None:
        # Both events index (jobId, worker) first: the worker is the third topic.
        return Web3.to_checksum_address(bytes(logs[0]["topics"][2])[-20:]) if logs else None

    return _poll_logs(c, from_block, topics, worker, timeout_s, poll_s, late)


def _poll_logs(
    c: MarketContracts,
    from_block: int,
    topics: list[Any],
    found: Callable[[list[Any]], T | None],
    timeout_s: float,
    poll_s: float,
    late: str,
) -> T:
    """What ``found`` makes of the market's logs matching ``topics`` since ``from_block``,
    read again every ``poll_s`` until it finds something; past ``timeout_s``, a 504
    ``openai.timeout`` saying ``late``."""
    deadline = time.monotonic() + timeout_s
    while True:
        logs = c.chain.w3.eth.get_logs(
            {"address": c.market.address, "fromBlock": from_block, "topics": topics}  # type: ignore[typeddict-item]
        )
        answer = found(logs)
        if answer is not None:
            return answer
        if time.monotonic() >= deadline:
            raise GatewayError("openai.timeout", late, status=504)
        time.sleep(poll_s)


def stream_url(
    c: MarketContracts, ipfs: IpfsClient, worker: str, job_id: int, *, allow_private: bool
) -> str:
    """The URL of ``job_id``'s stream on ``worker``, from its registry metadata; refused
    (``stream.unsafe_url``) unless ``market.stream_hosts`` allows its host."""
    digest = bytes(c.chain.call(c.workers.functions.metadataDigest(worker)))
    key = (worker, digest)
    with _METADATA_LOCK:
        template = _METADATA.get(key)
        if template is not None:
            _METADATA.move_to_end(key)
    if template is None:
        template = _read_template(ipfs, worker, digest)
        with _METADATA_LOCK:
            _METADATA[key] = template
            while len(_METADATA) > METADATA_CACHE_SIZE:
                _METADATA.popitem(last=False)
    url = template.replace("{job_id}", str(job_id))
    try:
        check_stream_url(url, allow_private=allow_private)
    except UnsafeStreamUrl as exc:
        raise WorkerStreamError(
            "stream.unsafe_url", f"worker {worker}'s stream URL is refused: {exc}"
        ) from exc
    return url


def _read_template(ipfs: IpfsClient, worker: str, digest: bytes) -> str:
    cid = Cid.from_digest32(digest)
    try:
        data = ipfs.cat(cid, max_size=MAX_METADATA_BYTES)
        document = untrusted_json.loads(data, source=f"worker {worker}'s metadata")
        stream = document["stream"]
        template = stream["url"]
        ok = stream.get("format") == "sse" and isinstance(template, str)
    except (IpfsError, ValueError, KeyError, TypeError) as exc:
        raise WorkerStreamError(
            "stream.no_worker_stream",
            f"worker {worker} announces no readable stream (metadata {cid})",
        ) from exc
    if not ok or not template.startswith(("http://", "https://")) or "{job_id}" not in template:
        raise WorkerStreamError(
            "stream.no_worker_stream", f"worker {worker}'s metadata has no usable stream URL"
        )
    return template


def authorisation(c: MarketContracts, signer_key: str, job_id: int) -> dict[str, str]:
    """The query parameters that authorise reading ``job_id``'s stream for ``AUTH_TTL_S``
    (signed ahead: the signature does not depend on which worker claims the job)."""
    expiry = c.chain.block_timestamp() + AUTH_TTL_S
    signature = sign_stream_read(signer_key, c.chain.chain_id, c.market.address, job_id, expiry)
    return {"expiry": str(expiry), "signature": signature}


def read(
    url: str, params: dict[str, str], job_id: int, timeout_s: float
) -> Iterator[Piece | StreamEnd]:
    """The stream's pieces as they come, then its end; ``WorkerStreamError`` when it breaks
    (an ``error`` event, a dropped connection, a malformed event, or a stream still open
    ``timeout_s`` after it started: keepalives alone cannot hold it open). ``params`` come
    from ``authorisation``."""
    deadline = time.monotonic() + timeout_s
    timeout = httpx.Timeout(timeout_s, connect=5.0)
    http = _client()
    # Workers open a job's stream before sending its claim; one that does not yet (an older
    # worker, or a claim mined before the stream opened) is asked again for a short while.
    unknown_until = time.monotonic() + UNKNOWN_JOB_GRACE_S
    try:
        while True:
            with http.stream("GET", url, params=params, timeout=timeout) as response:
                if response.status_code == 200:
                    yield from _pieces(response, deadline, job_id)
                    return
                code = _error_code(response.iter_bytes())
            if code != "stream.unknown_job" or time.monotonic() > unknown_until:
                raise WorkerStreamError(
                    "stream.refused",
                    f"the worker refused the stream of job {job_id}: {response.status_code} {code}",
                )
            time.sleep(_POLL_S)
    except httpx.HTTPError as exc:
        raise WorkerStreamError(
            "stream.broken", f"the worker's stream of job {job_id} broke ({type(exc).__name__})"
        ) from exc


def _client() -> httpx.Client:
    global _HTTP
    with _HTTP_LOCK:
        if _HTTP is None:
            _HTTP = httpx.Client(follow_redirects=False)
        return _HTTP


def _pieces(response: httpx.Response, deadline: float, job_id: int) -> Iterator[Piece | StreamEnd]:
    """The pieces of an accepted stream, then its end (see ``read``)."""
    for kind, data in _events(_lines(response.iter_bytes(), deadline, job_id)):
        if kind == "token":
            yield Piece(str(data["text"]))
        elif kind == "done":
            yield _end(data)
            return
        elif kind == "error":
            raise WorkerStreamError(
                "stream.worker_error",
                f"the worker ended job {job_id}'s stream: {data.get('code')}",
            )
    raise WorkerStreamError("stream.broken", f"the worker's stream of job {job_id} ended early")


def _lines(chunks: Iterator[bytes], deadline: float, job_id: int) -> Iterator[str]:
    """The body's lines as they come (LF or CRLF ended, bad UTF-8 replaced), never
    buffering more than one line's limit, and none after ``deadline``."""
    buffer = bytearray()
    for chunk in chunks:
        if time.monotonic() > deadline:
            raise GatewayError(
                "openai.timeout",
                f"job {job_id}'s stream outlived its timeout; follow it at /jobs/{job_id}",
                status=504,
            )
        buffer += chunk
        start = 0
        while (end := buffer.find(b"\n", start)) >= 0:
            yield _line(buffer[start:end])
            start = end + 1
        del buffer[:start]
        if len(buffer) > MAX_LINE_CHARS:
            raise WorkerStreamError("stream.malformed", "the worker sent an oversized event")
    if buffer:
        yield _line(buffer)


def _line(raw: bytearray) -> str:
    if len(raw) > MAX_LINE_CHARS:
        raise WorkerStreamError("stream.malformed", "the worker sent an oversized event")
    return bytes(raw).removesuffix(b"\r").decode("utf-8", "replace")


def _events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data object) from server-sent event lines; comments skipped."""
    kind, data = "message", ""
    for line in lines:
        if len(data) + len(line) > MAX_LINE_CHARS:
            raise WorkerStreamError("stream.malformed", "the worker sent an oversized event")
        if not line:
            if data:
                yield kind, _object(data)
            kind, data = "message", ""
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()


def _object(data: str) -> dict[str, Any]:
    try:
        value = untrusted_json.loads(data.encode(), source="worker stream event")
    except ValueError as exc:
        raise WorkerStreamError("stream.malformed", "the worker sent an unreadable event") from exc
    if not isinstance(value, dict):
        raise WorkerStreamError("stream.malformed", "the worker sent an unreadable event")
    return value


def _end(data: dict[str, Any]) -> StreamEnd:
    try:
        return StreamEnd(
            str(data["output_cid"]),
            str(data["output_sha256"]),
            str(data["finish_reason"]),
            int(data["prompt_tokens"]),
            int(data["completion_tokens"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise WorkerStreamError(
            "stream.malformed", "the worker's last event is unreadable"
        ) from exc


def _error_code(chunks: Iterator[bytes]) -> str:
    """The ``error.code`` of a refusal's body, read no further than ``MAX_METADATA_BYTES``."""
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > MAX_METADATA_BYTES:
            return ""
    try:
        code = untrusted_json.loads(bytes(body), source="worker")["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""
    return str(code)[:64]


def submitted_result(
    c: MarketContracts,
    job_id: int,
    from_block: int,
    timeout_s: float,
    *,
    poll_s: float = _POLL_S,
    describe: Callable[[str, dict[str, Any]], str] | None = None,
) -> tuple[Cid, bytes]:
    """The output CID the worker put on-chain for ``job_id`` (its ``ResultSubmitted`` log)
    and the usage word it committed (what a metered job is charged for).

    A job that ended without one is a 502 ``openai.job_failed``, worded by ``describe``
    (event name, event args) when given."""
    topics = [None, "0x" + job_id.to_bytes(32, "big").hex()]  # every job event: id first
    late = f"job {job_id}'s result is not on-chain yet; follow it at /jobs/{job_id}"

    def result(logs: list[Any]) -> tuple[Cid, bytes] | None:
        for event in decode_logs(c.market, logs):
            if event["event"] == "ResultSubmitted":
                args = event["args"]
                return Cid.parse(bytes(args["outputCid"])), bytes(args["usage"])
            if event["event"] in _ENDINGS:
                why = (
                    describe(event["event"], dict(event["args"]))
                    if describe is not None
                    else f"job {job_id} ended without a result ({event['event']})"
                )
                raise WorkerStreamError("openai.job_failed", why)
        return None

    return _poll_logs(c, from_block, topics, result, timeout_s, poll_s, late)
