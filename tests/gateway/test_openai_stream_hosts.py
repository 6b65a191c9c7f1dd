"""Which worker stream URLs the gateway follows (``market.stream_hosts``), the setting that
allows private hosts, and the bounded cache of worker metadata documents."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from inferchain.gateway.market import worker_stream
from inferchain.gateway.market.stream_hosts import UnsafeStreamUrl, check_stream_url
from inferchain.gateway.market.worker_stream import WorkerStreamError
from inferchain.gateway.settings import GatewaySettings

NEVER = [
    "http://169.254.169.254/jobs/1/stream",  # cloud metadata
    "http://169.254.1.1:8080/x",
    "http://[fe80::1]/x",  # IPv6 link-local
    "http://[fd00:ec2::254]/x",  # AWS metadata over IPv6
    "http://[::ffff:169.254.169.254]/x",  # the same, IPv4-mapped
    "http://100.100.100.200/x",  # Alibaba metadata
    "http://0.0.0.0:80/x",
    "http://224.0.0.1/x",  # multicast
]
PRIVATE = [
    "http://127.0.0.1:9000/jobs/1/stream",
    "http://localhost:9000/x",
    "http://10.1.2.3/x",
    "http://192.168.1.5/x",
    "http://172.16.0.1/x",
    "http://[::1]:9000/x",
]


@pytest.mark.parametrize("url", NEVER)
def test_link_local_and_metadata_hosts_are_refused_even_when_private_ones_are_allowed(
    url: str,
) -> None:
    with pytest.raises(UnsafeStreamUrl):
        check_stream_url(url, allow_private=True)


@pytest.mark.parametrize("url", PRIVATE)
def test_private_hosts_only_when_allowed(url: str) -> None:
    check_stream_url(url, allow_private=True)
    with pytest.raises(UnsafeStreamUrl, match="private"):
        check_stream_url(url, allow_private=False)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "scheme"),
        ("gopher://127.0.0.1/x", "scheme"),
        ("ftp://8.8.8.8/x", "scheme"),
        ("http:///jobs/1/stream", "no host"),
        ("http://8.8.8.8:99999/x", "port"),
        ("http://no-such-host.invalid/x", "resolve"),
    ],
)
def test_what_is_not_an_http_url_to_a_resolvable_host_is_refused(url: str, why: str) -> None:
    with pytest.raises(UnsafeStreamUrl, match=why):
        check_stream_url(url, allow_private=True)


def test_public_address_is_followed() -> None:
    check_stream_url("https://8.8.8.8/jobs/1/stream", allow_private=False)


def test_private_worker_streams_follow_the_mode_unless_set() -> None:
    local = GatewaySettings()
    assert local.private_worker_streams is True
    secret = "s" * 40
    production = GatewaySettings(mode="production", secret_key=secret)
    assert production.private_worker_streams is False
    forced = GatewaySettings(mode="production", secret_key=secret, worker_stream_private_hosts=True)
    assert forced.private_worker_streams is True


def _contracts(digests: dict[str, bytes]) -> SimpleNamespace:
    """Only what ``stream_url`` reads: each worker's metadata digest."""

    def call(fn: SimpleNamespace) -> bytes:
        return digests[fn.worker]

    def metadata_digest(worker: str) -> SimpleNamespace:
        return SimpleNamespace(worker=worker)

    functions = SimpleNamespace(metadataDigest=metadata_digest)
    return SimpleNamespace(
        chain=SimpleNamespace(call=call), workers=SimpleNamespace(functions=functions)
    )


def test_metadata_cache_keeps_the_most_recently_used_documents(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: list[str] = []

    def read_template(_ipfs: object, worker: str, _digest: bytes) -> str:
        read.append(worker)
        return f"http://127.0.0.1:{9000 + len(read)}/jobs/{{job_id}}/stream"

    monkeypatch.setattr(worker_stream, "_read_template", read_template)
    monkeypatch.setattr(worker_stream, "METADATA_CACHE_SIZE", 2)
    monkeypatch.setattr(worker_stream, "_METADATA", type(worker_stream._METADATA)())
    c = _contracts({w: w.encode().ljust(32, b"\0") for w in ("a", "b", "c")})

    def url(worker: str) -> str:
        return worker_stream.stream_url(c, None, worker, 7, allow_private=True)  # type: ignore[arg-type]

    assert url("a").endswith("/jobs/7/stream")
    url("b")
    url("a")  # a is now the most recent
    url("c")  # evicts b
    assert len(worker_stream._METADATA) == 2
    url("a")
    url("b")  # read again
    assert read == ["a", "b", "c", "b"]


def test_unsafe_url_in_metadata_is_a_clear_stream_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        worker_stream, "_read_template", lambda *_: "http://169.254.169.254/{job_id}"
    )
    monkeypatch.setattr(worker_stream, "_METADATA", type(worker_stream._METADATA)())
    c = _contracts({"w": b"\1" * 32})
    with pytest.raises(WorkerStreamError) as caught:
        worker_stream.stream_url(c, None, "w", 1, allow_private=True)  # type: ignore[arg-type]
    assert caught.value.code == "stream.unsafe_url" and caught.value.status == 502
    assert "link-local or metadata" in caught.value.message
