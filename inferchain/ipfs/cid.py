"""Content identifiers (CIDs) restricted to sha2-256, the hash every IPFS node uses by default.

A :class:`Cid` is compared by its decoded value, never by its text: the same CIDv1 has one
form per multibase (js-ipfs prints ``zb2r…`` base58btc in ``pin/ls`` where Kubo prints
``bafk…`` base32), so string comparison would call equal CIDs different.

For on-chain storage a CID reduces to ``(codec, digest32)``: 32 bytes plus one small integer.
:meth:`Cid.from_digest32` rebuilds the CIDv1 from those.

Example::

    >>> c = Cid.parse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
    >>> c.codec == RAW, c.digest32.hex()[:8]
    (True, 'e3b0c442')
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from inferchain.ipfs._multibase import b32_encode, b58_decode, b58_encode, multibase_decode
from inferchain.ipfs._varint import decode_uvarint, encode_uvarint
from inferchain.ipfs.errors import InvalidCid

RAW = 0x55
"""Multicodec of a raw block: the bytes are the content (a file leaf or a small file)."""
DAG_PB = 0x70
"""Multicodec of a protobuf DAG node (UnixFS files over one chunk, directories)."""
SHA2_256 = 0x12
"""Multihash code of sha2-256; the only hash function supported here."""

_DIGEST_LEN = 32
_V0_PREFIX = bytes([SHA2_256, _DIGEST_LEN])


@dataclass(frozen=True, slots=True)
class Cid:
    """A CID: version (0 or 1), multicodec and the 32-byte sha2-256 digest."""

    version: int
    codec: int
    digest: bytes

    def __post_init__(self) -> None:
        if self.version not in (0, 1):
            raise InvalidCid(f"unsupported CID version {self.version}")
        if not isinstance(self.digest, bytes) or len(self.digest) != _DIGEST_LEN:
            raise InvalidCid("a sha2-256 digest must be 32 bytes")
        if self.version == 0 and self.codec != DAG_PB:
            raise InvalidCid("CIDv0 is always dag-pb")
        if not 0 <= self.codec < 1 << 63:
            raise InvalidCid(f"codec out of range: {self.codec}")

    # --- constructors -------------------------------------------------------------------

    @classmethod
    def parse(cls, value: str | bytes | Cid) -> Cid:
        """Parse a CID from its text form (``Qm…``, ``bafy…``, ``z…``) or its binary form.

        Raises :class:`InvalidCid` for anything else, including non-sha2-256 multihashes.
        """
        if isinstance(value, Cid):
            return value
        if isinstance(value, str):
            return cls._parse_text(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return cls._parse_binary(bytes(value))
        raise InvalidCid(f"expected str or bytes, got {type(value).__name__}")

    @classmethod
    def from_digest32(cls, digest: bytes, codec: int = RAW) -> Cid:
        """The CIDv1 for an on-chain ``(digest, codec)`` pair."""
        return cls(1, codec, bytes(digest))

    @classmethod
    def for_raw_block(cls, data: bytes) -> Cid:
        """The CIDv1 of a raw block holding ``data`` (what a node gives a file <= 256 KiB)."""
        return cls(1, RAW, hashlib.sha256(data).digest())

    @classmethod
    def _parse_text(cls, text: str) -> Cid:
        if text.startswith("/ipfs/"):
            text = text[len("/ipfs/") :]
        try:
            if len(text) == 46 and text.startswith("Qm"):
                raw = b58_decode(text)
                if b58_encode(raw) != text:
                    raise ValueError("non-canonical base58")
            else:
                raw = multibase_decode(text)
        except ValueError as exc:
            raise InvalidCid(f"not a CID: {text!r}: {exc}") from exc
        cid = cls._parse_binary(raw)
        if cid.version == 0 and not text.startswith("Qm"):
            raise InvalidCid(f"CIDv0 must be written in plain base58btc: {text!r}")
        return cid

    @classmethod
    def _parse_binary(cls, raw: bytes) -> Cid:
        if len(raw) == 2 + _DIGEST_LEN and raw.startswith(_V0_PREFIX):
            return cls(0, DAG_PB, raw[2:])
        try:
            version, pos = decode_uvarint(raw)
            if version != 1:
                raise ValueError(f"unsupported CID version {version}")
            codec, pos = decode_uvarint(raw, pos)
            hash_code, pos = decode_uvarint(raw, pos)
            length, pos = decode_uvarint(raw, pos)
        except ValueError as exc:
            raise InvalidCid(f"not a CID: {exc}") from exc
        if hash_code != SHA2_256:
            raise InvalidCid(f"unsupported multihash 0x{hash_code:x}; only sha2-256 is")
        if length != _DIGEST_LEN or len(raw) != pos + length:
            raise InvalidCid("sha2-256 digest length does not match")
        return cls(1, codec, raw[pos:])

    # --- views --------------------------------------------------------------------------

    @property
    def digest32(self) -> bytes:
        """The 32-byte sha2-256 digest, as stored on-chain (``bytes32``)."""
        return self.digest

    @property
    def multihash(self) -> bytes:
        """The multihash: hash code, length, digest."""
        return _V0_PREFIX + self.digest

    def to_bytes(self) -> bytes:
        """The binary CID, as it appears inside dag-pb links."""
        if self.version == 0:
            return self.multihash
        return encode_uvarint(1) + encode_uvarint(self.codec) + self.multihash

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    def encode(self) -> str:
        """Canonical text: base58btc ``Qm…`` for v0, multibase base32 ``b…`` for v1."""
        if self.version == 0:
            return b58_encode(self.multihash)
        return "b" + b32_encode(self.to_bytes())

    def to_v1(self) -> Cid:
        """The same content addressed as CIDv1 (what Kubo's ``--cid-version=1`` shows)."""
        return Cid(1, self.codec, self.digest)

    def __str__(self) -> str:
        return self.encode()

    def __repr__(self) -> str:
        return f"Cid({self.encode()!r})"
