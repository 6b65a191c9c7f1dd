"""Revert data decoding as a pure unit (no chain needed)."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from inferchain.chain import decode_revert


def test_decodes_shipped_custom_error() -> None:
    selector = function_signature_to_4byte_selector("ChainProbeRejected(address,uint256)")
    data = selector + encode(["address", "uint256"], ["0x" + "11" * 20, 42])
    error = decode_revert("0x" + data.hex())
    assert error.error_name == "ChainProbeRejected"
    assert error.error_args["code"] == 42


def test_decodes_panic() -> None:
    data = bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])
    assert decode_revert(data).error_args == {"code": 0x11}


def test_unknown_selector_and_empty_data() -> None:
    assert decode_revert("0xdeadbeef").error_name == "unknown"
    assert decode_revert("0xdeadbeef").error_args == {"selector": "0xdeadbeef"}
    assert decode_revert(None).error_name == "unknown"
    assert decode_revert("0x").error_name == "unknown"


def test_truncated_payload_behind_known_selector_keeps_the_name() -> None:
    selector = function_signature_to_4byte_selector("ChainProbeRejected(address,uint256)")
    assert decode_revert(selector + b"\x01").error_name == "ChainProbeRejected"
