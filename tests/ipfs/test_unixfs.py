"""Local UnixFS hashing without a node: known CIDs, streaming, verification, refusals.

Agreement with a real node's DAGs is tested in test_client.py.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferchain.ipfs import (
    DAG_PB,
    Cid,
    CidMismatch,
    FileHasher,
    ImportParams,
    UnsupportedDag,
    Verifier,
    file_cid,
    path_entry,
    tree_entry,
    verify_bytes,
)
from inferchain.ipfs._dagpb import (
    PbLink,
    PbNode,
    UnixFsData,
    UnixFsType,
    decode_node,
    decode_unixfs,
    encode_node,
    encode_unixfs,
)
from inferchain.ipfs.unixfs import CHUNK_SIZE, directory_entry, file_entry

V0 = ImportParams(raw_leaves=False, cid_version=0)
SMALL = ImportParams(chunk_size=4, max_links=3)  # deep trees from a few bytes


def test_well_known_cids() -> None:
    # The empty file and empty directory every IPFS implementation agrees on.
    assert str(file_cid(b"")) == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert str(file_cid(b"", V0)) == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    assert str(tree_entry({}).cid) == "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"
    assert str(tree_entry({}, V0).cid) == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"


def test_one_chunk_file_is_a_raw_block() -> None:
    data = os.urandom(CHUNK_SIZE)
    assert file_cid(data) == Cid.for_raw_block(data)


def test_two_chunk_file_is_a_dag_pb_node() -> None:
    entry = FileHasher()
    entry.update(os.urandom(CHUNK_SIZE + 1))
    root = entry.finish()
    assert root.cid.codec == 0x70
    assert root.size == CHUNK_SIZE + 1
    assert root.tsize > root.size  # content plus the root block


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(min_value=0, max_value=200), max_size=6))
def test_streamed_slices_give_the_balanced_layout(data: bytes, cuts: list[int]) -> None:
    hasher = FileHasher(SMALL)
    bounds = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    for start, end in itertools.pairwise(bounds):
        hasher.update(data[start:end])
    assert hasher.finish().cid == _balanced_reference(data, SMALL)


Summary = tuple[Cid, int, int]  # cid, tsize, content size


def _balanced_reference(data: bytes, params: ImportParams) -> Cid:
    """The balanced layout stated plainly: batch each level by max_links until one is left."""
    size = params.chunk_size
    chunks = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    level: list[Summary] = [(Cid.for_raw_block(c), len(c), len(c)) for c in chunks]
    while len(level) > 1:
        step = params.max_links
        level = [_reference_parent(level[i : i + step]) for i in range(0, len(level), step)]
    return level[0][0]


def _reference_parent(children: list[Summary]) -> Summary:
    sizes = tuple(size for _, _, size in children)
    meta = encode_unixfs(UnixFsData(UnixFsType.FILE, filesize=sum(sizes), blocksizes=sizes))
    links = tuple(PbLink(cid.to_bytes(), "", tsize) for cid, tsize, _ in children)
    block = encode_node(PbNode(links, meta))
    cid = Cid(1, DAG_PB, hashlib.sha256(block).digest())
    return cid, len(block) + sum(tsize for _, tsize, _ in children), sum(sizes)


def test_hasher_cannot_be_reused() -> None:
    hasher = FileHasher()
    hasher.finish()
    with pytest.raises(RuntimeError):
        hasher.update(b"x")
    with pytest.raises(RuntimeError):
        hasher.finish()


@pytest.mark.parametrize(
    "kwargs", [{"chunk_size": 0}, {"max_links": 1}, {"raw_leaves": True, "cid_version": 0}]
)
def test_import_params_are_validated(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ImportParams(**kwargs)  # type: ignore[arg-type]


def test_params_for_cid_follow_the_version() -> None:
    assert ImportParams.for_cid(file_cid(b"x")) == ImportParams()
    assert ImportParams.for_cid(file_cid(b"x", V0)) == V0


@pytest.mark.parametrize("size", [0, 5, CHUNK_SIZE, 3 * CHUNK_SIZE + 7])
@pytest.mark.parametrize("params", [ImportParams(), V0], ids=["v1", "v0"])
def test_verifier_accepts_the_content_and_rejects_anything_else(
    size: int, params: ImportParams
) -> None:
    data = os.urandom(size)
    cid = file_cid(data, params)
    verify_bytes(cid, data)
    tampered = bytes([data[0] ^ 1]) + data[1:] if data else b"\0"
    for wrong in (tampered, data + b"\0", data[:-1]):
        if wrong == data:
            continue
        with pytest.raises(CidMismatch) as caught:
            verify_bytes(cid, wrong)
        assert caught.value.expected == cid
        assert caught.value.actual not in (None, cid)


def test_streaming_verifier() -> None:
    data = os.urandom(2 * CHUNK_SIZE + 3)
    verifier = Verifier(file_cid(data))
    for start in range(0, len(data), 100_000):
        verifier.update(data[start : start + 100_000])
    verifier.verify()


def test_verifier_refuses_foreign_codecs() -> None:
    with pytest.raises(UnsupportedDag, match="0x71"):
        Verifier(Cid(1, 0x71, b"\0" * 32))


def test_directory_links_are_sorted_by_name_bytes() -> None:
    tree: dict[str, object] = {"b": b"2", "a": b"1", "B": b"3", "é": b"4"}
    root = tree_entry(tree)  # type: ignore[arg-type]
    assert root == tree_entry(dict(reversed(list(tree.items()))))  # type: ignore[arg-type]


def test_directory_tsize_counts_every_block_below() -> None:
    child = file_entry(os.urandom(CHUNK_SIZE + 1))  # two raw leaves and a dag-pb root
    assert child.tsize > child.size == CHUNK_SIZE + 1
    root = directory_entry({"f": child})
    block = encode_node(PbNode((PbLink(child.cid.to_bytes(), "f", child.tsize),), b"\x08\x01"))
    assert root.cid == Cid(1, DAG_PB, hashlib.sha256(block).digest())
    assert root.tsize == len(block) + child.tsize


@pytest.mark.parametrize("name", ["", "a/b", ".", ".."])
def test_invalid_entry_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid directory entry name"):
        tree_entry({name: b"x"})


def test_directories_that_nodes_would_shard_are_refused() -> None:
    with pytest.raises(UnsupportedDag, match="HAMT"):
        tree_entry({f"f{i}": b"" for i in range(1001)})


def test_path_entry_matches_the_in_memory_tree(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "w.bin").write_bytes(b"weights")
    (tmp_path / ".hidden").write_bytes(b"")
    (tmp_path / "empty").mkdir()
    expected = tree_entry({"sub": {"w.bin": b"weights"}, ".hidden": b"", "empty": {}})
    assert path_entry(tmp_path) == expected
    assert path_entry(tmp_path / "sub" / "w.bin").cid == file_cid(b"weights")


def test_path_entry_refuses_symlinks(tmp_path: Path) -> None:
    (tmp_path / "target").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    with pytest.raises(UnsupportedDag, match="symlink"):
        path_entry(tmp_path)


def test_dag_pb_round_trip_and_canonical_order() -> None:
    node = PbNode((PbLink(b"\x01\x55", "", 3),), b"\x08\x02")
    raw = encode_node(node)
    assert raw.index(b"\x12") < raw.index(b"\x0a\x02\x08\x02")  # Links before Data
    assert decode_node(raw) == node
    assert decode_unixfs(b"\x08\x02\x18\x05\x20\x05").filesize == 5


@pytest.mark.parametrize(
    "raw",
    [
        b"\x0a\x00\x12\x00",  # Data before Links
        b"\x12\x02\x12\x00",  # link without Hash
        b"\x12\x04\x12\x00\x0a\x00",  # link fields out of order
        b"\x18\x01",  # unknown node field
        b"\x0a\x05ab",  # truncated
        b"\x0d\x00\x00\x00\x00",  # fixed32 wire type
    ],
)
def test_malformed_dag_pb_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        decode_node(raw)


@pytest.mark.parametrize("raw", [b"", b"\x10\x01", b"\x08\x09"])
def test_malformed_unixfs_data_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        decode_unixfs(raw)
