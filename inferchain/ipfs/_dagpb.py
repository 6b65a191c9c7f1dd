"""Wire formats of dag-pb nodes and the UnixFS ``Data`` message inside them.

Encoding is canonical as go-codec-dagpb and js ``@ipld/dag-pb`` write it, which a CID
depends on byte for byte:

* ``PBNode``: every ``Links`` (field 2) first, then ``Data`` (field 1), despite the numbers.
* ``PBLink``: ``Hash`` (1), ``Name`` (2), ``Tsize`` (3). UnixFS file links carry an empty
  ``Name`` that is still written (``12 00``).
* UnixFS ``Data``: ``Type`` (1), ``Data`` (2), ``filesize`` (3), ``blocksizes`` (4,
  repeated, not packed) — proto2 field order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from inferchain.ipfs._protobuf import LEN, VARINT, bytes_field, iter_fields, varint_field


class UnixFsType(IntEnum):
    """``Data.DataType`` of the UnixFS spec."""

    RAW = 0
    DIRECTORY = 1
    FILE = 2
    METADATA = 3
    SYMLINK = 4
    HAMT_SHARD = 5


@dataclass(frozen=True, slots=True)
class PbLink:
    """A dag-pb link: child CID bytes, entry name, cumulative size of the child's blocks."""

    hash: bytes
    name: str | None = ""
    tsize: int | None = None


@dataclass(frozen=True, slots=True)
class PbNode:
    """A dag-pb node: links (already in canonical order) and opaque data."""

    links: tuple[PbLink, ...] = ()
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class UnixFsData:
    """The UnixFS ``Data`` message (the fields this project reads or writes)."""

    type: UnixFsType
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: tuple[int, ...] = field(default=())


def encode_node(node: PbNode) -> bytes:
    """Canonical dag-pb bytes of ``node``."""
    out = bytearray()
    for link in node.links:
        body = bytes_field(1, link.hash)
        if link.name is not None:
            body += bytes_field(2, link.name.encode("utf-8"))
        if link.tsize is not None:
            body += varint_field(3, link.tsize)
        out += bytes_field(2, body)
    if node.data is not None:
        out += bytes_field(1, node.data)
    return bytes(out)


def decode_node(block: bytes) -> PbNode:
    """Parse a dag-pb block; raise ``ValueError`` if it is not canonical dag-pb."""
    links: list[PbLink] = []
    data: bytes | None = None
    for number, wire, value in iter_fields(block):
        if number == 2 and wire == LEN and data is None:
            assert isinstance(value, bytes)
            links.append(_decode_link(value))
        elif number == 1 and wire == LEN and data is None:
            assert isinstance(value, bytes)
            data = value
        else:
            raise ValueError(f"unexpected dag-pb field {number} (wire type {wire})")
    return PbNode(tuple(links), data)


def _decode_link(message: bytes) -> PbLink:
    fields: dict[int, int | bytes] = {}
    for number, wire, value in iter_fields(message):
        expected = VARINT if number == 3 else LEN
        if number not in (1, 2, 3) or wire != expected or number in fields:
            raise ValueError(f"unexpected dag-pb link field {number}")
        if fields and number < max(fields):
            raise ValueError("dag-pb link fields out of order")
        fields[number] = value
    hash_ = fields.get(1)
    if not isinstance(hash_, bytes):
        raise ValueError("dag-pb link without Hash")
    name = fields.get(2)
    tsize = fields.get(3)
    return PbLink(
        hash_,
        name.decode("utf-8") if isinstance(name, bytes) else None,
        tsize if isinstance(tsize, int) else None,
    )


def encode_unixfs(meta: UnixFsData) -> bytes:
    """Bytes of a UnixFS ``Data`` message, fields in proto2 order."""
    out = varint_field(1, int(meta.type))
    if meta.data:
        out += bytes_field(2, meta.data)
    if meta.filesize is not None:
        out += varint_field(3, meta.filesize)
    for size in meta.blocksizes:
        out += varint_field(4, size)
    return out


def decode_unixfs(message: bytes) -> UnixFsData:
    """Parse a UnixFS ``Data`` message (unknown optional fields such as mode are skipped)."""
    kind: int | None = None
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: list[int] = []
    for number, _wire, value in iter_fields(message):
        if number == 1 and isinstance(value, int):
            kind = value
        elif number == 2 and isinstance(value, bytes):
            data = value
        elif number == 3 and isinstance(value, int):
            filesize = value
        elif number == 4 and isinstance(value, int):
            blocksizes.append(value)
    if kind is None:
        raise ValueError("UnixFS Data without Type")
    try:
        unixfs_type = UnixFsType(kind)
    except ValueError as exc:
        raise ValueError(f"unknown UnixFS type {kind}") from exc
    return UnixFsData(unixfs_type, data, filesize, tuple(blocksizes))
