"""Shared by the demo builders: seeding, output directories, weight and JSON files, schemas."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import nn

from inferchain.bundle.manifest import MANIFEST_NAME


@contextmanager
def seeded(seed: int, threads: int) -> Iterator[torch.Generator]:
    """Seed torch, fix the thread count (float sums depend on it), yield a data generator."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    try:
        yield torch.Generator().manual_seed(seed)
    finally:
        torch.set_num_threads(previous)


def fresh_dir(out: str | Path) -> Path:
    """An empty directory at ``out``; replaces an old bundle there but nothing else."""
    path = Path(out)
    if path.exists():
        if not path.is_dir() or (any(path.iterdir()) and not (path / MANIFEST_NAME).is_file()):
            raise FileExistsError(f"{path} exists and is not a bundle; refusing to overwrite it")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def save_weights(model: nn.Module, path: Path) -> None:
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path))
    path.chmod(0o644)  # safetensors writes 0600; bundles are public


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n")


def classification_output_schema(labels: list[str]) -> dict[str, Any]:
    prediction = {
        "type": "object",
        "properties": {
            "index": {"type": "integer"},
            "label": {"enum": labels},
            "probability": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["index", "label", "probability"],
    }
    return {
        "type": "object",
        "description": "result field of the output document; predictions sorted by probability",
        "properties": {
            "label": {"enum": labels},
            "predictions": {"type": "array", "items": prediction, "minItems": 1},
        },
        "required": ["label", "predictions"],
    }
