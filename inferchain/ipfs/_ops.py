"""Every client operation, written once as a generator over :class:`Call` objects.

An operation yields the calls it needs and receives each reply (the body bytes, or what
the call's sink returned); RPC errors are thrown back into it so it can handle some
(``is_pinned`` turns "not pinned" into ``False``). :class:`~inferchain.ipfs.client.IpfsClient`
drives the generators, so it holds no protocol logic.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from inferchain.ipfs import _rpc
from inferchain.ipfs._dagpb import UnixFsType, decode_node, decode_unixfs
from inferchain.ipfs._multipart import file_part, path_parts, tree_parts
from inferchain.ipfs._rpc import Call
from inferchain.ipfs._sinks import BlockSink, ContentSink, FileSink
from inferchain.ipfs.cid import DAG_PB, RAW, Cid
from inferchain.ipfs.errors import (
    CidMismatch,
    InvalidCid,
    IpfsNotFound,
    IpfsRpcError,
    IpfsTimeout,
    UnsupportedDag,
)
from inferchain.ipfs.unixfs import Tree, file_cid, path_entry, tree_entry

T = TypeVar("T")
Op = Generator[Call, Any, T]

_ROOT = "root"  # name of an uploaded directory; a directory's own name is not in its CID
_MAX_BLOCK = 4 << 20  # nodes refuse blocks over 4 MiB (bitswap limit); dag-pb nodes are far smaller
_ADD_PARAMS: _rpc.Params = (
    ("cid-version", "1"),
    ("raw-leaves", "true"),
    ("cid-base", "base32"),
    ("chunker", "size-262144"),
    ("hash", "sha2-256"),
)


@dataclass(frozen=True, slots=True)
class DirEntry:
    """One verified entry of a UnixFS directory."""

    name: str
    cid: Cid
    tsize: int | None


@dataclass(frozen=True, slots=True)
class NodeStat:
    """What the root block of ``cid`` says it is: ``kind`` and, for a file, its size.

    ``kind`` is ``file``, ``directory``, ``hamt-shard``, ``symlink`` or ``metadata``;
    ``size`` is the file's byte count as its root records it (``None`` for the others).
    """

    cid: Cid
    kind: str
    size: int | None


def _add_params(*, pin: bool, only_hash: bool = False) -> _rpc.Params:
    extra = (("only-hash", "true"),) if only_hash else ()
    return (*_ADD_PARAMS, ("pin", str(pin).lower()), *extra)


def _check_added(expected: Cid, got: Cid) -> Cid:
    if got != expected:
        raise CidMismatch(expected, got, " (the node built a different DAG than requested)")
    return got


def add_bytes(data: bytes, *, pin: bool, only_hash: bool) -> Op[Cid]:
    """Upload ``data`` as one file; the node's CID must equal the local one."""
    expected = file_cid(data)
    body = yield Call("add", _add_params(pin=pin, only_hash=only_hash), [file_part("blob", data)])
    return _check_added(expected, _last(_rpc.added("add", body)))


def add_file(path: Path, *, pin: bool) -> Op[Cid]:
    """Upload a file from disk, streamed; verified like :func:`add_bytes`."""
    if not path.is_file():
        raise FileNotFoundError(f"not a regular file: {path}")
    expected = path_entry(path).cid
    with path.open("rb") as stream:
        body = yield Call("add", _add_params(pin=pin), [file_part(path.name, stream)])
    return _check_added(expected, _last(_rpc.added("add", body)))


def add_directory(path: Path, *, pin: bool) -> Op[Cid]:
    """Upload a directory tree (hidden entries included, symlinks refused)."""
    if not path.is_dir():
        raise NotADirectoryError(f"not a directory: {path}")
    expected = path_entry(path).cid
    with ExitStack() as files:
        parts = path_parts(_ROOT, path, files)
        body = yield Call("add", _add_params(pin=pin), parts)
    return _check_added(expected, _root(_rpc.added("add", body)))


def add_tree(tree: Tree, *, pin: bool) -> Op[Cid]:
    """Upload an in-memory directory (names to bytes or nested mappings)."""
    expected = tree_entry(tree).cid
    body = yield Call("add", _add_params(pin=pin), tree_parts(_ROOT, tree))
    return _check_added(expected, _root(_rpc.added("add", body)))


def _last(entries: dict[str, Cid]) -> Cid:
    return list(entries.values())[-1]


def _root(entries: dict[str, Cid]) -> Cid:
    if _ROOT not in entries:
        raise IpfsRpcError("add", 200, f"reply lacks the uploaded directory {_ROOT!r}")
    return entries[_ROOT]


def cat(cid: Cid | str, *, max_size: int, budget_s: float) -> Op[bytes]:
    """File content, verified against ``cid``, at most ``max_size`` bytes."""
    cid = Cid.parse(cid)
    return (yield _cat_call(cid, ContentSink(cid, max_size), max_size, budget_s))


def download(cid: Cid | str, dest: Path, *, max_size: int, budget_s: float) -> Op[Path]:
    """File content streamed to ``dest``, which appears only once verified."""
    cid = Cid.parse(cid)
    sink = FileSink(cid, max_size, dest)
    try:
        return (yield _cat_call(cid, sink, max_size, budget_s))
    except BaseException:
        sink.discard()
        raise


def _cat_call(cid: Cid, sink: _rpc.Sink, max_size: int, budget_s: float) -> Call:
    # length= makes the node stop one byte past the cap instead of sending everything.
    params = (
        ("arg", str(cid)),
        ("length", str(max_size + 1)),
        ("timeout", _rpc.node_duration(budget_s)),
    )
    return Call("cat", params, sink=sink, budget_s=budget_s)


def block(cid: Cid, *, budget_s: float) -> Op[bytes]:
    """One raw block, checked against the CID's digest."""
    params = (("arg", str(cid)), ("timeout", _rpc.node_duration(budget_s)))
    return (yield Call("block/get", params, sink=BlockSink(cid, _MAX_BLOCK), budget_s=budget_s))


def ls(cid: Cid | str, *, budget_s: float) -> Op[list[DirEntry]]:
    """Entries of a directory, read from its verified block (the node's ``ls`` is not trusted)."""
    cid = Cid.parse(cid)
    if cid.codec != DAG_PB:
        raise IpfsNotFound(f"{cid} is a raw block, not a directory")
    raw = yield from block(cid, budget_s=budget_s)
    try:
        node = decode_node(raw)
        kind = decode_unixfs(node.data or b"").type
        entries = [
            DirEntry(link.name or "", Cid.parse(link.hash), link.tsize) for link in node.links
        ]
    except (ValueError, InvalidCid) as exc:
        raise UnsupportedDag(f"{cid} is not a UnixFS node: {exc}") from exc
    if kind == UnixFsType.HAMT_SHARD:
        raise UnsupportedDag(f"{cid} is a HAMT-sharded directory; not supported")
    if kind != UnixFsType.DIRECTORY:
        raise IpfsNotFound(f"{cid} is a {kind.name.lower()}, not a directory")
    return entries


def stat(cid: Cid | str, *, budget_s: float) -> Op[NodeStat]:
    """Kind and size of ``cid`` from its root block alone, verified (the node's word is not
    taken): one small read, so a caller can refuse a directory or an oversized file, or find
    the content missing, without downloading it."""
    cid = Cid.parse(cid)
    if cid.codec not in (RAW, DAG_PB):
        raise UnsupportedDag(f"{cid} has codec {cid.codec:#x}, not a UnixFS file or directory")
    raw = yield from block(cid, budget_s=budget_s)
    if cid.codec == RAW:
        return NodeStat(cid, "file", len(raw))
    try:
        meta = decode_unixfs(decode_node(raw).data or b"")
    except ValueError as exc:
        raise UnsupportedDag(f"{cid} is not a UnixFS node: {exc}") from exc
    if meta.type in (UnixFsType.FILE, UnixFsType.RAW):
        size = meta.filesize
        if size is None:
            size = len(meta.data or b"") + sum(meta.blocksizes)
        return NodeStat(cid, "file", size)
    return NodeStat(cid, meta.type.name.lower().replace("_", "-"), None)


def resolve(root: Cid | str, path: str, *, budget_s: float) -> Op[Cid]:
    """The CID at ``path`` below directory ``root``, each hop verified block by block."""
    cid = Cid.parse(root)
    deadline = time.monotonic() + budget_s
    for name in (part for part in path.split("/") if part):
        entries = yield from ls(cid, budget_s=_remaining(deadline, budget_s))
        match = [entry for entry in entries if entry.name == name]
        if not match:
            raise IpfsNotFound(f"no entry {name!r} in directory {cid}")
        cid = match[0].cid
    return cid


def cat_path(root: Cid | str, path: str, *, max_size: int, budget_s: float) -> Op[bytes]:
    """Content of the file at ``path`` inside directory ``root``, verified end to end."""
    deadline = time.monotonic() + budget_s
    child = yield from resolve(root, path, budget_s=budget_s)
    return (yield from cat(child, max_size=max_size, budget_s=_remaining(deadline, budget_s)))


def _remaining(deadline: float, budget_s: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise IpfsTimeout(f"over the {budget_s} s budget")
    return left


def pin(cid: Cid | str, *, budget_s: float) -> Op[None]:
    """Pin recursively; the node fetches what it lacks, within the budget."""
    cid = Cid.parse(cid)
    params = (("arg", str(cid)), ("timeout", _rpc.node_duration(budget_s)))
    body = yield Call("pin/add", params, budget_s=budget_s)
    _expect_pins("pin/add", body, cid)


def unpin(cid: Cid | str) -> Op[None]:
    """Remove a recursive pin; :class:`IpfsNotFound` if there is none."""
    cid = Cid.parse(cid)
    body = yield Call("pin/rm", (("arg", str(cid)),))
    _expect_pins("pin/rm", body, cid)


def _expect_pins(endpoint: str, body: bytes, cid: Cid) -> None:
    reply = _rpc.json_reply(endpoint, body)
    pins = reply.get("Pins") if isinstance(reply, dict) else None
    if not isinstance(pins, list) or cid not in {_rpc.cid_in_reply(endpoint, p) for p in pins}:
        raise IpfsRpcError(endpoint, 200, f"reply does not list {cid}: {reply!r}")


def pins() -> Op[set[Cid]]:
    """Roots of every recursive pin."""
    body = yield Call("pin/ls", (("type", "recursive"),))
    return _rpc.pinned_cids("pin/ls", body)


def is_pinned(cid: Cid | str) -> Op[bool]:
    """Whether the node keeps ``cid``: pinned itself, or inside a pinned DAG."""
    cid = Cid.parse(cid)
    try:
        body = yield Call("pin/ls", (("arg", str(cid)), ("type", "all")))
    except IpfsNotFound:
        return False
    return cid in _rpc.pinned_cids("pin/ls", body)


def version() -> Op[str]:
    """The node's version string (js-ipfs reports its ipfs-core version, e.g. 0.18.1)."""
    reply = _rpc.json_reply("version", (yield Call("version")))
    if not isinstance(reply, dict) or not isinstance(reply.get("Version"), str):
        raise IpfsRpcError("version", 200, f"unexpected reply {reply!r}")
    return reply["Version"]
