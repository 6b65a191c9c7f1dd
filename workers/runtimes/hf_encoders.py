"""``hf-transformers`` text classification and embeddings: one forward pass per text.

Input: ``{"text": "..."}`` (classification also ``"top_k"``) or a bare string. The text's
tokens, special tokens included, must fit in the context window. Embeddings are the
attention-masked mean of the last hidden state, L2-normalised, rounded to 6 decimals.
Each text runs alone, for the same reason as generation: padding a batch changes float
sums, and a job's bytes must not depend on its neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from inferchain.bundle import Bundle, InferenceFailed, InvalidInput, ManifestError
from inferchain.worker.runtimes._classify import top_k
from inferchain.worker.runtimes._hf_load import RUNTIME_NAME, HfModel, load_hf
from inferchain.worker.runtimes._inputs import Params, parse_object
from inferchain.worker.runtimes.base import Output, round_probability


@dataclass(frozen=True)
class HfTextRequest:
    token_ids: tuple[int, ...]
    top_k: int = 0


class _Encoder:
    name: ClassVar[str] = RUNTIME_NAME
    task: ClassVar[str]
    auto_class: ClassVar[str]

    def __init__(self, bundle: Bundle, device: str | torch.device | None = None) -> None:
        self._hf: HfModel = load_hf(bundle, device, self.auto_class)
        self.bundle, self.device, self.limits = bundle, self._hf.device, self._hf.limits
        self.model, self.tokenizer = self._hf.model, self._hf.tokenizer
        self.memory_bytes = self._hf.memory_bytes

    def _token_ids(self, params: Params) -> tuple[int, ...]:
        text = params.text("text", max_bytes=self.limits.max_prompt_bytes)
        ids = tuple(int(i) for i in self.tokenizer(text)["input_ids"])
        if not ids:
            raise InvalidInput("invalid_param", "text holds no tokens")
        if len(ids) > self.limits.context_length:
            raise InvalidInput(
                "context_overflow",
                f"the text is {len(ids)} tokens; the context window (context_length) holds "
                f"{self.limits.context_length}",
            )
        return ids

    def run(self, batch: Sequence[HfTextRequest]) -> list[Output]:
        try:
            with torch.inference_mode():
                return [self._output(request) for request in batch]
        except RuntimeError as exc:  # includes torch.cuda.OutOfMemoryError
            raise InferenceFailed(f"{self.task} failed on {self.device}: {exc}") from exc

    def _forward(self, request: HfTextRequest) -> Any:
        ids = torch.tensor([request.token_ids], device=self.device)
        return self.model(input_ids=ids, attention_mask=torch.ones_like(ids))

    def _output(self, request: HfTextRequest) -> Output:
        raise NotImplementedError


class HfClassificationRuntime(_Encoder):
    task: ClassVar[str] = "text-classification"
    auto_class: ClassVar[str] = "AutoModelForSequenceClassification"

    def __init__(self, bundle: Bundle, device: str | torch.device | None = None) -> None:
        super().__init__(bundle, device)
        id2label = self.model.config.id2label or {}
        count = self.model.config.num_labels
        labels = tuple(str(id2label.get(i, "")) for i in range(count))
        if not all(labels) or len(set(labels)) != count:
            raise ManifestError(f"config.id2label must name {count} distinct labels")
        self.labels = labels

    def prepare(self, raw: object) -> HfTextRequest:
        params = Params(parse_object(raw, max_bytes=self.limits.max_input_bytes, text_key="text"))
        ids = self._token_ids(params)
        k = params.integer("top_k", len(self.labels), 1, len(self.labels))
        params.finish()
        return HfTextRequest(ids, k)

    def _output(self, request: HfTextRequest) -> Output:
        logits = self._forward(request).logits
        result = top_k(logits, self.labels, [request.top_k])[0]
        return Output(self.task, self._hf.model_info, result, self._hf.runtime_info)


class HfEmbeddingRuntime(_Encoder):
    task: ClassVar[str] = "embeddings"
    auto_class: ClassVar[str] = "AutoModel"

    def prepare(self, raw: object) -> HfTextRequest:
        params = Params(parse_object(raw, max_bytes=self.limits.max_input_bytes, text_key="text"))
        ids = self._token_ids(params)
        params.finish()
        return HfTextRequest(ids)

    def _output(self, request: HfTextRequest) -> Output:
        hidden = self._forward(request).last_hidden_state[0].float()  # one row, no padding
        vector = torch.nn.functional.normalize(hidden.mean(dim=0), dim=0)
        result = {
            "embedding": [round_probability(x) for x in vector.cpu().tolist()],
            "dims": int(vector.shape[0]),
            "prompt_tokens": len(request.token_ids),
        }
        return Output(self.task, self._hf.model_info, result, self._hf.runtime_info)
