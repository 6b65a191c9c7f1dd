"""Load an ``hf-transformers`` bundle: model, tokenizer, limits, device and dtype, once.

Weights load from the bundle directory only (``local_files_only``, safetensors, no remote
code). On CUDA they run in the manifest dtype; on CPU in float32, since half precision is
emulated there (slow, and rounded differently from a GPU anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from inferchain.bundle import Bundle, ManifestError, TensorMismatch
from inferchain.bundle.limits import HfLimits, from_dict
from inferchain.worker.runtimes.base import model_info, pick_device, runtime_info

RUNTIME_NAME = "hf-transformers"


@dataclass
class HfModel:
    """What every task's runtime holds."""

    bundle: Bundle
    device: torch.device
    model: Any  # a transformers PreTrainedModel, in eval mode on ``device``
    tokenizer: Any  # a transformers fast tokenizer
    limits: HfLimits
    model_info: dict[str, str]
    runtime_info: dict[str, str]

    @property
    def memory_bytes(self) -> int:
        """Parameter and buffer bytes as loaded: what the runtime pool accounts for."""
        tensors = [*self.model.parameters(), *self.model.buffers()]
        return sum(t.numel() * t.element_size() for t in tensors)


def load_hf(bundle: Bundle, device: str | torch.device | None, auto_class_name: str) -> HfModel:
    """Load ``bundle`` with ``transformers.<auto_class_name>``; refuse weights that do not fit."""
    import transformers
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    chosen = pick_device(device)
    dtype = bundle.manifest.dtype if chosen.type == "cuda" else "float32"
    limits = from_dict(HfLimits, bundle.config().get("limits"), "config.limits")
    if bundle.manifest.tokenizer is None:
        raise ManifestError("an hf-transformers bundle needs a tokenizer")
    auto_class = getattr(transformers, auto_class_name)
    options: dict[str, Any] = {"local_files_only": True, "trust_remote_code": False}
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(bundle.path, **options)
        model, info = auto_class.from_pretrained(
            bundle.path,
            use_safetensors=True,
            dtype=getattr(torch, dtype),
            output_loading_info=True,
            **options,
        )
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise ManifestError(f"transformers cannot load {bundle.path.name}: {exc}") from exc
    # a missing tensor would silently be random: refuse. Unexpected ones (a classifier's
    # head under --task embeddings) are left unused.
    problems = {
        k: sorted(map(str, info[k])) for k in ("missing_keys", "mismatched_keys") if info[k]
    }
    if problems or info.get("error_msgs"):
        raise TensorMismatch(f"weights do not fit {type(model).__name__}: {problems}")
    model.to(chosen).eval()
    details = runtime_info(RUNTIME_NAME, chosen, dtype)
    details["transformers"] = transformers.__version__
    return HfModel(bundle, chosen, model, tokenizer, limits, model_info(bundle), details)
