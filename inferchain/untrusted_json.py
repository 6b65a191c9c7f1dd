"""The one parser for JSON that came from outside the process.

Why not ``json.loads``: ``py_ecc`` (imported by eth-account) raises Python's recursion
limit to 100,000 at import, so the C decoder, which guards nesting with that limit,
overflows the C stack on ~200 KB of ``[[[[…`` and the process dies with a segfault instead
of a ``RecursionError``. Every byte that crosses a process boundary (HTTP bodies, job
inputs, IPFS replies, session tokens, manifests, keystores, state files, deployment
records) goes through :func:`loads` instead, which is built on pydantic-core's Rust parser
(``jiter``): nesting is refused before it can hurt, and so are the shapes that JSON does not
define or that a peer would read differently:

- nesting deeper than ``max_depth`` (default 64; the parser itself stops at 200);
- ``NaN``, ``Infinity`` and numbers that overflow a double (``1e400``);
- integers longer than 4,300 digits;
- strings holding a lone UTF-16 surrogate (``"\\ud800"``), and bytes that are not UTF-8;
- trailing data after the document.

Every refusal is an :class:`UntrustedJsonError` naming the source and the problem.
"""

from __future__ import annotations

import math
from typing import Any

import pydantic_core

from inferchain.errors import InferchainError

__all__ = ["DEFAULT_MAX_DEPTH", "UntrustedJsonError", "loads"]

#: Deep enough for any document Inferchain reads or writes (manifests nest 4 levels).
DEFAULT_MAX_DEPTH = 64


class UntrustedJsonError(InferchainError, ValueError):
    """Bytes from outside are not JSON we accept; ``reason`` is a stable code.

    Reasons: ``not_utf8``, ``surrogate``, ``syntax``, ``too_deep``, ``non_finite``.
    """

    def __init__(self, source: str, reason: str, detail: str) -> None:
        self.source = source
        self.reason = reason
        self.detail = detail
        super().__init__(f"{source} is not acceptable JSON ({reason}): {detail}")


def loads(
    data: bytes | bytearray | memoryview | str, *, source: str, max_depth: int = DEFAULT_MAX_DEPTH
) -> Any:
    """Parse ``data`` (UTF-8 bytes or text) or raise :class:`UntrustedJsonError`.

    ``source`` names where the bytes came from (``"job input"``, ``"state file /x/y"``) so
    that the error says what to fix.
    """
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UntrustedJsonError(source, "surrogate", "text holds a lone surrogate") from exc
    else:
        raw = bytes(data)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a byte-order mark is legal in front of UTF-8 JSON
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UntrustedJsonError(source, "not_utf8", f"invalid UTF-8 at byte {exc.start}") from exc
    try:
        # NaN and Infinity are parsed so that the walk below names them, like 1e400.
        value = pydantic_core.from_json(raw, allow_inf_nan=True, cache_strings=False)
    except ValueError as exc:
        message = str(exc)
        raise UntrustedJsonError(source, _reason(message), message) from exc
    _check_shape(value, source, max_depth)
    return value


def _reason(message: str) -> str:
    """jiter reports these only in its message (pinned by tests/test_untrusted_json.py)."""
    if "recursion limit" in message:
        return "too_deep"
    if "surrogate" in message or "end of hex escape" in message:
        return "surrogate"  # "\\udc00", or "\\ud800" with no low half after it
    return "syntax"


def _check_shape(value: Any, source: str, max_depth: int) -> None:
    """Iterative walk (no recursion to exhaust): depth and finite floats.

    Scalars are checked in place and only containers are stacked: a flat 1 MB array costs
    milliseconds, not one stack entry per number.
    """
    stack: list[tuple[Any, int]] = [([value], 0)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise UntrustedJsonError(source, "too_deep", f"nesting exceeds {max_depth} levels")
        for child in node.values() if isinstance(node, dict) else node:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append((child, depth + 1))
            elif kind is float and not math.isfinite(child):
                raise UntrustedJsonError(
                    source, "non_finite", "NaN, Infinity or a number beyond a double"
                )
