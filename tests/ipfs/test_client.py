"""IpfsClient against a real IPFS node: the node's CIDs equal the local ones, reads verify."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from inferchain.devstack import free_port
from inferchain.errors import ConfigError
from inferchain.ipfs import (
    Cid,
    ImportParams,
    InvalidCid,
    IpfsClient,
    IpfsNotFound,
    IpfsRpcError,
    IpfsTimeout,
    IpfsTooLarge,
    IpfsUnavailable,
    UnsupportedDag,
    file_cid,
    path_entry,
    tree_entry,
)
from inferchain.ipfs.unixfs import CHUNK_SIZE, MAX_LINKS

# A CID nothing stores: on an offline node, asking for it waits until the timeout.
MISSING = Cid.for_raw_block(b"inferchain: no node holds this block " + os.urandom(16))


@pytest.fixture
def ipfs(ipfs_api_url: str) -> Iterator[IpfsClient]:
    with IpfsClient(ipfs_api_url, timeout=30) as client:
        yield client


def _node_add(api_url: str, data: bytes, **params: str) -> Cid:
    """The node's own CID for ``data``, asked without the client (to check the client)."""
    query = {"cid-version": "1", "raw-leaves": "true", "only-hash": "true", **params}
    reply = httpx.post(f"{api_url}/api/v0/add", params=query, files={"file": ("f", data)})
    reply.raise_for_status()
    return Cid.parse(json.loads(reply.text.splitlines()[-1])["Hash"])


SIZES = {
    "0 B": 0,
    "1 B": 1,
    "256 KiB": CHUNK_SIZE,
    "256 KiB + 1 B": CHUNK_SIZE + 1,
    "5 MiB": 5 << 20,
}


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_add_bytes_gets_the_local_cid_and_reads_back(ipfs: IpfsClient, size: int) -> None:
    data = os.urandom(size)
    cid = ipfs.add_bytes(data)
    assert cid == file_cid(data)
    assert cid.codec == (0x55 if size <= CHUNK_SIZE else 0x70)
    assert ipfs.cat(cid) == data


def test_file_over_174_chunks_matches_the_node(ipfs: IpfsClient) -> None:
    data = os.urandom(MAX_LINKS * CHUNK_SIZE + 1)  # 45.6 MB: a root over two parents
    assert ipfs.add_bytes(data, only_hash=True) == file_cid(data)


def test_three_level_dag_matches_the_node(ipfs_api_url: str) -> None:
    # 16-byte chunks reach a third level with half a megabyte.
    data = os.urandom(MAX_LINKS * MAX_LINKS * 16 + 17)
    node = _node_add(ipfs_api_url, data, chunker="size-16")
    assert node == file_cid(data, ImportParams(chunk_size=16))


def test_cid_v0_files_verify_with_dag_pb_leaves(ipfs: IpfsClient, ipfs_api_url: str) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 5)
    legacy = {"cid-version": "0", "raw-leaves": "false", "only-hash": "false"}
    cid = _node_add(ipfs_api_url, data, **legacy)
    assert cid.version == 0
    assert cid == file_cid(data, ImportParams(raw_leaves=False, cid_version=0))
    assert ipfs.cat(cid) == data


def test_add_file_streams_from_disk(ipfs: IpfsClient, tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 3)
    (tmp_path / "model.bin").write_bytes(data)
    assert ipfs.add_file(tmp_path / "model.bin") == file_cid(data)


TREE = {
    "config.json": b'{"d_model": 128}',
    "weights": {"model.safetensors": os.urandom(CHUNK_SIZE + 100), "empty.bin": b""},
    "no files here": {},
    "naïve %+ name.txt": b"escaped on the wire",
}


def test_add_tree_gets_the_local_directory_cid(ipfs: IpfsClient) -> None:
    root = ipfs.add_tree(TREE)
    assert root == tree_entry(TREE).cid
    assert {e.name for e in ipfs.ls(root)} == set(TREE)
    weights = ipfs.cat_path(root, "weights/model.safetensors")
    assert weights == TREE["weights"]["model.safetensors"]  # type: ignore[index]
    assert ipfs.cat_path(root, "/naïve %+ name.txt") == b"escaped on the wire"
    assert ipfs.resolve(root, "weights/empty.bin") == file_cid(b"")


def test_add_directory_gets_the_local_directory_cid(ipfs: IpfsClient, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "big.bin").write_bytes(os.urandom(CHUNK_SIZE * 2))
    (tmp_path / ".hidden").write_bytes(b"kept")
    (tmp_path / "empty").mkdir()
    root = ipfs.add_directory(tmp_path)
    assert root == path_entry(tmp_path).cid
    assert ipfs.cat_path(root, ".hidden") == b"kept"


def test_add_directory_refuses_symlinks(ipfs: IpfsClient, tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to("/etc/hostname")
    with pytest.raises(UnsupportedDag, match="symlink"):
        ipfs.add_directory(tmp_path)


def test_add_refuses_the_wrong_kind_of_path(ipfs: IpfsClient, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(FileNotFoundError):
        ipfs.add_file(tmp_path)
    with pytest.raises(NotADirectoryError):
        ipfs.add_directory(tmp_path / "f")


def test_cat_of_a_missing_cid_times_out_quickly(ipfs: IpfsClient) -> None:
    started = time.monotonic()
    with pytest.raises(IpfsTimeout):
        ipfs.cat(MISSING, timeout=0.5)
    assert time.monotonic() - started < 3


def test_directory_reads_of_a_missing_cid_time_out(ipfs: IpfsClient) -> None:
    missing_dir = Cid(1, 0x70, MISSING.digest)
    with pytest.raises(IpfsTimeout):
        ipfs.ls(missing_dir, timeout=0.5)
    with pytest.raises(IpfsTimeout):
        ipfs.cat_path(missing_dir, "a/b", timeout=0.5)


def test_max_size_is_enforced(ipfs: IpfsClient) -> None:
    data = os.urandom(CHUNK_SIZE + 10)
    cid = ipfs.add_bytes(data)
    assert ipfs.cat(cid, max_size=len(data)) == data
    with pytest.raises(IpfsTooLarge) as caught:
        ipfs.cat(cid, max_size=len(data) - 1)
    assert caught.value.max_size == len(data) - 1


def test_download_writes_only_verified_files(ipfs: IpfsClient, tmp_path: Path) -> None:
    data = os.urandom(CHUNK_SIZE * 3)
    cid = ipfs.add_bytes(data)
    assert ipfs.download(cid, tmp_path / "w.bin").read_bytes() == data
    with pytest.raises(IpfsTooLarge):
        ipfs.download(cid, tmp_path / "small.bin", max_size=100)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.bin"]  # no partial file left


def test_pin_unpin_and_list(ipfs: IpfsClient) -> None:
    cid = ipfs.add_bytes(os.urandom(64), pin=False)
    assert not ipfs.is_pinned(cid)
    assert cid not in ipfs.pins()
    ipfs.pin(cid)
    assert ipfs.is_pinned(cid)
    assert cid in ipfs.pins()
    ipfs.unpin(cid)
    assert not ipfs.is_pinned(cid)
    with pytest.raises(IpfsNotFound):
        ipfs.unpin(cid)


def test_add_pins_by_default_and_children_count_as_pinned(ipfs: IpfsClient) -> None:
    child = os.urandom(100)
    root = ipfs.add_tree({"x": child})
    assert root in ipfs.pins()
    assert ipfs.is_pinned(file_cid(child))  # kept by its pinned parent


def test_pinning_a_missing_cid_times_out(ipfs: IpfsClient) -> None:
    with pytest.raises(IpfsTimeout):
        ipfs.pin(MISSING, timeout=0.5)


def test_cat_of_a_directory_is_a_node_error(ipfs: IpfsClient) -> None:
    root = ipfs.add_tree({"a": b"1"})
    with pytest.raises(IpfsRpcError, match="directory") as caught:
        ipfs.cat(root)
    assert caught.value.status == 500


def test_paths_through_files_are_not_found(ipfs: IpfsClient) -> None:
    root = ipfs.add_tree({"a": os.urandom(CHUNK_SIZE + 1), "b": b"2"})
    with pytest.raises(IpfsNotFound, match="no entry 'c'"):
        ipfs.cat_path(root, "c")
    with pytest.raises(IpfsNotFound, match="file, not a directory"):
        ipfs.cat_path(root, "a/x")
    with pytest.raises(IpfsNotFound, match="raw block"):
        ipfs.cat_path(root, "b/x")


@pytest.mark.parametrize("text", ["", "QmNope", "bafy-not-base32", "/ipfs/"])
def test_invalid_cids_are_refused_before_any_request(text: str) -> None:
    offline = IpfsClient(f"http://127.0.0.1:{free_port()}", timeout=1)
    for call in (offline.cat, offline.pin, offline.unpin, offline.is_pinned, offline.ls):
        with pytest.raises(InvalidCid):
            call(text)
    with pytest.raises(InvalidCid):
        offline.cat_path(text, "a")


def test_node_down_is_unavailable() -> None:
    with IpfsClient(f"http://127.0.0.1:{free_port()}", timeout=2) as down:
        assert not down.healthy()
        with pytest.raises(IpfsUnavailable):
            down.version()
        with pytest.raises(IpfsUnavailable):
            down.add_bytes(b"x")
        with pytest.raises(ConnectionError):  # also the builtin it resembles
            down.cat(MISSING)


def test_version_and_health(ipfs: IpfsClient) -> None:
    assert ipfs.version()
    assert ipfs.healthy()


@pytest.mark.parametrize("url", ["127.0.0.1:5001", "ftp://127.0.0.1:5001", "http://"])
def test_bad_api_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        IpfsClient(url)


def test_non_positive_timeouts_are_refused(ipfs: IpfsClient) -> None:
    with pytest.raises(ValueError):
        IpfsClient("http://127.0.0.1:5001", timeout=0)
    with pytest.raises(ValueError):
        ipfs.cat(MISSING, timeout=-1)
