"""Shared by the classification runtimes: labels from config, top-k results from logits, and
the batched run that joins them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import torch
from torch import Tensor

from inferchain.bundle import InferenceFailed, ManifestError
from inferchain.worker.runtimes.base import Output, round_probability


class Ranked(Protocol):
    """A prepared classification request: how many labels it wants back."""

    @property
    def top_k(self) -> int: ...


R = TypeVar("R", bound=Ranked)


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


def classify(
    batch: Sequence[R],
    size: int,
    logits: Callable[[Sequence[R]], Tensor],
    labels: tuple[str, ...],
    output: Callable[[dict[str, Any]], Output],
    device: torch.device,
) -> list[Output]:
    """``batch`` through ``logits`` at most ``size`` requests at a time, each row's labels
    ranked to its request's ``top_k``; torch's errors become ``InferenceFailed``."""
    outputs: list[Output] = []
    try:
        with torch.inference_mode():
            for i in range(0, len(batch), size):
                chunk = batch[i : i + size]
                ranked = top_k(logits(chunk), labels, [r.top_k for r in chunk])
                outputs += [output(result) for result in ranked]
    except RuntimeError as exc:
        raise InferenceFailed(f"classification failed on {device}: {exc}") from exc
    return outputs
