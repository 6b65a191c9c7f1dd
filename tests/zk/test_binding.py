"""The input and output files a proof's public instances must equal (pure, no EZKL)."""

from __future__ import annotations

import hashlib

import pytest

from inferchain.zk import (
    FIELD_MODULUS,
    ProofRejected,
    ZkInputInvalid,
    check_binding,
    decode_output,
    encode_output,
    felt_to_signed,
    parse_input,
)

INPUT = bytes(range(17)) + bytes(47)
OUTPUTS = [-178, 0, 719, -1]
INSTANCES = [*INPUT, *(v % FIELD_MODULUS for v in OUTPUTS)]


def _digests() -> tuple[bytes, bytes]:
    return hashlib.sha256(INPUT).digest(), hashlib.sha256(encode_output(OUTPUTS)).digest()


def test_parse_input_refuses_wrong_length_and_range() -> None:
    assert parse_input(INPUT, 64, 16) == tuple(INPUT)
    with pytest.raises(ZkInputInvalid, match="exactly 64 bytes, got 63"):
        parse_input(INPUT[:63], 64, 16)
    with pytest.raises(ZkInputInvalid, match="byte 3 is 17"):
        parse_input(b"\x00\x00\x00\x11" + bytes(60), 64, 16)


def test_output_file_is_big_endian_int256_words() -> None:
    data = encode_output(OUTPUTS)
    assert len(data) == 32 * len(OUTPUTS)
    assert data[:32] == (2**256 - 178).to_bytes(32, "big")
    assert decode_output(data) == tuple(OUTPUTS)
    with pytest.raises(ValueError, match="whole 32-byte words"):
        decode_output(data[:-1])


def test_felt_to_signed_reads_negative_field_elements() -> None:
    assert felt_to_signed(FIELD_MODULUS - 5) == -5
    assert felt_to_signed(5) == 5
    with pytest.raises(ValueError):
        felt_to_signed(FIELD_MODULUS)


def test_check_binding_accepts_this_jobs_files() -> None:
    input_digest, output_digest = _digests()
    claimed = check_binding(INSTANCES, 64, 16, input_digest, output_digest)
    assert claimed.input_file == INPUT
    assert decode_output(claimed.output_file) == tuple(OUTPUTS)


def test_check_binding_refuses_another_input_or_output() -> None:
    input_digest, output_digest = _digests()
    other = hashlib.sha256(b"another file").digest()
    with pytest.raises(ProofRejected, match="the job's input CID has"):
        check_binding(INSTANCES, 64, 16, other, output_digest)
    with pytest.raises(ProofRejected, match="the worker submitted"):
        check_binding(INSTANCES, 64, 16, input_digest, other)
    with pytest.raises(ProofRejected, match=r"outside 0\.\.16"):
        check_binding([17, *INSTANCES[1:]], 64, 16, input_digest, output_digest)
