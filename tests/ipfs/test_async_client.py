"""AsyncIpfsClient against the real node: the same operations as the sync client, awaited."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from inferchain.devstack import free_port
from inferchain.ipfs import (
    AsyncIpfsClient,
    Cid,
    CidMismatch,
    IpfsNotFound,
    IpfsTimeout,
    IpfsTooLarge,
    IpfsUnavailable,
    file_cid,
    path_entry,
    tree_entry,
)
from inferchain.ipfs.unixfs import CHUNK_SIZE

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_round_trip(ipfs_api_url: str, tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 1)
    async with AsyncIpfsClient(ipfs_api_url, timeout=30) as ipfs:
        assert await ipfs.version()
        assert await ipfs.healthy()
        cid = await ipfs.add_bytes(data, pin=False)
        assert cid == file_cid(data)
        assert await ipfs.cat(cid) == data
        assert (await ipfs.download(cid, tmp_path / "d.bin")).read_bytes() == data
        with pytest.raises(IpfsTooLarge):
            await ipfs.cat(cid, max_size=10)

        await ipfs.pin(cid)
        assert await ipfs.is_pinned(cid)
        assert cid in await ipfs.pins()
        await ipfs.unpin(cid)
        assert not await ipfs.is_pinned(cid)
        with pytest.raises(IpfsNotFound):
            await ipfs.unpin(cid)


async def test_directories(ipfs_api_url: str, tmp_path: Path) -> None:
    tree = {"a.txt": b"A", "sub": {"b.bin": os.urandom(300_000)}}
    (tmp_path / "w.bin").write_bytes(b"weights")
    async with AsyncIpfsClient(ipfs_api_url, timeout=30) as ipfs:
        root = await ipfs.add_tree(tree)
        assert root == tree_entry(tree).cid
        assert [e.name for e in await ipfs.ls(root)] == ["a.txt", "sub"]
        assert await ipfs.cat_path(root, "sub/b.bin") == tree["sub"]["b.bin"]  # type: ignore[index]
        assert await ipfs.resolve(root, "a.txt") == file_cid(b"A")
        assert await ipfs.add_directory(tmp_path) == path_entry(tmp_path).cid
        assert await ipfs.add_file(tmp_path / "w.bin") == file_cid(b"weights")


async def test_missing_cid_times_out(ipfs_api_url: str) -> None:
    missing = Cid.for_raw_block(os.urandom(32))
    started = time.monotonic()
    async with AsyncIpfsClient(ipfs_api_url, timeout=30) as ipfs:
        with pytest.raises(IpfsTimeout):
            await ipfs.cat(missing, timeout=0.5)
    assert time.monotonic() - started < 3


async def test_node_down_is_unavailable() -> None:
    async with AsyncIpfsClient(f"http://127.0.0.1:{free_port()}", timeout=2) as down:
        assert not await down.healthy()
        with pytest.raises(IpfsUnavailable):
            await down.add_bytes(b"x")


async def test_corrupted_content_is_rejected() -> None:
    data = os.urandom(CHUNK_SIZE + 5)
    fake = httpx.MockTransport(lambda request: httpx.Response(200, content=data[1:] + b"!"))
    async with AsyncIpfsClient("http://ipfs.invalid", timeout=5, transport=fake) as ipfs:
        with pytest.raises(CidMismatch):
            await ipfs.cat(file_cid(data))
