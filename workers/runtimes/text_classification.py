"""Runtime ``inferchain-bow``: text classification, labels with probabilities.

Input: ``{"text": "...", "top_k": 2}`` as JSON bytes or a mapping, or a bare string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from inferchain.bundle import Bundle, InvalidInput
from inferchain.bundle.limits import TextLimits
from inferchain.worker.runtimes._classify import classify, read_labels
from inferchain.worker.runtimes._config import read_config
from inferchain.worker.runtimes._inputs import Params, parse_object
from inferchain.worker.runtimes._weights import load_tokenizer, load_weights
from inferchain.worker.runtimes.base import Output, model_info, pick_device, runtime_info
from inferchain.worker.runtimes.bow import BagOfTokens, BowConfig


@dataclass(frozen=True)
class TextRequest:
    token_ids: tuple[int, ...]
    top_k: int


class TextClassificationRuntime:
    name: ClassVar[str] = "inferchain-bow"

    def __init__(self, bundle: Bundle, device: str | torch.device | None = None) -> None:
        self.bundle = bundle
        self.device = pick_device(device)
        config, self.config, self.limits = read_config(bundle, BowConfig, TextLimits)
        self.labels = read_labels(config, self.config.num_labels)
        self.tokenizer = load_tokenizer(bundle, "text-classification", self.config.vocab_size)
        self.model = load_weights(BagOfTokens(self.config), bundle, self.device)
        self._model_info = model_info(bundle)
        self._runtime_info = runtime_info(self.name, self.device, bundle.manifest.dtype)

    def prepare(self, raw: object) -> TextRequest:
        limits = self.limits
        params = Params(parse_object(raw, max_bytes=limits.max_input_bytes, text_key="text"))
        text = params.text("text", max_bytes=limits.max_text_bytes)
        k = params.integer("top_k", self.config.num_labels, 1, self.config.num_labels)
        params.finish()
        ids = tuple(self.tokenizer.encode(text).ids)
        if not ids:
            raise InvalidInput("invalid_param", "text holds no tokens")
        if len(ids) > limits.max_tokens:
            raise InvalidInput(
                "oversize", f"text is {len(ids)} tokens; the limit is {limits.max_tokens}"
            )
        return TextRequest(ids, k)

    def run(self, batch: Sequence[TextRequest]) -> list[Output]:
        return classify(
            batch, self.limits.max_batch_size, self._logits, self.labels, self._output, self.device
        )

    def _logits(self, chunk: Sequence[TextRequest]) -> torch.Tensor:
        """One flat token list and each request's start in it (the bag-of-tokens input)."""
        flat = [t for r in chunk for t in r.token_ids]
        starts, total = [], 0
        for r in chunk:
            starts.append(total)
            total += len(r.token_ids)
        return self.model(
            torch.tensor(flat, device=self.device), torch.tensor(starts, device=self.device)
        )

    def _output(self, result: dict[str, Any]) -> Output:
        return Output("text-classification", self._model_info, result, self._runtime_info)
