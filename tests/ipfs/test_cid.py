"""CID parsing and encoding: known vectors, decoded equality, every malformed form refused."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferchain.ipfs import DAG_PB, RAW, Cid, InvalidCid
from inferchain.ipfs._multibase import b32_encode, b58_encode
from inferchain.ipfs._varint import decode_uvarint, encode_uvarint

EMPTY_RAW = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
EMPTY_DIR_V0 = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
EMPTY_DIR_V1 = "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"

digests = st.binary(min_size=32, max_size=32)
cids = st.builds(
    Cid, version=st.just(1), codec=st.integers(min_value=0, max_value=(1 << 63) - 1), digest=digests
) | st.builds(Cid, version=st.just(0), codec=st.just(DAG_PB), digest=digests)


def test_parse_raw_cid_of_empty_bytes() -> None:
    cid = Cid.parse(EMPTY_RAW)
    assert (cid.version, cid.codec) == (1, RAW)
    assert cid.digest32 == hashlib.sha256(b"").digest()
    assert cid == Cid.for_raw_block(b"")
    assert str(cid) == cid.encode() == EMPTY_RAW
    assert repr(cid) == f"Cid({EMPTY_RAW!r})"


def test_parse_cid_v0_and_its_v1_form() -> None:
    v0 = Cid.parse(EMPTY_DIR_V0)
    assert (v0.version, v0.codec) == (0, DAG_PB)
    assert str(v0) == EMPTY_DIR_V0
    assert v0.to_v1() == Cid.parse(EMPTY_DIR_V1)
    assert v0 != v0.to_v1()  # different CIDs, same on-chain (codec, digest32)
    assert Cid.parse(bytes(v0)) == v0


def test_equality_is_by_value_across_multibases() -> None:
    # js-ipfs prints CIDv1 as base58btc ("zb2r…") in pin/ls; it is the same CID.
    cid = Cid.parse(EMPTY_RAW)
    assert Cid.parse("z" + b58_encode(cid.to_bytes())) == cid
    assert Cid.parse(EMPTY_RAW.upper()) == cid
    assert Cid.parse("f" + cid.to_bytes().hex()) == cid
    assert Cid.parse("/ipfs/" + EMPTY_RAW) == cid
    assert len({cid, Cid.parse("z" + b58_encode(cid.to_bytes()))}) == 1


def test_on_chain_pair_rebuilds_the_cid() -> None:
    cid = Cid.parse(EMPTY_DIR_V1)
    assert Cid.from_digest32(cid.digest32, cid.codec) == cid
    assert cid.multihash == bytes([0x12, 0x20]) + cid.digest32


def test_parse_accepts_a_cid_instance_and_binary_views() -> None:
    cid = Cid.parse(EMPTY_RAW)
    assert Cid.parse(cid) is cid
    assert Cid.parse(bytearray(bytes(cid))) == cid
    assert Cid.parse(memoryview(bytes(cid))) == cid


def _v1(codec: int, hash_code: int, digest: bytes) -> str:
    body = encode_uvarint(1) + encode_uvarint(codec) + encode_uvarint(hash_code)
    return "b" + b32_encode(body + encode_uvarint(len(digest)) + digest)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a cid",
        "Qm",
        "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3N0",  # '0' is not base58
        "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn1",  # 47 characters
        EMPTY_RAW[:-1],  # truncated digest
        EMPTY_RAW + "a",  # trailing byte
        "bAFKREIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU",  # mixed case
        "x" + EMPTY_RAW[1:],  # unknown multibase
        "b" + "1" * 20,  # '1' is not base32
        "f0g",  # not hex
        "f 01",  # hex with a space
        _v1(RAW, 0x13, b"\0" * 64),  # sha2-512
        _v1(RAW, 0x00, b"hi"),  # identity multihash
        _v1(RAW, 0x12, b"\0" * 31),  # short sha2-256 digest
        "b" + b32_encode(b"\x02\x55\x12\x20" + b"\0" * 32),  # version 2
        "b" + b32_encode(b"\x81\x00\x55\x12\x20" + b"\0" * 32),  # non-minimal varint
        "z" + b58_encode(bytes([0x12, 0x20]) + b"\0" * 32),  # CIDv0 in multibase form
    ],
)
def test_invalid_cid_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidCid):
        Cid.parse(text)


@pytest.mark.parametrize("value", [None, 42, 1.5, ["Qm"]])
def test_parse_refuses_other_types(value: object) -> None:
    with pytest.raises(InvalidCid, match="expected str or bytes"):
        Cid.parse(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("version", "codec", "digest"),
    [(2, RAW, b"\0" * 32), (0, RAW, b"\0" * 32), (1, RAW, b"\0" * 31), (1, -1, b"\0" * 32)],
)
def test_constructor_validates(version: int, codec: int, digest: bytes) -> None:
    with pytest.raises(InvalidCid):
        Cid(version, codec, digest)


def test_invalid_cid_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        Cid.parse("nope")


@given(cids)
def test_text_and_binary_forms_round_trip(cid: Cid) -> None:
    assert Cid.parse(cid.encode()) == cid
    assert Cid.parse(cid.to_bytes()) == cid
    assert Cid.parse(str(cid)).encode() == cid.encode()


@given(st.text(max_size=80))
def test_arbitrary_text_parses_or_raises_invalid_cid(text: str) -> None:
    try:
        cid = Cid.parse(text)
    except InvalidCid:
        return
    assert Cid.parse(cid.encode()) == cid


@given(st.binary(max_size=80))
def test_arbitrary_bytes_parse_or_raise_invalid_cid(raw: bytes) -> None:
    try:
        cid = Cid.parse(raw)
    except InvalidCid:
        return
    assert cid.to_bytes() == raw


@given(st.integers(min_value=0, max_value=(1 << 63) - 1))
def test_varint_round_trips(value: int) -> None:
    encoded = encode_uvarint(value)
    assert decode_uvarint(encoded + b"tail") == (value, len(encoded))


@pytest.mark.parametrize("raw", [b"", b"\x80", b"\x80\x00", b"\xff" * 9 + b"\x01"])
def test_malformed_varints_are_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        decode_uvarint(raw)


@pytest.mark.parametrize("value", [-1, 1 << 63])
def test_out_of_range_varints_are_refused(value: int) -> None:
    with pytest.raises(ValueError):
        encode_uvarint(value)
