"""Turn a raw job input (bytes from IPFS, or Python values) into checked parameters.

Every refusal is an ``InvalidInput`` with a stable reason code, raised before any tensor
work, so a bad input costs microseconds and never reaches the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from inferchain import untrusted_json
from inferchain.bundle import InvalidInput

_MISSING = object()


def parse_object(raw: object, *, max_bytes: int, text_key: str | None = None) -> dict[str, Any]:
    """A JSON object from bytes, a mapping as is, or a bare string under ``text_key``."""
    if isinstance(raw, bytes | bytearray | memoryview):
        data = bytes(raw)
        if len(data) > max_bytes:
            raise InvalidInput("oversize", f"input is {len(data)} bytes; the limit is {max_bytes}")
        try:
            value = untrusted_json.loads(data, source="job input")
        except untrusted_json.UntrustedJsonError as exc:
            # The requester's fault: the worker reports it on-chain and keeps its stake.
            raise InvalidInput(
                "undecodable", f"input is not JSON we accept ({exc.reason}): {exc.detail}"
            ) from exc
    elif isinstance(raw, str) and text_key is not None:
        value = {text_key: raw}
    else:
        value = raw
    if not isinstance(value, Mapping):
        raise InvalidInput("wrong_type", f"expected a JSON object, got {type(value).__name__}")
    return dict(value)


class Params:
    """Typed, range-checked access to an input object; ``finish`` refuses leftover keys."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = dict(data)

    def text(self, key: str, *, max_bytes: int, default: Any = _MISSING) -> str:
        value = self._take(key, default)
        if not isinstance(value, str):
            raise InvalidInput("wrong_type", f"{key!r} must be a string")
        size = len(value.encode("utf-8", errors="surrogatepass"))
        if size > max_bytes:
            raise InvalidInput("oversize", f"{key!r} is {size} bytes; the limit is {max_bytes}")
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise InvalidInput("undecodable", f"{key!r} holds unpaired surrogates")
        return value

    def integer(self, key: str, default: int, lo: int, hi: int) -> int:
        value = self._take(key, default)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput("invalid_param", f"{key!r} must be an integer")
        if not lo <= value <= hi:
            raise InvalidInput("invalid_param", f"{key!r}={value} is outside [{lo}, {hi}]")
        return value

    def number(self, key: str, default: float, lo: float, hi: float) -> float:
        value = self._take(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise InvalidInput("invalid_param", f"{key!r} must be a number")
        if isinstance(value, int) and not lo <= value <= hi:
            raise InvalidInput("invalid_param", f"{key!r} is outside [{lo}, {hi}]")  # 10**400 too
        if not (math.isfinite(value) and lo <= value <= hi):
            raise InvalidInput("invalid_param", f"{key!r}={value} is outside [{lo}, {hi}]")
        return float(value)

    def text_list(self, key: str, *, max_items: int, max_bytes: int) -> tuple[str, ...]:
        value = self._take(key, [])
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or len(value) > max_items:
            raise InvalidInput(
                "invalid_param", f"{key!r} must be a list of at most {max_items} strings"
            )
        for item in value:
            if (
                not isinstance(item, str)
                or not 0 < len(item.encode("utf-8", "surrogatepass")) <= max_bytes
            ):
                raise InvalidInput(
                    "invalid_param", f"each {key!r} entry must be a string of 1..{max_bytes} bytes"
                )
        return tuple(value)

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        return self._take(key, default)

    def finish(self) -> None:
        if self._data:
            raise InvalidInput(
                "invalid_param", f"unknown parameters: {sorted(map(str, self._data))}"
            )

    def _take(self, key: str, default: Any) -> Any:
        if key in self._data:
            value = self._data.pop(key)
            if value is None and default is not _MISSING:
                return default
            return value
        if default is _MISSING:
            raise InvalidInput("wrong_type", f"missing required field {key!r}")
        return default
