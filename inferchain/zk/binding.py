"""How a proof is bound to one job: its public inputs are the input file, its outputs the result.

Both files are small raw IPFS blocks, so each CID's digest is the sha256 of the file's bytes,
and a contract can check the binding with two sha256 calls over the proof's public instances:

* **input file** (what the job's input CID names): one byte per model input, in 0..max_input
  (64 bytes, 0..16 for the digits MLP). The circuit quantizes ``byte / 2**input_scale`` to
  exactly ``byte``, so public input ``i`` equals byte ``i``.
* **output file** (what the worker submits as output CID; ``outputHash`` is the same digest):
  one big-endian two's-complement int256 per model output, the logit times
  ``2**output_scale`` as the circuit computed it: ``abi.encode(int256[10])`` in Solidity.

``contracts/verifiers/ZkBinding.sol`` does the same on-chain, for ``ZkVerifier`` (the market's
mode) and ``ZkJobCheck`` (a standalone check), before they call the EZKL verifier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from inferchain.zk.errors import ProofRejected, ZkInputInvalid

#: The BN254 scalar field: public instances are field elements below it.
FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617
WORD = 32


def parse_input(data: bytes, count: int, max_value: int) -> tuple[int, ...]:
    """The model inputs an input file encodes; ZkInputInvalid says what is wrong with it."""
    if len(data) != count:
        raise ZkInputInvalid(f"the input file must be exactly {count} bytes, got {len(data)}")
    for index, value in enumerate(data):
        if value > max_value:
            raise ZkInputInvalid(f"byte {index} is {value}; values must be 0..{max_value}")
    return tuple(data)


def encode_output(values: Sequence[int]) -> bytes:
    """The output file for signed circuit outputs (one int256 word each)."""
    return b"".join(v.to_bytes(WORD, "big", signed=True) for v in values)


def decode_output(data: bytes) -> tuple[int, ...]:
    """Signed outputs back from an output file; ValueError if it is not whole words."""
    if len(data) % WORD:
        raise ValueError(f"an output file is whole 32-byte words, got {len(data)} bytes")
    return tuple(
        int.from_bytes(data[i : i + WORD], "big", signed=True) for i in range(0, len(data), WORD)
    )


def felt_to_signed(value: int) -> int:
    """A field element as the signed integer EZKL meant (above r/2 encodes value - r)."""
    if not 0 <= value < FIELD_MODULUS:
        raise ValueError("not a field element")
    return value - FIELD_MODULUS if value > FIELD_MODULUS // 2 else value


@dataclass(frozen=True)
class Statement:
    """What a proof claims: this input file gives this output file."""

    input_file: bytes
    output_file: bytes

    @property
    def input_digest(self) -> bytes:
        return hashlib.sha256(self.input_file).digest()

    @property
    def output_digest(self) -> bytes:
        return hashlib.sha256(self.output_file).digest()


def statement(instances: Sequence[int], num_inputs: int, max_input: int) -> Statement:
    """Read a proof's public instances as files; ProofRejected if they cannot be a job's."""
    if len(instances) <= num_inputs:
        raise ProofRejected(f"{len(instances)} public instances, expected inputs and outputs")
    inputs = instances[:num_inputs]
    if any(not 0 <= v <= max_input for v in inputs):
        raise ProofRejected(f"a public input is outside 0..{max_input}")
    try:
        outputs = [felt_to_signed(v) for v in instances[num_inputs:]]
    except ValueError as exc:
        raise ProofRejected("a public output is not a field element") from exc
    return Statement(bytes(inputs), encode_output(outputs))


def check_binding(
    instances: Sequence[int],
    num_inputs: int,
    max_input: int,
    input_digest: bytes,
    output_digest: bytes,
) -> Statement:
    """The proof's statement, if it is about this job's input and the submitted output."""
    claimed = statement(instances, num_inputs, max_input)
    if claimed.input_digest != input_digest:
        raise ProofRejected(
            f"the proof is about input sha256 {claimed.input_digest.hex()}, "
            f"the job's input CID has {input_digest.hex()}"
        )
    if claimed.output_digest != output_digest:
        raise ProofRejected(
            f"the proof gives output sha256 {claimed.output_digest.hex()}, "
            f"the worker submitted {output_digest.hex()}"
        )
    return claimed
