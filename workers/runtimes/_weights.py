"""Load a bundle's safetensors into a module, translating torch's errors into bundle errors."""

from __future__ import annotations

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from inferchain.bundle import Bundle, TensorMismatch

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def load_weights(module: nn.Module, bundle: Bundle, device: torch.device) -> nn.Module:
    """Strictly load weights (every name, every shape), cast to the manifest dtype, eval mode."""
    path = bundle.file(bundle.manifest.weights)
    try:
        state = load_file(str(path), device="cpu")
        module.load_state_dict(state, strict=True)
    except (RuntimeError, SafetensorError) as exc:
        raise TensorMismatch(f"{path.name} does not fit the configured model: {exc}") from exc
    return module.to(device=device, dtype=DTYPES[bundle.manifest.dtype]).eval()
