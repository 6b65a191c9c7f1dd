"""Shared by the demo builders: seeding, training loops, output directories, weight and JSON
files, schemas."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import Tensor, nn
from torch.nn import functional as F

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


def train_language_model(
    model: nn.Module,
    logits: Callable[[Tensor], Tensor],
    data: Tensor,
    steps: int,
    batch_size: int,
    context_length: int,
    learning_rate: float,
    generator: torch.Generator,
) -> float:
    """AdamW on random windows of the token stream ``data``, warm-up then cosine decay; the
    mean loss of the last 50 steps. ``logits`` maps a [batch, window] id tensor to logits."""
    window = min(context_length, len(data) - 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    warmup = max(1, min(100, steps // 10))
    recent: list[float] = []
    model.train()
    for step in range(steps):
        lr = learning_rate * min(1.0, (step + 1) / warmup)
        lr *= 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / max(1, steps)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        starts = torch.randint(len(data) - window, (batch_size,), generator=generator)
        x = torch.stack([data[s : s + window] for s in starts.tolist()])
        y = torch.stack([data[s + 1 : s + 1 + window] for s in starts.tolist()])
        loss = F.cross_entropy(logits(x).flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        recent = [*recent[-49:], loss.item()]
    return sum(recent) / max(1, len(recent))


def train_classifier(
    model: nn.Module,
    xs: Tensor,
    ys: Tensor,
    *,
    epochs: int,
    learning_rate: float,
    generator: torch.Generator,
) -> None:
    """Adam over shuffled batches of 64 for ``epochs`` epochs; leaves ``model`` in eval mode."""
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    for _ in range(epochs):
        order = torch.randperm(len(xs), generator=generator)
        for start in range(0, len(xs), 64):
            batch = order[start : start + 64]
            loss = F.cross_entropy(model(xs[batch]), ys[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    model.eval()


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
