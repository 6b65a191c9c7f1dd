"""Local UnixFS CIDs, so that no IPFS node has to be trusted about what bytes a CID names.

Recomputes what Kubo (and js-ipfs) build for ``ipfs add --cid-version=1 --raw-leaves``:
fixed 256 KiB chunks (``size-262144``), a balanced DAG of at most 174 links per node, raw
leaves. A file of one chunk (<= 256 KiB, the empty file included) is a single raw block, so
its CID is one sha256 of the bytes. Larger files get dag-pb parents whose UnixFS ``Data``
holds ``Type=File``, ``filesize`` and one ``blocksizes`` entry per child, and whose links
hold the child CID, an empty name and the child's cumulative size (``Tsize``).

The balanced layout equals batching bottom-up: leaves in groups of 174 under a parent,
parents in groups of 174 under a grandparent, until one root remains (every subtree but
the rightmost is full). Kubo builds it top-down and js-ipfs bottom-up; both agree.

CIDv0 (``Qm…``, Kubo's legacy default) is also recomputed: the same tree, but leaves are
dag-pb nodes holding ``Type=File, Data=chunk`` instead of raw blocks.

Directories are flat UnixFS directories: ``Type=Directory``, links sorted by name bytes,
``Tsize`` = the child's cumulative size. Above 1000 entries js-ipfs switches to a HAMT
shard (Kubo at 256 KiB of link data); those are refused with :class:`UnsupportedDag`
rather than silently computed wrong.

Not recomputed (refused or reported as a mismatch): other chunkers, trickle layout,
CIDv1 files made with ``--raw-leaves=false``, mode/mtime metadata, inlined identity CIDs,
Kubo's opt-in ``unixfs-v1-2025`` profile (1 MiB chunks, 1024 links).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from inferchain.ipfs._dagpb import (
    PbLink,
    PbNode,
    UnixFsData,
    UnixFsType,
    encode_node,
    encode_unixfs,
)
from inferchain.ipfs.cid import DAG_PB, RAW, Cid
from inferchain.ipfs.errors import CidMismatch, UnsupportedDag

CHUNK_SIZE = 262_144
MAX_LINKS = 174
MAX_FLAT_DIRECTORY = 1000
"""js-ipfs' ``shardSplitThreshold``: more entries than this become a HAMT shard."""

_READ_SIZE = 1 << 20

Tree = Mapping[str, Union[bytes, "Tree"]]
"""An in-memory directory: names to file contents or to sub-directories."""


@dataclass(frozen=True, slots=True)
class ImportParams:
    """How a node chunked and linked a file; the defaults are ``--cid-version=1``'s."""

    chunk_size: int = CHUNK_SIZE
    max_links: int = MAX_LINKS
    raw_leaves: bool = True
    cid_version: int = 1

    def __post_init__(self) -> None:
        if self.chunk_size <= 0 or self.max_links < 2:
            raise ValueError("chunk_size must be positive and max_links at least 2")
        if self.raw_leaves and self.cid_version == 0:
            raise ValueError("raw leaves need CIDv1")

    @classmethod
    def for_cid(cls, cid: Cid) -> ImportParams:
        """The defaults a node uses for a CID of this version (v0: dag-pb leaves)."""
        return cls() if cid.version == 1 else cls(raw_leaves=False, cid_version=0)


DEFAULT_PARAMS = ImportParams()


@dataclass(frozen=True, slots=True)
class DagEntry:
    """A built UnixFS node: its CID, ``tsize`` (bytes of all its blocks) and content size."""

    cid: Cid
    tsize: int
    size: int


class FileHasher:
    """Computes a file's UnixFS CID from bytes fed in any slices, in bounded memory.

    Memory stays at one chunk plus up to ``max_links`` link summaries per tree level.

    Example::

        >>> h = FileHasher()
        >>> h.update(b"hello ")
        >>> h.update(b"world")
        >>> str(h.finish().cid)
        'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'
    """

    def __init__(self, params: ImportParams = DEFAULT_PARAMS) -> None:
        self._params = params
        self._buffer = bytearray()
        self._levels: list[list[DagEntry]] = [[]]
        self._leaves = 0
        self._done = False

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Feed the next bytes of the file."""
        if self._done:
            raise RuntimeError("FileHasher already finished")
        view = memoryview(data).cast("B")
        size = self._params.chunk_size
        if self._buffer:
            take = size - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) < size:
                return
            self._add_leaf(bytes(self._buffer))
            self._buffer.clear()
        while len(view) >= size:
            self._add_leaf(bytes(view[:size]))
            view = view[size:]
        self._buffer += view

    def finish(self) -> DagEntry:
        """Close the file and return its root; the hasher cannot be fed afterwards."""
        if self._done:
            raise RuntimeError("FileHasher already finished")
        self._done = True
        if self._buffer or self._leaves == 0:
            self._add_leaf(bytes(self._buffer))
            self._buffer.clear()
        if self._leaves == 1:
            return self._levels[0][0]  # one chunk: the leaf itself is the file
        depth = 0
        while True:  # close partial groups bottom-up until one node remains on top
            level = self._levels[depth]
            if not any(self._levels[depth + 1 :]):
                return level[0] if len(level) == 1 else self._parent(level)
            if level:
                self._levels[depth] = []
                self._push(depth + 1, self._parent(level))
            depth += 1

    def _add_leaf(self, chunk: bytes) -> None:
        self._leaves += 1
        if self._params.raw_leaves:
            leaf = DagEntry(Cid(1, RAW, hashlib.sha256(chunk).digest()), len(chunk), len(chunk))
        else:
            meta = UnixFsData(UnixFsType.FILE, data=chunk, filesize=len(chunk))
            block = encode_node(PbNode((), encode_unixfs(meta)))
            leaf = DagEntry(self._dag_pb_cid(block), len(block), len(chunk))
        self._push(0, leaf)

    def _push(self, depth: int, entry: DagEntry) -> None:
        if depth == len(self._levels):
            self._levels.append([])
        level = self._levels[depth]
        level.append(entry)
        if len(level) == self._params.max_links:
            self._levels[depth] = []
            self._push(depth + 1, self._parent(level))

    def _parent(self, children: list[DagEntry]) -> DagEntry:
        size = sum(child.size for child in children)
        meta = UnixFsData(
            UnixFsType.FILE, filesize=size, blocksizes=tuple(c.size for c in children)
        )
        links = tuple(PbLink(c.cid.to_bytes(), "", c.tsize) for c in children)
        block = encode_node(PbNode(links, encode_unixfs(meta)))
        return DagEntry(self._dag_pb_cid(block), len(block) + sum(c.tsize for c in children), size)

    def _dag_pb_cid(self, block: bytes) -> Cid:
        return Cid(self._params.cid_version, DAG_PB, hashlib.sha256(block).digest())


def file_entry(data: bytes, params: ImportParams = DEFAULT_PARAMS) -> DagEntry:
    """The UnixFS root of a file holding ``data``."""
    hasher = FileHasher(params)
    hasher.update(data)
    return hasher.finish()


def file_cid(data: bytes, params: ImportParams = DEFAULT_PARAMS) -> Cid:
    """The CID a node gives ``data`` when added as a file with ``params``."""
    return file_entry(data, params).cid


def directory_entry(children: Mapping[str, DagEntry], cid_version: int = 1) -> DagEntry:
    """The flat UnixFS directory linking ``children`` by name."""
    if len(children) > MAX_FLAT_DIRECTORY:
        raise UnsupportedDag(
            f"{len(children)} entries: nodes shard directories this large (HAMT), "
            "which the local verifier does not recompute"
        )
    for name in children:
        _check_name(name)
    ordered = sorted(children.items(), key=lambda item: item[0].encode("utf-8"))
    links = tuple(PbLink(child.cid.to_bytes(), name, child.tsize) for name, child in ordered)
    block = encode_node(PbNode(links, encode_unixfs(UnixFsData(UnixFsType.DIRECTORY))))
    cid = Cid(cid_version, DAG_PB, hashlib.sha256(block).digest())
    return DagEntry(cid, len(block) + sum(link.tsize or 0 for link in links), 0)


def tree_entry(tree: Tree, params: ImportParams = DEFAULT_PARAMS) -> DagEntry:
    """The directory for an in-memory tree (``bytes`` values are files, mappings sub-dirs)."""
    children = {
        name: file_entry(value, params)
        if isinstance(value, bytes | bytearray)
        else tree_entry(value, params)
        for name, value in tree.items()
    }
    return directory_entry(children, params.cid_version)


def path_entry(path: str | os.PathLike[str], params: ImportParams = DEFAULT_PARAMS) -> DagEntry:
    """The file or directory at ``path``, read in 1 MiB slices; symlinks are refused.

    Matches what :meth:`IpfsClient.add_directory` uploads: every entry, hidden ones too.
    """
    path = Path(path)
    if path.is_symlink():
        raise UnsupportedDag(f"symlinks are not uploaded: {path}")
    if path.is_dir():
        children = {child.name: path_entry(child, params) for child in path.iterdir()}
        return directory_entry(children, params.cid_version)
    hasher = FileHasher(params)
    with path.open("rb") as stream:
        while chunk := stream.read(_READ_SIZE):
            hasher.update(chunk)
    return hasher.finish()


class Verifier:
    """Checks streamed file bytes against the CID they were requested by.

    Raw CIDs are one sha256; dag-pb CIDs are recomputed as UnixFS files with the node
    defaults for their version (:meth:`ImportParams.for_cid`).
    """

    def __init__(self, expected: Cid) -> None:
        if expected.codec not in (RAW, DAG_PB):
            raise UnsupportedDag(f"cannot verify content of codec 0x{expected.codec:x}")
        self.expected = expected
        self._sha = hashlib.sha256() if expected.codec == RAW else None
        self._file = None if self._sha else FileHasher(ImportParams.for_cid(expected))

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Feed the next bytes."""
        if self._sha is not None:
            self._sha.update(data)
        else:
            assert self._file is not None
            self._file.update(data)

    def verify(self) -> None:
        """Raise :class:`CidMismatch` unless the bytes fed so far are the CID's content."""
        if self._sha is not None:
            actual = Cid(self.expected.version, RAW, self._sha.digest())
        else:
            assert self._file is not None
            actual = self._file.finish().cid
        if actual != self.expected:
            raise CidMismatch(self.expected, actual)


def verify_bytes(expected: Cid, data: bytes) -> None:
    """Raise :class:`CidMismatch` unless ``data`` is the content ``expected`` names."""
    verifier = Verifier(expected)
    verifier.update(data)
    verifier.verify()


def _check_name(name: str) -> None:
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"invalid directory entry name {name!r}")
