"""Kubo RPC wire details shared by both clients: call descriptions, errors, reply parsing.

Both clients do only I/O: they POST a :class:`Call` and hand the reply back to an
operation (``_ops``). Everything about what to send and how to read the answer is here.

Node quirks handled (js-ipfs 0.66 / ipfs-core 0.18, and Kubo):

* Every endpoint is ``POST /api/v0/<name>``; errors come back as HTTP 500 (400 for bad
  arguments, 404 for unknown endpoints) with ``{"Message", "Code", "Type": "error"}``.
  ``Code`` is 0 for almost every failure, so the few errors callers act on (timeout,
  not pinned, missing path) can only be told apart by their message: one table below.
* A ``timeout=`` answer is "request timed out" on js-ipfs, "context deadline exceeded"
  on Kubo.
* js-ipfs prints CIDv1 in base58btc (``zb2r…``) in ``pin/ls``, ``pin/add`` and ``ls``
  whatever the CID was added as, and ``cid-base=base32`` makes ``pin/ls`` fail outright
  when any CIDv0 is pinned (a fresh js-ipfs repo pins its ``Qm…`` welcome files). CIDs
  are therefore parsed and compared decoded, and ``cid-base`` is only sent to ``add``.
* ``Size`` in ``add`` replies is a number on js-ipfs and a string on Kubo; js-ipfs also
  names a lone file by its CID instead of its filename, adds a ``Mode`` field, and prints
  no line for an empty sub-directory (it is in the DAG all the same). Without
  ``cid-base`` js-ipfs answers ``add`` in base58btc (``zdj7…``) too.
* js-ipfs ``version`` reports its ipfs-core version (``0.18.1`` for npm ``ipfs@0.66.1``);
  ``pin/rm`` and ``pin/ls?arg=`` of a CID that is not pinned take about a second to fail.
* Streamed bodies (``cat``) announce ``Trailer: X-Stream-Error``; httpx cannot read
  trailers, so a stream cut short by the node surfaces as a :class:`CidMismatch` when the
  bytes are verified, never as silently short content.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from inferchain import untrusted_json
from inferchain.errors import ConfigError
from inferchain.ipfs.cid import Cid
from inferchain.ipfs.errors import (
    InvalidCid,
    IpfsNotFound,
    IpfsRpcError,
    IpfsTimeout,
    IpfsUnavailable,
)
from inferchain.untrusted_json import UntrustedJsonError

GRACE_S = 1.0
"""How much longer the client waits than the node-side ``timeout=``, so the node's own,
clearer timeout error normally arrives first."""

_NOT_FOUND_PHRASES = ("not pinned", "no link named")
_TIMEOUT_PHRASES = ("timed out", "deadline exceeded")
_MAX_ERROR_BODY = 64 * 1024

Params = tuple[tuple[str, str], ...]


class Sink(Protocol):
    """Receives a streamed reply body; ``close`` returns the operation's value."""

    def feed(self, chunk: bytes) -> None: ...

    def close(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class Call:
    """One RPC call as data: endpoint, query, optional multipart upload or streaming sink.

    ``budget_s`` is the call's total time budget: sent to the node as ``timeout=`` by the
    operation, enforced by the client as a deadline (``None``: the client default).
    """

    endpoint: str
    params: Params = ()
    files: Sequence[tuple[str, Any]] | None = None
    sink: Sink | None = field(default=None, compare=False)
    budget_s: float | None = None


def api_base_url(api_url: str) -> str:
    """``http://host:port`` (with or without ``/api/v0``) to the RPC base URL."""
    url = httpx.URL(api_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"IPFS API URL must be http(s)://host:port, got {api_url!r}")
    path = url.path.rstrip("/")
    if not path.endswith("/api/v0"):
        path += "/api/v0"
    return str(url.copy_with(path=path + "/"))


def node_duration(seconds: float) -> str:
    """A duration both Go's ``ParseDuration`` and js ``parse-duration`` read."""
    if seconds <= 0:
        raise ValueError("timeout must be positive")
    return f"{max(1, math.ceil(seconds * 1000))}ms"


def request_timeout(budget_s: float | None, default_s: float) -> httpx.Timeout:
    """httpx timeouts for one call: the budget plus grace, connecting capped at the default."""
    if budget_s is None:
        return httpx.Timeout(default_s)
    return httpx.Timeout(budget_s + GRACE_S, connect=min(default_s, budget_s + GRACE_S))


class Deadline:
    """Total time budget of a streamed reply (httpx read timeouts are per chunk only)."""

    def __init__(self, endpoint: str, budget_s: float | None) -> None:
        self._endpoint = endpoint
        self._budget = budget_s
        self._end = None if budget_s is None else time.monotonic() + budget_s + GRACE_S

    def check(self) -> None:
        if self._end is not None and time.monotonic() > self._end:
            raise IpfsTimeout(f"{self._endpoint}: over the {self._budget} s budget")


@contextmanager
def transport_errors(endpoint: str) -> Iterator[None]:
    """Translate httpx failures into the IPFS error tree."""
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise IpfsUnavailable(f"{endpoint}: cannot reach the IPFS API: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise IpfsTimeout(f"{endpoint}: no answer in time: {exc!r}") from exc
    except httpx.TransportError as exc:
        raise IpfsUnavailable(f"{endpoint}: connection to the IPFS API failed: {exc}") from exc


def is_success(status: int) -> bool:
    """Whether an HTTP status means the call succeeded."""
    return 200 <= status < 300


def check_reply(endpoint: str, status: int, body: bytes) -> None:
    """Raise the matching :class:`IpfsError` unless ``status`` is a success."""
    if is_success(status):
        return
    message = _error_message(body[:_MAX_ERROR_BODY])
    lowered = message.lower()
    if any(phrase in lowered for phrase in _NOT_FOUND_PHRASES):
        raise IpfsNotFound(f"{endpoint}: {message}")
    if any(phrase in lowered for phrase in _TIMEOUT_PHRASES):
        raise IpfsTimeout(f"{endpoint}: the node gave up: {message}")
    raise IpfsRpcError(endpoint, status, message)


def _error_message(body: bytes) -> str:
    try:
        reply = untrusted_json.loads(body, source="IPFS error reply")
    except UntrustedJsonError:
        return body.decode("utf-8", "replace").strip() or "(empty reply)"
    if isinstance(reply, dict) and isinstance(reply.get("Message"), str):
        return reply["Message"]
    return str(reply)


def json_reply(endpoint: str, body: bytes) -> Any:
    """One JSON document."""
    try:
        return untrusted_json.loads(body, source=f"IPFS {endpoint} reply")
    except UntrustedJsonError as exc:
        raise IpfsRpcError(
            endpoint, 200, f"malformed JSON reply ({exc.reason}): {body[:200]!r}"
        ) from exc


def ndjson_reply(endpoint: str, body: bytes) -> list[dict[str, Any]]:
    """Newline-delimited JSON objects (``add``, streamed ``pin/ls``)."""
    objects = [json_reply(endpoint, line) for line in body.splitlines() if line.strip()]
    if not all(isinstance(obj, dict) for obj in objects):
        raise IpfsRpcError(endpoint, 200, "expected JSON objects, one per line")
    return objects


def cid_in_reply(endpoint: str, value: object) -> Cid:
    """A CID the node printed, in whatever base it chose."""
    if not isinstance(value, str):
        raise IpfsRpcError(endpoint, 200, f"expected a CID string, got {value!r}")
    try:
        return Cid.parse(value)
    except InvalidCid as exc:
        raise IpfsRpcError(endpoint, 200, f"node printed an unusable CID {value!r}") from exc


def added(endpoint: str, body: bytes) -> dict[str, Cid]:
    """``add`` reply: entry name to CID (later lines win; progress lines are skipped)."""
    entries = {
        str(obj.get("Name", "")): cid_in_reply(endpoint, obj["Hash"])
        for obj in ndjson_reply(endpoint, body)
        if "Hash" in obj
    }
    if not entries:
        raise IpfsRpcError(endpoint, 200, "add reply named no CID")
    return entries


def pinned_cids(endpoint: str, body: bytes) -> set[Cid]:
    """``pin/ls`` reply in either shape: ``{"Keys": {cid: …}}`` or one ``{"Cid"}`` per line.

    CIDs with a hash other than sha2-256 cannot be represented here and are left out.
    """
    try:
        whole = untrusted_json.loads(body, source=f"IPFS {endpoint} reply")
    except UntrustedJsonError:
        whole = None
    objects = [whole] if isinstance(whole, dict) else ndjson_reply(endpoint, body)
    texts: list[object] = []
    for obj in objects:
        keys = obj.get("Keys")
        texts.extend(keys if isinstance(keys, dict) else [obj.get("Cid")])
    cids: set[Cid] = set()
    for text in texts:
        try:
            cids.add(Cid.parse(text))  # type: ignore[arg-type]
        except InvalidCid:
            continue
    return cids
