"""The one parser for outside JSON: what it refuses, with which reason, and that it survives
what kills ``json.loads`` once eth-account is imported."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from inferchain.untrusted_json import DEFAULT_MAX_DEPTH, UntrustedJsonError, loads
from tests.hostile import DEEP


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_json_loads_after_eth_account_segfaults_on_deep_nesting() -> None:
    """Why the parser exists: the stdlib decoder kills the process (a negative return code)."""
    code = "import json, sys, eth_account; json.loads(sys.stdin.buffer.read())"
    crashed = subprocess.run([sys.executable, "-c", code], input=DEEP, capture_output=True)
    assert crashed.returncode < 0, crashed.stderr[-500:]


def test_loads_deep_nesting_raises_too_deep() -> None:
    with pytest.raises(UntrustedJsonError) as caught:
        loads(DEEP, source="request body")
    assert caught.value.reason == "too_deep"
    assert "request body" in str(caught.value)


@pytest.mark.parametrize("document", [_nested(DEFAULT_MAX_DEPTH), b'{"a":' * 63 + b"1" + b"}" * 63])
def test_loads_at_max_depth_is_accepted(document: bytes) -> None:
    assert loads(document, source="t") == json.loads(document)


@pytest.mark.parametrize(
    "document",
    [_nested(DEFAULT_MAX_DEPTH + 1), b'{"a":' * 65 + b"1" + b"}" * 65, _nested(150), _nested(250)],
)
def test_loads_beyond_max_depth_raises_too_deep(document: bytes) -> None:
    with pytest.raises(UntrustedJsonError) as caught:
        loads(document, source="t")
    assert caught.value.reason == "too_deep"


def test_loads_custom_max_depth_is_honoured() -> None:
    assert loads(_nested(3), source="t", max_depth=3) == [[[]]]
    with pytest.raises(UntrustedJsonError):
        loads(_nested(4), source="t", max_depth=3)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"NaN", "non_finite"),
        (b"[Infinity]", "non_finite"),
        (b'{"x": -Infinity}', "non_finite"),
        (b"1e400", "non_finite"),
        (b"[-1e400]", "non_finite"),
        (b'"\\ud800"', "surrogate"),  # a high half with nothing after it
        (b'"\\ud800x"', "surrogate"),
        (b'"\\udc00"', "surrogate"),  # a low half alone
        (b'"\\ud800\\u0041"', "surrogate"),
        (b'"\\ud800\\ud800"', "surrogate"),
        ('"\ud800"', "surrogate"),  # text holding one (e.g. from surrogateescape)
        (b"\xff", "not_utf8"),
        (b'"\xed\xa0\x80"', "not_utf8"),  # a surrogate encoded as UTF-8 (CESU) is not UTF-8
        (b'{"a": "\xc3"}', "not_utf8"),
        (b"[1] x", "syntax"),
        (b"[1][2]", "syntax"),
        (b"", "syntax"),
        (b"{'a': 1}", "syntax"),
        (b'"\\q"', "syntax"),
        (b"1" * 5000, "syntax"),  # integers longer than Python's 4,300-digit limit
    ],
)
def test_loads_hostile_document_raises_with_reason(document: bytes | str, reason: str) -> None:
    with pytest.raises(UntrustedJsonError) as caught:
        loads(document, source="t")
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("document", "value"),
    [
        (b'"\\ud83d\\ude00"', "\U0001f600"),  # a proper surrogate pair is one character
        (b'"\\\\ud800"', "\\ud800"),  # an escaped backslash, not an escape
        (b"\xef\xbb\xbf{}", {}),  # a UTF-8 byte-order mark
        (b'{"a": 1}    ', {"a": 1}),  # safetensors pads its header with spaces
        (b"1.7976931348623157e308", 1.7976931348623157e308),
        (b"1e-400", 0.0),
        (b"9" * 4300, int("9" * 4300)),
        ('{"a": "é"}', {"a": "é"}),
    ],
)
def test_loads_legitimate_document_parses(document: bytes | str, value: object) -> None:
    assert loads(document, source="t") == value


def test_loads_flat_megabyte_array_parses_quickly() -> None:
    import time

    document = json.dumps([0.5] * 300_000).encode()
    started = time.perf_counter()
    assert len(loads(document, source="t")) == 300_000
    assert time.perf_counter() - started < 1.0
