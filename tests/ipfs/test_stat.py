"""``stat``: what a CID is (file and size, directory…) from its verified root block alone."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from inferchain.ipfs import Cid, IpfsClient, IpfsTimeout, UnsupportedDag
from inferchain.ipfs.unixfs import CHUNK_SIZE

MISSING = Cid.for_raw_block(b"inferchain: stat of a block no node holds " + os.urandom(16))


@pytest.fixture
def ipfs(ipfs_api_url: str) -> Iterator[IpfsClient]:
    with IpfsClient(ipfs_api_url, timeout=30) as client:
        yield client


def test_stat_gives_the_size_of_small_and_chunked_files(ipfs: IpfsClient) -> None:
    small, chunked = b"hello", os.urandom(2 * CHUNK_SIZE + 7)
    stat = ipfs.stat(ipfs.add_bytes(small))
    assert (stat.kind, stat.size) == ("file", len(small))
    stat = ipfs.stat(ipfs.add_bytes(chunked))
    assert (stat.kind, stat.size) == ("file", len(chunked))


def test_stat_of_a_directory_says_directory(ipfs: IpfsClient) -> None:
    root = ipfs.add_tree({"a": b"1", "sub": {"b": b"2"}})
    stat = ipfs.stat(root)
    assert (stat.cid, stat.kind, stat.size) == (root, "directory", None)


def test_stat_of_a_missing_cid_times_out_quickly(ipfs: IpfsClient) -> None:
    started = time.monotonic()
    with pytest.raises(IpfsTimeout):
        ipfs.stat(MISSING, timeout=0.5)
    assert time.monotonic() - started < 3


def test_stat_refuses_codecs_that_are_not_unixfs(ipfs: IpfsClient) -> None:
    dag_cbor = Cid(1, 0x71, MISSING.digest)
    with pytest.raises(UnsupportedDag, match="not a UnixFS"):
        ipfs.stat(dag_cbor, timeout=0.5)
