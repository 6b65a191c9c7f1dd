"""Collects a standard-JSON `sources` map: every .sol under contracts/ plus what it imports.

Imports are resolved here rather than through a solc callback so that the input is
self-contained: the same JSON compiles the artifacts and verifies them on a block explorer.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from inferchain.solidity.config import NODE_MODULE_PREFIXES
from inferchain.solidity.errors import CompilationError

_IMPORT = re.compile(r"""^\s*import\s+(?:[^"';]*?\s+from\s+)?["']([^"']+)["']""", re.MULTILINE)


def collect_sources(
    root: Path, contracts_dir: Path, node_modules: Path, also: tuple[str, ...] = ()
) -> dict[str, str]:
    """Map source unit name -> content for contracts_dir/**.sol, the units in ``also``
    (library files compiled for their artifacts), and their transitive imports."""
    pending = [path.relative_to(root).as_posix() for path in sorted(contracts_dir.rglob("*.sol"))]
    pending += also
    sources: dict[str, str] = {}
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        path = _locate(unit, root, node_modules)
        content = path.read_text(encoding="utf-8")
        sources[unit] = content
        for target in _IMPORT.findall(content):
            pending.append(_resolve(unit, target))
    return dict(sorted(sources.items()))


def _resolve(importer: str, target: str) -> str:
    if target.startswith("./") or target.startswith("../"):
        return posixpath.normpath(posixpath.join(posixpath.dirname(importer), target))
    return target


def _locate(unit: str, root: Path, node_modules: Path) -> Path:
    base = node_modules if unit.startswith(NODE_MODULE_PREFIXES) else root
    path = base / unit
    if not path.is_file():
        raise CompilationError([f"{unit}: imported file not found (looked in {base})"])
    return path
