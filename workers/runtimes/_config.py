"""Read config.json sections into frozen dataclasses with typed errors.

The reader lives in :mod:`inferchain.bundle.limits` (torch-free), beside the runtimes'
input limits, so the gateway and the CLI read bundles exactly as the runtimes do.
"""

from __future__ import annotations

from typing import Any, TypeVar

from inferchain.bundle import Bundle
from inferchain.bundle.limits import from_dict

__all__ = ["from_dict", "read_config"]

M = TypeVar("M")
L = TypeVar("L")


def read_config(bundle: Bundle, model: type[M], limits: type[L]) -> tuple[dict[str, Any], M, L]:
    """The bundle's config.json, its ``model`` section as ``model`` and its ``limits``
    section as ``limits`` (every default where the section is absent)."""
    config = bundle.config()
    return (
        config,
        from_dict(model, config.get("model"), "config.model"),
        from_dict(limits, config.get("limits", {}), "config.limits"),
    )
