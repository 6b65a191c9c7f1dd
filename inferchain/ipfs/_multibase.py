"""The few multibase alphabets CIDs use: base32 (``b``/``B``), base58btc (``z``, CIDv0), base16.

Written by hand on purpose: no multiformats dependency, and strict decoding (a string that
does not re-encode to itself is refused) so that one CID has one text form per base.
"""

from __future__ import annotations

import base64
import binascii

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}


def b32_encode(data: bytes) -> str:
    """RFC 4648 base32, lower case, no padding (multibase ``b`` without its prefix)."""
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def b32_decode(text: str) -> bytes:
    """Inverse of :func:`b32_encode`; accepts either case but not mixed-up padding bits."""
    upper = text.upper()
    try:
        data = base64.b32decode(upper + "=" * (-len(upper) % 8))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"invalid base32: {exc}") from exc
    if b32_encode(data) != text.lower():
        raise ValueError("non-canonical base32")
    return data


def b58_encode(data: bytes) -> str:
    """Bitcoin base58 (multibase ``z`` without its prefix; CIDv0 as is)."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    chars: list[str] = []
    while number:
        number, rem = divmod(number, 58)
        chars.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(chars))


def b58_decode(text: str) -> bytes:
    """Inverse of :func:`b58_encode`."""
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise ValueError(f"invalid base58 character {char!r}")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_decode(text: str) -> bytes:
    """Decode a multibase string with prefix ``b``, ``B``, ``z``, ``f`` or ``F``."""
    if not text:
        raise ValueError("empty multibase string")
    prefix, body = text[0], text[1:]
    if (prefix == "b" and body == body.lower()) or (prefix == "B" and body == body.upper()):
        return b32_decode(body)
    if prefix == "z":
        return b58_decode(body)
    if (prefix == "f" and body == body.lower()) or (prefix == "F" and body == body.upper()):
        try:
            data = bytes.fromhex(body)
        except ValueError as exc:
            raise ValueError(f"invalid base16: {exc}") from exc
        if data.hex() != body.lower():
            raise ValueError("non-canonical base16")
        return data
    raise ValueError(f"unsupported multibase prefix {prefix!r}")
