"""Load a bundle's safetensors into a module, and its tokenizer, translating load errors into
bundle errors."""

from __future__ import annotations

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import nn

from inferchain.bundle import Bundle, ManifestError, TensorMismatch

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


def load_tokenizer(bundle: Bundle, task: str, vocab_size: int) -> Tokenizer:
    """The bundle's tokenizer, refused when missing or when it has ids past the model's
    ``vocab_size`` (an embedding lookup would fail at inference)."""
    if bundle.manifest.tokenizer is None:
        raise ManifestError(f"a {task} bundle needs a tokenizer")
    tokenizer = Tokenizer.from_file(str(bundle.file(bundle.manifest.tokenizer)))
    if tokenizer.get_vocab_size() > vocab_size:
        raise ManifestError("the tokenizer has more tokens than the model's vocabulary")
    return tokenizer
