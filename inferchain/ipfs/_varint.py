"""Unsigned LEB128 varints as multiformats use them (minimal encoding, at most 9 bytes)."""

from __future__ import annotations

_MAX_BYTES = 9  # multiformats caps varints at 63 bits


def encode_uvarint(value: int) -> bytes:
    """Encode a non-negative integer below 2**63 as an unsigned varint."""
    if value < 0 or value >= 1 << 63:
        raise ValueError(f"varint out of range: {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_uvarint(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Decode one varint at ``offset``; return ``(value, next_offset)``.

    Raises ``ValueError`` on truncation, over-long or non-minimal encodings, which the
    multiformats spec forbids so that every value has exactly one byte form.
    """
    value = 0
    for i in range(_MAX_BYTES):
        pos = offset + i
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        value |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            if byte == 0 and i > 0:
                raise ValueError("non-minimal varint")
            return value, pos + 1
    raise ValueError("varint longer than 9 bytes")
