"""The runtime interface, canonical output encoding and device choice shared by all runtimes."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import torch

from inferchain import __version__
from inferchain.bundle import Bundle

PROBABILITY_DECIMALS = 6


@dataclass(frozen=True)
class Output:
    """One job's result plus what produced it.

    ``result`` depends only on bundle, input and parameters (and, through float rounding,
    rarely on the device); ``runtime`` records device, dtype and versions, so the whole
    document is byte-identical for the same bundle, input, parameters and runtime.
    """

    task: str
    model: dict[str, str]
    result: dict[str, Any]
    runtime: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "result": self.result,
            "runtime": self.runtime,
            "task": self.task,
        }

    def to_bytes(self) -> bytes:
        """Canonical JSON: what a worker pins and a verifier hashes."""
        return canonical_json(self.to_dict())


@runtime_checkable
class Runtime(Protocol):
    """A loaded bundle. ``prepare`` checks one job input; ``run`` executes a batch of them.

    ``prepare`` raises ``InvalidInput`` (the requester's fault); ``run`` raises only
    ``InferenceFailed`` (the worker's), so one bad job never fails a batch.
    """

    name: ClassVar[str]
    bundle: Bundle
    device: torch.device

    def prepare(self, raw: object) -> Any: ...

    def run(self, batch: Sequence[Any]) -> list[Output]: ...


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8, no NaN: equal values give equal bytes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def round_probability(value: float) -> float:
    """Fixed rounding so tiny float noise below 1e-6 does not change the output bytes."""
    rounded = round(float(value), PROBABILITY_DECIMALS)
    return 0.0 if rounded == 0 or not math.isfinite(rounded) else rounded


def pick_device(requested: str | torch.device | None = None) -> torch.device:
    """``None``/"auto": CUDA when present, else CPU. Also switches CUDA to deterministic math."""
    if requested is None or requested == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(requested)
    if device.type == "cuda":
        # TF32 and autotuned kernels trade reproducibility for speed; outputs must be hashable.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    return device


def runtime_info(name: str, device: torch.device, dtype: str) -> dict[str, str]:
    return {
        "name": name,
        "inferchain": __version__,
        "torch": torch.__version__,
        "device": device.type,
        "dtype": dtype,
    }


def model_info(bundle: Bundle) -> dict[str, str]:
    return {
        "name": bundle.manifest.name,
        "version": bundle.manifest.version,
        "manifest_sha256": bundle.manifest_sha256,
    }
