"""Replies a real node never sends in tests: corrupted bytes, Kubo's reply shapes, garbage.

These use a tiny in-process fake behind ``httpx.MockTransport``: a correct local node will
not corrupt data, yet the client must catch it when one does. Everything the real node can
show is tested against it in test_client.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from inferchain.ipfs import (
    CidMismatch,
    IpfsClient,
    IpfsNotFound,
    IpfsRpcError,
    IpfsTimeout,
    IpfsUnavailable,
    UnsupportedDag,
    file_cid,
    tree_entry,
)
from inferchain.ipfs._dagpb import PbNode, encode_node
from inferchain.ipfs.cid import DAG_PB, Cid
from inferchain.ipfs.unixfs import CHUNK_SIZE

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler) -> IpfsClient:
    return IpfsClient("http://ipfs.invalid:5001", timeout=5, transport=httpx.MockTransport(handler))


def _error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"Message": message, "Code": 0, "Type": "error"})


@pytest.mark.parametrize("size", [10, 3 * CHUNK_SIZE])
def test_corrupted_cat_is_rejected(size: int) -> None:
    data = os.urandom(size)
    corrupted = bytes([data[0] ^ 0xFF]) + data[1:]
    client = _client(lambda request: httpx.Response(200, content=corrupted))
    with pytest.raises(CidMismatch) as caught:
        client.cat(file_cid(data))
    assert caught.value.expected == file_cid(data)


def test_truncated_cat_is_rejected() -> None:
    data = os.urandom(CHUNK_SIZE + 1)
    client = _client(lambda request: httpx.Response(200, content=data[:-1]))
    with pytest.raises(CidMismatch):
        client.cat(file_cid(data))


def test_corrupted_download_leaves_no_file(tmp_path: Path) -> None:
    data = os.urandom(1000)
    client = _client(lambda request: httpx.Response(200, content=data[::-1]))
    with pytest.raises(CidMismatch):
        client.download(file_cid(data), tmp_path / "out.bin")
    assert list(tmp_path.iterdir()) == []


def test_a_forged_directory_block_is_rejected() -> None:
    real = tree_entry({"a": b"1"}).cid
    forged = encode_node(PbNode((), b"\x08\x01"))  # an empty directory instead
    client = _client(lambda request: httpx.Response(200, content=forged))
    with pytest.raises(CidMismatch, match="block"):
        client.cat_path(real, "a")


def test_a_block_that_is_not_unixfs_is_unsupported() -> None:
    block = encode_node(PbNode((), b"\x10\x01"))  # Data without a UnixFS Type
    cid = Cid.for_raw_block(block)
    dag_cid = Cid(1, DAG_PB, cid.digest)
    client = _client(lambda request: httpx.Response(200, content=block))
    with pytest.raises(UnsupportedDag):
        client.ls(dag_cid)


def test_a_sharded_directory_is_unsupported() -> None:
    block = encode_node(PbNode((), b"\x08\x05"))
    cid = Cid(1, DAG_PB, Cid.for_raw_block(block).digest)
    client = _client(lambda request: httpx.Response(200, content=block))
    with pytest.raises(UnsupportedDag, match="HAMT"):
        client.ls(cid)


def test_an_add_answering_another_cid_is_rejected() -> None:
    other = str(file_cid(b"something else"))
    client = _client(lambda request: httpx.Response(200, json={"Name": "blob", "Hash": other}))
    with pytest.raises(CidMismatch, match="different DAG"):
        client.add_bytes(b"data")


def test_requests_are_posts_with_explicit_import_settings() -> None:
    seen: list[httpx.Request] = []
    data = b"hello"

    def node(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/add"):
            return httpx.Response(200, json={"Name": "blob", "Hash": str(file_cid(data))})
        return httpx.Response(200, content=data)

    client = _client(node)
    client.cat(client.add_bytes(data, pin=False), timeout=2.5, max_size=99)
    add, cat = seen
    assert {add.method, cat.method} == {"POST"}
    assert add.url.path == "/api/v0/add"
    assert dict(add.url.params) == {
        "cid-version": "1",
        "raw-leaves": "true",
        "cid-base": "base32",
        "chunker": "size-262144",
        "hash": "sha2-256",
        "pin": "false",
    }
    expected_cat = {"arg": str(file_cid(data)), "length": "100", "timeout": "2500ms"}
    assert dict(cat.url.params) == expected_cat


def test_kubo_reply_shapes_are_understood() -> None:
    data = os.urandom(CHUNK_SIZE + 1)
    cid = file_cid(data)
    raw_pin = file_cid(b"x")

    def kubo(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v0/")
        if path == "add":  # Kubo prints Size as a string
            added = {"Name": "blob", "Hash": str(cid), "Size": "262158"}
            return httpx.Response(200, text=json.dumps(added) + "\n")
        if path == "pin/ls" and "arg" in request.url.params:
            return _error(500, f"path '{request.url.params['arg']}' is not pinned")
        if path == "pin/ls":  # streamed form, one object per line
            lines = [{"Cid": str(c), "Type": "recursive"} for c in (cid, raw_pin)]
            return httpx.Response(200, text="\n".join(json.dumps(x) for x in lines))
        if path == "pin/rm":
            return _error(500, "not pinned or pinned indirectly")
        if path == "cat":
            return _error(500, "context deadline exceeded")
        return _error(404, "404 page not found")

    client = _client(kubo)
    assert client.add_bytes(data) == cid
    assert client.pins() == {cid, raw_pin}
    assert not client.is_pinned(cid)
    with pytest.raises(IpfsNotFound):
        client.unpin(cid)
    with pytest.raises(IpfsTimeout, match="deadline"):
        client.cat(cid)
    with pytest.raises(IpfsRpcError) as caught:
        client.version()
    assert caught.value.status == 404


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(502, text="Bad Gateway"),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json={"Name": "blob"}),
        httpx.Response(200, json={"Name": "blob", "Hash": "bafy-bogus"}),
        httpx.Response(200, json=["not", "objects"]),
    ],
    ids=["502", "not-json", "no-hash", "bad-cid", "not-objects"],
)
def test_malformed_add_replies_are_rpc_errors(reply: httpx.Response) -> None:
    with pytest.raises(IpfsRpcError):
        _client(lambda request: reply).add_bytes(b"x")


def test_unknown_pin_replies_are_rpc_errors() -> None:
    client = _client(lambda request: httpx.Response(200, json={"Pins": []}))
    with pytest.raises(IpfsRpcError, match="does not list"):
        client.pin(file_cid(b"x"))
    client = _client(lambda request: httpx.Response(200, json={"Version": 3}))
    with pytest.raises(IpfsRpcError, match="unexpected reply"):
        client.version()


def test_transport_failures_are_translated() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    with pytest.raises(IpfsTimeout):
        _client(slow).version()
    with pytest.raises(IpfsUnavailable, match="peer closed"):
        _client(broken).version()
