"""A stream opened before its job is held: readers see nothing until the claim is won, and
only ``job.lost`` when it is not (pure: threads and a condition, no chain)."""

from __future__ import annotations

import threading

from inferchain.worker.streams import JobStream, StreamHub


def _reader(stream: JobStream, closed: threading.Event) -> tuple[threading.Thread, list]:
    got: list = []

    def read() -> None:
        got.extend(e for e in stream.read(0.05, closed) if e is not None)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


def test_unconfirmed_stream_shows_readers_its_text_only_once_confirmed() -> None:
    closed = threading.Event()
    stream = JobStream(1, "0xrequester", "0xtoken", held=False)
    thread, got = _reader(stream, closed)
    stream.put("Once")
    stream.put(" upon")
    stream.finish({"output_cid": "bafy"})
    thread.join(0.3)
    assert thread.is_alive() and got == []  # decoded, not yet shown
    stream.confirm()
    thread.join(5)
    assert [(e.kind, e.data) for e in got] == [
        ("token", {"text": "Once"}),
        ("token", {"text": " upon"}),
        ("done", {"output_cid": "bafy"}),
    ]


def test_dropped_stream_gives_its_readers_one_error_and_no_text() -> None:
    closed = threading.Event()
    stream = JobStream(2, "0xrequester", "0xtoken", held=False)
    early, got_early = _reader(stream, closed)
    stream.put("a rival's")
    stream.drop("job.lost", "another worker claimed this job first")
    stream.confirm()  # too late: a lost job stays lost
    late, got_late = _reader(stream, closed)
    for thread in (early, late):
        thread.join(5)
        assert not thread.is_alive()
    for got in (got_early, got_late):
        assert [(e.kind, e.data["code"]) for e in got] == [("error", "job.lost")]
    assert stream.ended and not stream.held


def test_dropping_a_confirmed_stream_ends_it_with_an_error_after_its_text() -> None:
    stream = JobStream(3, "0xrequester", "0xtoken")
    stream.put("text")
    stream.drop("job.lost", "gone")
    events = [e for e in stream.read(0.05, threading.Event()) if e is not None]
    assert [e.kind for e in events] == ["token", "error"]


def test_restarting_an_unconfirmed_stream_releases_its_readers() -> None:
    hub = StreamHub()
    old = hub.open(4, "0xrequester", "0xtoken", held=False)
    old.put("first try")
    thread, got = _reader(old, hub.closed)
    new = hub.open(4, "0xrequester", "0xtoken", held=False)
    thread.join(5)
    assert [(e.kind, e.data["code"]) for e in got] == [("error", "stream.restarted")]
    assert hub.get(4) is new and not new.ended
    hub.confirm(4)
    assert new.held


def test_hub_close_releases_readers_of_unconfirmed_streams() -> None:
    hub = StreamHub()
    stream = hub.open(5, "0xrequester", "0xtoken", held=False)
    thread, got = _reader(stream, hub.closed)
    hub.close()
    thread.join(5)
    assert not thread.is_alive() and got == []
