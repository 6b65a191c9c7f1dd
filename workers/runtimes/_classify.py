"""Shared by the classification runtimes: labels from config, top-k results from logits."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from inferchain.bundle import ManifestError
from inferchain.worker.runtimes.base import round_probability


def read_labels(config: dict[str, Any], count: int) -> tuple[str, ...]:
    labels = config.get("labels")
    if (
        not isinstance(labels, list)
        or len(labels) != count
        or not all(isinstance(x, str) and x for x in labels)
        or len(set(labels)) != count
    ):
        raise ManifestError(f"config.labels must list {count} distinct non-empty strings")
    return tuple(labels)


def top_k(logits: Tensor, labels: tuple[str, ...], ks: list[int]) -> list[dict[str, Any]]:
    """Per row: the ``k`` most probable labels, ties broken by label index."""
    probs = torch.softmax(logits.float(), dim=-1).cpu().tolist()
    results = []
    for row, k in zip(probs, ks, strict=True):
        order = sorted(range(len(row)), key=lambda i: (-row[i], i))[:k]
        predictions = [
            {"index": i, "label": labels[i], "probability": round_probability(row[i])}
            for i in order
        ]
        results.append({"label": predictions[0]["label"], "predictions": predictions})
    return results
