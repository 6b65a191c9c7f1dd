"""Runtime ``hf-transformers``: a Hugging Face model stored as a bundle, one class per task.

Bundles come from ``inferchain model import-hf`` (:mod:`inferchain.bundle.hf_import`).
The manifest's task picks the runtime: text generation
(:mod:`~inferchain.worker.runtimes.hf_generation`), text classification or embeddings
(:mod:`~inferchain.worker.runtimes.hf_encoders`).
"""

from __future__ import annotations

import torch

from inferchain.bundle import Bundle, UnknownRuntime
from inferchain.worker.runtimes._hf_load import RUNTIME_NAME
from inferchain.worker.runtimes.base import Runtime
from inferchain.worker.runtimes.hf_encoders import HfClassificationRuntime, HfEmbeddingRuntime
from inferchain.worker.runtimes.hf_generation import HfGenerationRuntime

__all__ = ["RUNTIME_NAME", "load_hf_runtime"]

_BY_TASK = {
    "text-generation": HfGenerationRuntime,
    "text-classification": HfClassificationRuntime,
    "embeddings": HfEmbeddingRuntime,
}


def load_hf_runtime(bundle: Bundle, device: str | torch.device | None = None) -> Runtime:
    """The runtime for the bundle's task, its weights loaded on ``device``."""
    factory = _BY_TASK.get(bundle.manifest.task)
    if factory is None:
        raise UnknownRuntime(f"{RUNTIME_NAME} does not serve {bundle.manifest.task!r}")
    return factory(bundle, device)
