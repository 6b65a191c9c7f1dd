"""The sliver of protobuf that dag-pb and UnixFS need: varint and length-delimited fields."""

from __future__ import annotations

from collections.abc import Iterator

from inferchain.ipfs._varint import decode_uvarint, encode_uvarint

VARINT = 0
LEN = 2


def varint_field(number: int, value: int) -> bytes:
    """One ``varint`` field (wire type 0)."""
    return encode_uvarint(number << 3 | VARINT) + encode_uvarint(value)


def bytes_field(number: int, value: bytes) -> bytes:
    """One length-delimited field (wire type 2): bytes, strings, embedded messages."""
    return encode_uvarint(number << 3 | LEN) + encode_uvarint(len(value)) + value


def iter_fields(message: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field_number, wire_type, value)``; raise ``ValueError`` on anything else.

    Only wire types 0 and 2 occur in dag-pb and UnixFS, so any other type means the
    bytes are not one of those messages.
    """
    pos = 0
    while pos < len(message):
        key, pos = decode_uvarint(message, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("protobuf field number 0")
        if wire == VARINT:
            value, pos = decode_uvarint(message, pos)
            yield number, wire, value
        elif wire == LEN:
            length, pos = decode_uvarint(message, pos)
            if pos + length > len(message):
                raise ValueError("truncated length-delimited field")
            yield number, wire, message[pos : pos + length]
            pos += length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
