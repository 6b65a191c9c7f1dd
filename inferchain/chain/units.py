"""Amounts as people type them: `1000` (wei or token units), `0.5eth`, `2gwei`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

_UNITS = {"ether": 10**18, "eth": 10**18, "gwei": 10**9, "wei": 1}


def parse_amount(text: str) -> int:
    """`text` in integer smallest units; ValueError naming the text when it is not one."""
    raw = text.strip().lower().replace("_", "").replace(" ", "")
    scale = 1
    for suffix, factor in _UNITS.items():
        if raw.endswith(suffix):
            raw, scale = raw[: -len(suffix)], factor
            break
    try:
        value = Decimal(raw) * scale
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount (e.g. 1000, 0.01eth, 5gwei)") from None
    if value < 0 or value != value.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number of wei/units")
    return int(value)
