"""Turn a directory of weights, config and tokenizer into a bundle by writing its manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inferchain.bundle._safetensors import read_header
from inferchain.bundle.bundle import Bundle, _listed_tree, load_bundle, sha256_file
from inferchain.bundle.manifest import FORMAT, MANIFEST_NAME, parse_manifest


def finalize_bundle(
    directory: str | Path,
    *,
    name: str,
    version: str,
    task: str,
    runtime: str,
    license: str,
    dtype: str,
    input_schema: dict[str, Any],
    output_schema: dict[str, Any],
    description: str = "",
    tokenizer: str | None = None,
    weights: str = "model.safetensors",
    config: str = "config.json",
    metadata: dict[str, Any] | None = None,
    zk: dict[str, Any] | None = None,
) -> Bundle:
    """Hash every file in ``directory``, write manifest.json, and load the result back.

    The tensor table is read from the weights file itself, so the manifest cannot disagree
    with the weights it was built from. No timestamps: the same files give the same bytes.
    """
    root = Path(directory)
    (root / MANIFEST_NAME).unlink(missing_ok=True)
    files = {
        rel: {"sha256": sha256_file(root / rel), "size": (root / rel).stat().st_size}
        for rel in sorted(_listed_tree(root))
    }
    tensors = {k: v.model_dump(mode="json") for k, v in sorted(read_header(root / weights).items())}
    data = {
        "format": FORMAT,
        "name": name,
        "version": version,
        "task": task,
        "runtime": runtime,
        "license": license,
        "description": description,
        "dtype": dtype,
        "weights": weights,
        "config": config,
        "tokenizer": tokenizer,
        "input_schema": input_schema,
        "output_schema": output_schema,
        "tensors": tensors,
        "files": files,
        "metadata": metadata or {},
    }
    if zk is not None:
        data["zk"] = zk
    manifest = parse_manifest(json.dumps(data).encode())
    (root / MANIFEST_NAME).write_bytes(manifest.to_json_bytes())
    return load_bundle(root)


def rewrite_manifest(directory: str | Path, **changes: Any) -> Bundle:
    """Rewrite ``directory``'s manifest with ``changes`` (top-level fields) and every file
    hashed again: how ``inferchain model publish`` records what it built into the bundle."""
    root = Path(directory)
    data = parse_manifest((root / MANIFEST_NAME).read_bytes()).model_dump(mode="json")
    data.update(changes)
    data["files"] = {
        rel: {"sha256": sha256_file(root / rel), "size": (root / rel).stat().st_size}
        for rel in sorted(_listed_tree(root))
    }
    manifest = parse_manifest(json.dumps(data).encode())
    (root / MANIFEST_NAME).write_bytes(manifest.to_json_bytes())
    return load_bundle(root)
