"""Multipart parts for ``add``: files and directory entries, named as Kubo expects.

Each part is a ``file`` form field whose filename is the entry's path, percent-encoded
(Kubo and js-ipfs URL-decode it, so ``/``, ``%``, ``+`` and non-ASCII survive). A part with
``Content-Type: application/x-directory`` and no body creates a directory, which is how an
empty directory gets into the DAG; the node builds the parents from the paths.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote

from inferchain.ipfs.unixfs import Tree

DIRECTORY_TYPE = "application/x-directory"
FILE_TYPE = "application/octet-stream"

Part = tuple[str, tuple[str, Any, str]]


def file_part(path: str, content: Any) -> Part:
    """A file at ``path`` (``bytes`` or a binary file object, streamed by httpx)."""
    return ("file", (quote(path, safe=""), content, FILE_TYPE))


def directory_part(path: str) -> Part:
    """A directory at ``path``."""
    return ("file", (quote(path, safe=""), b"", DIRECTORY_TYPE))


def tree_parts(root: str, tree: Tree) -> list[Part]:
    """Parts for an in-memory tree placed under the directory ``root``."""
    parts = [directory_part(root)]
    for name, value in sorted(tree.items()):
        path = f"{root}/{name}"
        if isinstance(value, bytes | bytearray):
            parts.append(file_part(path, bytes(value)))
        else:
            parts.extend(tree_parts(path, value))
    return parts


def path_parts(root: str, directory: Path, files: ExitStack) -> list[Part]:
    """Parts for a directory on disk under ``root``; opened files are closed by ``files``."""
    parts = [directory_part(root)]
    for child in sorted(directory.iterdir()):
        path = f"{root}/{child.name}"
        if child.is_dir():
            parts.extend(path_parts(path, child, files))
        else:
            parts.append(file_part(path, files.enter_context(child.open("rb"))))
    return parts
