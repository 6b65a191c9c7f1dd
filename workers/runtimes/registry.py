"""Runtime name (from the manifest) -> implementation, and the worker's one-call entry point."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from inferchain.bundle import Bundle, InvalidInput, UnknownRuntime
from inferchain.worker.runtimes.base import Output, Runtime
from inferchain.worker.runtimes.hf_transformers import RUNTIME_NAME as HF_RUNTIME
from inferchain.worker.runtimes.hf_transformers import load_hf_runtime
from inferchain.worker.runtimes.image_classification import ImageClassificationRuntime
from inferchain.worker.runtimes.text_classification import TextClassificationRuntime
from inferchain.worker.runtimes.text_generation import TextGenerationRuntime
from inferchain.worker.runtimes.zk_mlp import MlpRuntime

#: Must implement exactly ``inferchain.bundle.RUNTIME_TASKS`` (a test checks).
RUNTIMES: dict[str, Callable[[Bundle, str | torch.device | None], Runtime]] = {
    TextGenerationRuntime.name: TextGenerationRuntime,
    ImageClassificationRuntime.name: ImageClassificationRuntime,
    TextClassificationRuntime.name: TextClassificationRuntime,
    HF_RUNTIME: load_hf_runtime,
    MlpRuntime.name: MlpRuntime,
}


def load_runtime(bundle: Bundle, device: str | torch.device | None = None) -> Runtime:
    """Instantiate the bundle's runtime on ``device`` (None: CUDA if present, else CPU)."""
    factory = RUNTIMES.get(bundle.manifest.runtime)
    if factory is None:
        raise UnknownRuntime(f"no runtime named {bundle.manifest.runtime!r} in this worker")
    return factory(bundle, device)


def infer(runtime: Runtime, inputs: Sequence[object]) -> list[Output | InvalidInput]:
    """Run many job inputs: invalid ones come back as their error, the rest as one batch."""
    results: list[Output | InvalidInput | None] = []
    valid: list[tuple[int, object]] = []
    for raw in inputs:
        try:
            valid.append((len(results), runtime.prepare(raw)))
            results.append(None)
        except InvalidInput as exc:
            results.append(exc)
    outputs = runtime.run([request for _, request in valid])
    for (slot, _), output in zip(valid, outputs, strict=True):
        results[slot] = output
    return [r for r in results if r is not None]
