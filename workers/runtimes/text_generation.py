"""Runtime ``inferchain-gpt``: text generation with the project's GPT, greedy or seeded sampling.

Input (JSON object, or a bare string as the prompt)::

    {"prompt": "...", "max_new_tokens": 32, "temperature": 0.0, "top_k": 0, "seed": 0,
     "stop": ["\\n\\n"]}

``temperature`` 0 is greedy. Sampling draws its random numbers from a CPU generator seeded
per job and picks from float64 probabilities, so the random stream is the same on every
device and batch; only logit rounding differs between devices.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from inferchain.bundle import Bundle, InferenceFailed, InvalidInput
from inferchain.bundle.limits import GenerationLimits
from inferchain.worker.runtimes._config import read_config
from inferchain.worker.runtimes._inputs import Params, parse_object
from inferchain.worker.runtimes._streaming import settled_piece
from inferchain.worker.runtimes._weights import load_tokenizer, load_weights
from inferchain.worker.runtimes.base import Output, model_info, pick_device, runtime_info
from inferchain.worker.runtimes.gpt import GPT, GPTConfig, KVCache


@dataclass(frozen=True)
class GenerationRequest:
    prompt_ids: tuple[int, ...]  # BOS first
    max_new_tokens: int
    temperature: float
    top_k: int
    seed: int
    stop: tuple[str, ...]

    @property
    def prompt_tokens(self) -> int:
        """The prompt's tokens as the output document counts them (BOS excluded)."""
        return len(self.prompt_ids) - 1


@dataclass
class _Row:
    request: GenerationRequest
    generator: torch.Generator
    tokens: list[int]
    finish_reason: str | None = None
    text: str = ""
    streamed: int = 0  # characters of text already streamed


class TextGenerationRuntime:
    name: ClassVar[str] = "inferchain-gpt"

    def __init__(self, bundle: Bundle, device: str | torch.device | None = None) -> None:
        self.bundle = bundle
        self.device = pick_device(device)
        _, self.config, self.limits = read_config(bundle, GPTConfig, GenerationLimits)
        self.tokenizer = load_tokenizer(bundle, "text-generation", self.config.vocab_size)
        self.model = load_weights(GPT(self.config), bundle, self.device)
        self._model_info = model_info(bundle)
        self._runtime_info = runtime_info(self.name, self.device, bundle.manifest.dtype)

    # -- prepare --------------------------------------------------------------------------------

    def prepare(self, raw: object) -> GenerationRequest:
        limits = self.limits
        params = Params(parse_object(raw, max_bytes=limits.max_input_bytes, text_key="prompt"))
        prompt = params.text("prompt", max_bytes=limits.max_prompt_bytes)
        max_new = params.integer(
            "max_new_tokens", limits.default_new_tokens, 1, limits.max_new_tokens
        )
        temperature = params.number("temperature", 0.0, 0.0, 10.0)
        top_k = params.integer("top_k", 0, 0, self.config.vocab_size)
        seed = params.integer("seed", 0, 0, 2**63 - 1)
        stop = params.text_list("stop", max_items=limits.max_stop, max_bytes=limits.max_stop_bytes)
        params.finish()
        ids = (self.config.bos_token_id, *self.tokenizer.encode(prompt).ids)
        context = self.config.context_length
        if len(ids) + max_new > context:
            raise InvalidInput(
                "context_overflow",
                f"prompt is {len(ids) - 1} tokens and asks for {max_new} more; the context "
                f"holds {context} including one start token",
            )
        return GenerationRequest(ids, max_new, temperature, top_k, seed, stop)

    # -- run ------------------------------------------------------------------------------------

    def run(self, batch: Sequence[GenerationRequest], *, use_cache: bool = True) -> list[Output]:
        outputs: list[Output] = []
        size = self.limits.max_batch_size
        try:
            for i in range(0, len(batch), size):
                rows = self._generate(batch[i : i + size], use_cache)
                outputs.extend(self._output(row) for row in rows)
        except RuntimeError as exc:  # includes torch.cuda.OutOfMemoryError
            raise InferenceFailed(f"generation failed on {self.device}: {exc}") from exc
        return outputs

    def generate_stream(self, request: GenerationRequest) -> Generator[str, None, Output]:
        """Yield the job's text piece by piece as decoded; return its full ``Output``.

        Decodes the job alone (a batch of one gives the same tokens as any batch). The
        pieces join to the output's ``text``: text that might turn out to start a stop
        string, or an incomplete UTF-8 character, is held back until it is settled.
        """
        row = _Row(request, torch.Generator(device="cpu").manual_seed(request.seed), [])
        try:
            for _ in self._steps([row], use_cache=True):
                piece = self._settled(row)
                if piece:
                    yield piece
        except RuntimeError as exc:  # includes torch.cuda.OutOfMemoryError
            raise InferenceFailed(f"generation failed on {self.device}: {exc}") from exc
        output = self._output(row)
        text = output.result["text"]
        if len(text) > row.streamed:
            yield text[row.streamed :]
        return output

    def _settled(self, row: _Row) -> str:
        """New text that no later token can change: it may be streamed now."""
        if row.finish_reason is not None:
            return ""
        text = self.tokenizer.decode(row.tokens)
        piece, row.streamed = settled_piece(text, row.request.stop, row.streamed)
        return piece

    def _generate(self, requests: Sequence[GenerationRequest], use_cache: bool) -> list[_Row]:
        rows = [_Row(r, torch.Generator(device="cpu").manual_seed(r.seed), []) for r in requests]
        for _ in self._steps(rows, use_cache):
            pass
        return rows

    @torch.inference_mode()
    def _steps(self, rows: list[_Row], use_cache: bool) -> Iterator[None]:
        """Decode ``rows`` together, yielding after each token every running row took."""
        requests = [row.request for row in rows]
        width = max(len(r.prompt_ids) for r in requests)
        columns = width + max(r.max_new_tokens for r in requests)
        device, pad = self.device, self.config.eos_token_id
        tokens = torch.full((len(rows), columns), pad, dtype=torch.long, device=device)
        valid = torch.zeros((len(rows), columns), dtype=torch.bool, device=device)
        for i, r in enumerate(requests):
            tokens[i, width - len(r.prompt_ids) : width] = torch.tensor(r.prompt_ids)
            valid[i, width - len(r.prompt_ids) : width] = True
        cache = (
            KVCache(self.config, len(rows), columns, device, self.model.tok_emb.weight.dtype)
            if use_cache
            else None
        )
        logits = self.model(tokens[:, :width], key_valid=valid[:, :width], cache=cache)[:, -1]
        for column in range(width, columns):
            chosen = self._choose(logits, rows)
            for row, token in zip(rows, chosen, strict=True):
                if row.finish_reason is None:
                    self._advance(row, token)
            yield
            if all(row.finish_reason is not None for row in rows):
                break
            running = [row.finish_reason is None for row in rows]
            tokens[:, column] = torch.tensor(chosen, device=device)
            # finished rows stop growing, so their positions never pass the context length
            valid[:, column] = torch.tensor(running, device=device)
            if cache is not None:
                step = tokens[:, column : column + 1]
                logits = self.model(
                    step, key_valid=valid[:, : column + 1], cache=cache, start=column
                )
            else:
                logits = self.model(tokens[:, : column + 1], key_valid=valid[:, : column + 1])
            logits = logits[:, -1]

    def _choose(self, logits: Tensor, rows: list[_Row]) -> list[int]:
        greedy = logits.argmax(dim=-1).tolist()
        if all(row.request.temperature == 0.0 for row in rows):
            return greedy
        table = logits.to(device="cpu", dtype=torch.float64)
        chosen = []
        for i, row in enumerate(rows):
            request = row.request
            if request.temperature == 0.0 or row.finish_reason is not None:
                chosen.append(greedy[i])
                continue
            scores = table[i] / request.temperature
            order = torch.sort(scores, descending=True, stable=True).indices
            if request.top_k:
                order = order[: request.top_k]
            probs = torch.softmax(scores[order], dim=0)
            draw = torch.rand((), generator=row.generator, dtype=torch.float64)
            pick = int(
                torch.searchsorted(probs.cumsum(0), draw * probs.sum()).clamp(max=len(order) - 1)
            )
            chosen.append(int(order[pick]))
        return chosen

    def _advance(self, row: _Row, token: int) -> None:
        request = row.request
        if token == self.config.eos_token_id:
            row.finish_reason = "eos"
            return
        row.tokens.append(token)
        if request.stop:
            text = self.tokenizer.decode(row.tokens)
            hits = [i for i in (text.find(s) for s in request.stop) if i >= 0]
            if hits:
                row.text = text[: min(hits)]
                row.finish_reason = "stop"
                return
        if len(row.tokens) >= request.max_new_tokens:
            row.finish_reason = "length"

    def _output(self, row: _Row) -> Output:
        text = row.text if row.finish_reason == "stop" else self.tokenizer.decode(row.tokens)
        result: dict[str, Any] = {
            "text": text,
            "tokens": row.tokens,
            "finish_reason": row.finish_reason or "length",
            "prompt_tokens": len(row.request.prompt_ids) - 1,
            "completion_tokens": len(row.tokens),
        }
        return Output("text-generation", self._model_info, result, self._runtime_info)
