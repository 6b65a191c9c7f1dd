"""``stream=true``: a created job's tokens, relayed from its worker as OpenAI chunks.

The job is created (paid) before the response starts, so refusals are ordinary errors.
Then, as server-sent events: the claiming worker is read from the chain, its stream opened
(``market.worker_stream``), each piece sent as a chunk as it comes. When the worker's
stream ends, the gateway waits for the result on-chain, fetches the pinned document (the
IPFS client hashes it against the CID) and checks that the streamed text and usage are
exactly its own; only then the last chunk (``finish_reason``), the usage chunk when
``stream_options.include_usage`` asks for it, and ``data: [DONE]``. Anything that goes
wrong after the first byte is an ``error`` event in OpenAI's shape (OpenAI clients raise
``APIError``) and ends the stream; a mismatch is also logged for the dispute path.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from inferchain.gateway.container import Services
from inferchain.gateway.errors import GatewayError, openai_error_type
from inferchain.gateway.market import completion as fmt
from inferchain.gateway.market import worker_stream
from inferchain.gateway.market.metered import check_usage
from inferchain.gateway.market.signers import gateway_signer
from inferchain.gateway.market.worker_stream import Piece, StreamEnd, WorkerStreamError
from inferchain.ipfs import Cid, IpfsError

__all__ = ["StreamedJob", "sse_chunks"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamedJob:
    """What the route knows once the job is created."""

    job_id: int
    wallet: str
    model: str
    chat: bool
    include_usage: bool
    from_block: int
    created: int
    metered: bool = False


def sse_chunks(services: Services, job: StreamedJob) -> Iterator[bytes]:
    """The response body: ``data: {chunk}`` events, then ``data: [DONE]``; or an error."""
    try:
        yield from _chunks(services, job)
    except GatewayError as exc:
        yield _error(exc.code, exc.message, exc.status)
        return
    except Exception:  # the response has started: end it with an error, never a traceback
        log.exception("stream relay failed", extra={"job_id": job.job_id})
        yield _error("internal", "the gateway failed relaying this stream", 500)
        return
    yield b"data: [DONE]\n\n"


def _chunks(services: Services, job: StreamedJob) -> Iterator[bytes]:
    c, s = services.contracts(), services.settings
    deadline = time.monotonic() + s.completion_timeout_s

    def left() -> float:
        return max(0.1, deadline - time.monotonic())

    # Signed before the claim: the authorisation does not depend on the worker.
    key = gateway_signer(services, c, job.wallet).key.to_0x_hex()
    params = worker_stream.authorisation(c, key, job.job_id)
    worker = worker_stream.claiming_worker(
        c, job.job_id, job.from_block, left(), poll_s=s.job_log_poll_s
    )
    url = worker_stream.stream_url(
        c, services.ipfs, worker, job.job_id, allow_private=s.private_worker_streams
    )
    chunk = _Chunker(job)
    if job.chat:
        yield chunk.data({"role": "assistant", "content": ""})
    streamed: list[str] = []
    size = 0
    end: StreamEnd | None = None
    for item in worker_stream.read(url, params, job.job_id, left()):
        if isinstance(item, Piece):
            streamed.append(item.text)
            size += len(item.text)
            if size > s.max_result_bytes:  # no pinned result that large can match it
                raise WorkerStreamError(
                    "stream.mismatch", f"job {job.job_id}'s stream outgrew MAX_RESULT_BYTES"
                )
            text = chunk.text(item.text)
            if text:
                yield chunk.data({"content": text} if job.chat else text)
        else:
            end = item
    assert end is not None
    _verify(services, job, "".join(streamed), end, left())
    finish = fmt.finish_reason(end.finish_reason)
    yield chunk.data({} if job.chat else "", finish_reason=finish)
    if job.include_usage:
        yield chunk.usage(end.prompt_tokens, end.completion_tokens)


def _verify(
    services: Services, job: StreamedJob, text: str, end: StreamEnd, timeout: float
) -> None:
    """The pinned result, fetched by the CID on-chain, must be exactly what was streamed;
    a metered job's usage must also be what the worker committed on-chain (what it is
    charged), or the usage chunk would tell the client a count the chain does not."""
    c = services.contracts()
    cid, usage = worker_stream.submitted_result(
        c, job.job_id, job.from_block, timeout, poll_s=services.settings.job_log_poll_s
    )
    try:
        data = services.ipfs.cat(cid, max_size=services.settings.max_result_bytes)
    except IpfsError as exc:
        raise GatewayError(
            "ipfs.unavailable", f"cannot fetch job {job.job_id}'s result to check the stream"
        ) from exc
    if job.metered:
        check_usage(job.job_id, data, usage)
    result_text, finish, prompt_tokens, completion_tokens = fmt.parse_output(data)
    agrees = (
        result_text == text
        and cid == Cid.parse(end.output_cid)
        and (prompt_tokens, completion_tokens) == (end.prompt_tokens, end.completion_tokens)
        and finish == fmt.finish_reason(end.finish_reason)
    )
    if not agrees:
        log.warning(
            "streamed text differs from the pinned result: dispute job %s",
            job.job_id,
            extra={"job_id": job.job_id, "output_cid": str(cid), "wallet": job.wallet},
        )
        raise WorkerStreamError(
            "stream.mismatch",
            f"the streamed text is not job {job.job_id}'s pinned result {cid}; do not use it, "
            f"and dispute the job (see /jobs/{job.job_id})",
        )


class _Chunker:
    """OpenAI chunk objects for one job (a chat answer's leading whitespace dropped, as the
    non-streamed answer strips it)."""

    def __init__(self, job: StreamedJob) -> None:
        self.job = job
        self._started = not job.chat
        self._head = {
            "id": f"{'chatcmpl' if job.chat else 'cmpl'}-{job.job_id}",
            "object": "chat.completion.chunk" if job.chat else "text_completion",
            "created": job.created,
            "model": job.model,
        }

    def text(self, piece: str) -> str:
        if not self._started:
            piece = piece.lstrip()
            self._started = bool(piece)
        return piece

    def data(self, content: Any, finish_reason: str | None = None) -> bytes:
        if self.job.chat:
            choice = {"index": 0, "delta": content, "logprobs": None}
        else:
            choice = {"index": 0, "text": content, "logprobs": None}
        choice["finish_reason"] = finish_reason
        extra = {"usage": None} if self.job.include_usage else {}
        return _event({**self._head, "choices": [choice], **extra})

    def usage(self, prompt_tokens: int, completion_tokens: int) -> bytes:
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        return _event({**self._head, "choices": [], "usage": usage})


def _event(value: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(value, separators=(",", ":")).encode() + b"\n\n"


def _error(code: str, message: str, status: int) -> bytes:
    error = {"message": message, "type": openai_error_type(status), "param": None, "code": code}
    return _event({"error": error})
