"""Helpers shared by the bundle tests."""

from __future__ import annotations

import json
from collections.abc import Callable

from inferchain.bundle import Bundle

MakeBundle = Callable[..., Bundle]


def rewrite_manifest(bundle: Bundle, **changes: object) -> None:
    """Edit manifest.json in place (keys set to None are deleted)."""
    path = bundle.path / "manifest.json"
    data = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(json.dumps(data))
