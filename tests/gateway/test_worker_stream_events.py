"""A hostile worker's stream bytes: the gateway's reader bounds them before buffering."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from inferchain.gateway.errors import GatewayError
from inferchain.gateway.market import worker_stream
from inferchain.gateway.market.worker_stream import MAX_LINE_CHARS, WorkerStreamError


def _read(chunks: Iterator[bytes], deadline: float | None = None) -> list[tuple[str, dict]]:
    limit = time.monotonic() + 60 if deadline is None else deadline
    return list(worker_stream._events(worker_stream._lines(chunks, limit, 7)))


def test_an_endless_line_is_refused_after_the_limit_not_buffered_whole() -> None:
    sent = 0

    def endless() -> Iterator[bytes]:
        nonlocal sent
        while True:
            sent += 1 << 16
            yield b"x" * (1 << 16)

    with pytest.raises(WorkerStreamError) as caught:
        _read(endless())
    assert caught.value.code == "stream.malformed"
    assert sent <= MAX_LINE_CHARS + (1 << 16)


def test_data_lines_without_an_end_are_refused_past_the_limit() -> None:
    line = b"data: " + b"1" * 1000 + b"\n"
    with pytest.raises(WorkerStreamError) as caught:
        _read(iter([line] * (MAX_LINE_CHARS // 1000 + 2)))
    assert caught.value.code == "stream.malformed"


def test_keepalives_cannot_hold_the_stream_past_its_deadline() -> None:
    def keepalives() -> Iterator[bytes]:
        while True:
            yield b": keepalive\n\n"

    with pytest.raises(GatewayError) as caught:
        _read(keepalives(), deadline=time.monotonic() + 0.05)
    assert caught.value.code == "openai.timeout" and caught.value.status == 504


def test_bad_utf8_is_replaced_and_crlf_and_split_chunks_are_read() -> None:
    body = (
        b'event: token\r\ndata: {"text": "a\xffb"}\r\n\r\nevent: tok'
        + b'en\ndata: {"text": "c"}\n\n'
    )
    events = _read(iter([body[:20], body[20:]]))
    assert events == [("token", {"text": "a\ufffdb"}), ("token", {"text": "c"})]


def test_deeply_nested_event_data_is_malformed_not_a_crash() -> None:
    body = b"event: token\ndata: " + b"[" * 100_000 + b"\n\n"
    with pytest.raises(WorkerStreamError) as caught:
        _read(iter([body]))
    assert caught.value.code == "stream.malformed"


def test_a_refusal_body_is_read_only_up_to_its_limit() -> None:
    sent = 0

    def endless() -> Iterator[bytes]:
        nonlocal sent
        while True:
            sent += 1 << 16
            yield b" " * (1 << 16)

    assert worker_stream._error_code(endless()) == ""
    assert sent <= worker_stream.MAX_METADATA_BYTES + (1 << 16)
    refusal = [b'{"error": {"code": "stream.', b'unauthorised"}}']
    assert worker_stream._error_code(iter(refusal)) == "stream.unauthorised"
