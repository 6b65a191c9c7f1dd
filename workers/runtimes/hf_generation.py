"""``hf-transformers`` text generation: any ``AutoModelForCausalLM``, greedy or seeded sampling.

Input (JSON object, or a bare string as the prompt)::

    {"prompt": "..."} or {"messages": [{"role": "user", "content": "..."}]},
    plus "max_new_tokens", "temperature" (0: greedy), "top_p", "seed", "stop"

``messages`` go through the bundle's chat template; ``content`` is a string or a list of
``{"type": "text", "text": ...}`` parts. Prompt tokens + ``max_new_tokens`` must fit in
the model's context window.

Jobs decode together with continuous batching
(:mod:`~inferchain.worker.runtimes.hf_scheduler`): they join and leave the running batch
between decode steps, and a job's bytes do not depend on its neighbours, because each
attends only to its own KV cache and its matmuls do not depend on the batch size (on CPU
each row is a product of its own; :mod:`~inferchain.worker.runtimes._hf_rows`). A model
that cannot decode row-wise (sliding-window or non-sdpa attention) decodes each job alone.
Sampling draws from a CPU generator seeded per job, on float64 probabilities, so the random
stream is the same on any device. :meth:`HfGenerationRuntime.generate_stream` yields the
text of one job as it is decoded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import torch
from torch import Tensor

from inferchain.bundle import Bundle, InferenceFailed, InvalidInput
from inferchain.worker.runtimes._hf_load import RUNTIME_NAME, load_hf
from inferchain.worker.runtimes._hf_rows import unsupported, use_rows
from inferchain.worker.runtimes._inputs import Params, parse_object
from inferchain.worker.runtimes._streaming import settled_piece
from inferchain.worker.runtimes.base import Output
from inferchain.worker.runtimes.hf_scheduler import DecodeScheduler, Ticket

#: Rows a decode step runs at most; more jobs wait for a free row.
MAX_ROWS = 16

_ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class HfGenerationRequest:
    prompt_ids: tuple[int, ...]
    max_new_tokens: int
    temperature: float
    top_p: float
    seed: int
    stop: tuple[str, ...]

    @property
    def prompt_tokens(self) -> int:
        """The prompt's tokens as the output document counts them."""
        return len(self.prompt_ids)


@dataclass
class _State:
    """One job's decoding so far: tokens, the text already streamed, and why it ended."""

    tokens: list[int] = field(default_factory=list)
    streamed: int = 0
    text: str = ""
    finish_reason: str | None = None


class HfGenerationRuntime:
    name: ClassVar[str] = RUNTIME_NAME

    def __init__(
        self,
        bundle: Bundle,
        device: str | torch.device | None = None,
        *,
        max_rows: int = MAX_ROWS,
    ) -> None:
        self._hf = load_hf(bundle, device, "AutoModelForCausalLM")
        self.bundle, self.device, self.limits = bundle, self._hf.device, self._hf.limits
        self.model, self.tokenizer = self._hf.model, self._hf.tokenizer
        self.memory_bytes = self._hf.memory_bytes
        eos = self.model.generation_config.eos_token_id
        eos = eos if eos is not None else self.model.config.eos_token_id
        self.eos_ids = frozenset([eos] if isinstance(eos, int) else (eos or ()))
        #: Why jobs of this model decode alone, or None when they batch.
        self.per_job_reason = unsupported(self.model, self.limits.context_length)
        self.scheduler: DecodeScheduler | None = None
        if self.per_job_reason is None:
            use_rows(self.model)
            self.scheduler = DecodeScheduler(
                self.model, self.device, _choose, self.eos_ids, max_rows=max_rows
            )

    # -- prepare --------------------------------------------------------------------------------

    def prepare(self, raw: object) -> HfGenerationRequest:
        limits = self.limits
        params = Params(parse_object(raw, max_bytes=limits.max_input_bytes, text_key="prompt"))
        messages = params.raw("messages", None)
        if messages is None:
            prompt = params.text("prompt", max_bytes=limits.max_prompt_bytes)
        elif params.raw("prompt", None) is not None:
            raise InvalidInput("wrong_type", "give 'prompt' or 'messages', not both")
        max_new = params.integer(
            "max_new_tokens", limits.default_new_tokens, 1, limits.max_new_tokens
        )
        temperature = params.number("temperature", 0.0, 0.0, 10.0)
        top_p = params.number("top_p", 1.0, 0.0, 1.0)
        if top_p == 0.0:
            raise InvalidInput("invalid_param", "'top_p' must be above 0")
        seed = params.integer("seed", 0, 0, 2**63 - 1)
        stop = params.text_list("stop", max_items=limits.max_stop, max_bytes=limits.max_stop_bytes)
        params.finish()
        ids = self._chat_ids(messages) if messages is not None else self._prompt_ids(prompt)
        if not ids:
            raise InvalidInput("invalid_param", "the prompt holds no tokens")
        context = limits.context_length
        if len(ids) + max_new > context:
            raise InvalidInput(
                "context_overflow",
                f"the prompt is {len(ids)} tokens and asks for {max_new} more; the context "
                f"window (context_length) holds {context}",
            )
        return HfGenerationRequest(tuple(ids), max_new, temperature, top_p, seed, stop)

    def _prompt_ids(self, prompt: str) -> list[int]:
        return list(self.tokenizer(prompt)["input_ids"])

    def _chat_ids(self, messages: object) -> list[int]:
        chat = _parse_messages(messages, self.limits.max_messages, self.limits.max_prompt_bytes)
        if not self.tokenizer.chat_template:
            raise InvalidInput("invalid_param", "this model has no chat template; send 'prompt'")
        try:
            encoded = self.tokenizer.apply_chat_template(
                chat, add_generation_prompt=True, tokenize=True
            )
        except Exception as exc:  # jinja's own errors, or a template's raise_exception
            raise InvalidInput(
                "invalid_param", f"the chat template refused the messages: {exc}"
            ) from exc
        ids = encoded["input_ids"] if not isinstance(encoded, list) else encoded
        return [int(i) for i in ids]

    # -- run ------------------------------------------------------------------------------------

    def run(self, batch: Sequence[HfGenerationRequest]) -> list[Output]:
        """All jobs at once: all join the batch now, their streams are read in turn."""
        sources = [self._token_source(request) for request in batch]
        streams = [self._stream(r, s) for r, s in zip(batch, sources, strict=True)]
        outputs: list[Output | None] = [None] * len(streams)
        live = list(range(len(streams)))
        try:
            while live:
                for i in list(live):
                    try:
                        next(streams[i])
                    except StopIteration as done:
                        outputs[i] = done.value
                        live.remove(i)
                        sources[i].close()  # a stop string: the job leaves the batch now
        finally:
            for source in sources:
                source.close()
        return [output for output in outputs if output is not None]

    def generate_stream(self, request: HfGenerationRequest) -> Generator[str, None, Output]:
        """Yield the job's text piece by piece as decoded; return its full ``Output``.

        The job joins the running batch at the first ``next``; closing the stream takes it
        out. The pieces join to the output's ``text``: text that might turn out to start a
        stop string, or an incomplete UTF-8 character, is held back until it is settled.
        """
        tokens = self._token_source(request)
        try:
            return (yield from self._stream(request, tokens))
        finally:
            tokens.close()

    def _stream(
        self, request: HfGenerationRequest, tokens: Iterator[int]
    ) -> Generator[str, None, Output]:
        state = _State()
        try:
            for token in tokens:
                self._advance(state, request, token)
                piece = self._settled(state, request)
                if piece:
                    yield piece
                if state.finish_reason is not None:
                    break
        except RuntimeError as exc:  # includes torch.cuda.OutOfMemoryError
            raise InferenceFailed(f"generation failed on {self.device}: {exc}") from exc
        if state.finish_reason != "stop":
            state.text = self.tokenizer.decode(state.tokens, skip_special_tokens=True)
        if len(state.text) > state.streamed:
            yield state.text[state.streamed :]
        return self._output(request, state)

    def _token_source(self, request: HfGenerationRequest) -> _TokenSource:
        """The job's tokens, from the shared scheduler (the job joins it now) or alone."""
        if self.scheduler is None:
            return self._tokens_alone(request)
        return _Scheduled(self.scheduler, self.scheduler.submit(request))

    @torch.inference_mode()
    def _tokens_alone(self, request: HfGenerationRequest) -> Generator[int, None, None]:
        """Token after token over the job's own KV cache; a forward runs only when asked."""
        generator = torch.Generator(device="cpu").manual_seed(request.seed)
        step = torch.tensor([request.prompt_ids], device=self.device)
        cache = None
        for _ in range(request.max_new_tokens):
            out = self.model(input_ids=step, cache=cache, use_cache=True, logits_to_keep=1)
            cache = out.cache
            token = _choose(out.logits[0, -1], request, generator)
            yield token
            step = torch.tensor([[token]], device=self.device)

    def _advance(self, state: _State, request: HfGenerationRequest, token: int) -> None:
        if token in self.eos_ids:
            state.finish_reason = "eos"
            return
        state.tokens.append(token)
        if request.stop:
            text = self.tokenizer.decode(state.tokens, skip_special_tokens=True)
            hits = [i for i in (text.find(s) for s in request.stop) if i >= 0]
            if hits:
                state.text = text[: min(hits)]
                state.finish_reason = "stop"
                return
        if len(state.tokens) >= request.max_new_tokens:
            state.finish_reason = "length"

    def _settled(self, state: _State, request: HfGenerationRequest) -> str:
        """New text that no later token can change: the caller may stream it now."""
        if state.finish_reason is not None:
            return ""
        text = self.tokenizer.decode(state.tokens, skip_special_tokens=True)
        piece, state.streamed = settled_piece(text, request.stop, state.streamed)
        return piece

    def _output(self, request: HfGenerationRequest, state: _State) -> Output:
        result: dict[str, Any] = {
            "text": state.text,
            "tokens": state.tokens,
            "finish_reason": state.finish_reason or "length",
            "prompt_tokens": len(request.prompt_ids),
            "completion_tokens": len(state.tokens),
        }
        return Output("text-generation", self._hf.model_info, result, self._hf.runtime_info)


class _TokenSource(Protocol):
    def __iter__(self) -> Iterator[int]: ...
    def __next__(self) -> int: ...
    def close(self) -> None: ...


class _Scheduled:
    """A ticket's tokens as the scheduler makes them; ``close`` takes it out of the batch."""

    def __init__(self, scheduler: DecodeScheduler, ticket: Ticket) -> None:
        self._scheduler, self._ticket = scheduler, ticket
        self._ready: deque[int] = deque()

    def __iter__(self) -> _Scheduled:
        return self

    def __next__(self) -> int:
        if not self._ready:
            self._ready.extend(self._scheduler.take(self._ticket))
            if not self._ready:
                raise StopIteration
        return self._ready.popleft()

    def close(self) -> None:
        self._scheduler.cancel(self._ticket)


def _choose(logits: Tensor, request: HfGenerationRequest, generator: torch.Generator) -> int:
    """Greedy at temperature 0; else nucleus sampling from float64 probabilities on CPU."""
    if request.temperature == 0.0:
        return int(logits.argmax())
    scores = logits.to(device="cpu", dtype=torch.float64) / request.temperature
    order = torch.sort(scores, descending=True, stable=True).indices
    probs = torch.softmax(scores[order], dim=0)
    if request.top_p < 1.0:
        keep = int((probs.cumsum(0) - probs < request.top_p).sum())
        order, probs = order[:keep], probs[:keep]
    draw = torch.rand((), generator=generator, dtype=torch.float64)
    pick = int(torch.searchsorted(probs.cumsum(0), draw * probs.sum()).clamp(max=len(order) - 1))
    return int(order[pick])


def _parse_messages(value: object, max_messages: int, max_bytes: int) -> list[dict[str, str]]:
    """Chat messages as the template wants them: roles checked, text parts joined."""
    if not isinstance(value, list) or not 0 < len(value) <= max_messages:
        raise InvalidInput(
            "wrong_type", f"'messages' must be a list of 1..{max_messages} message objects"
        )
    chat, size = [], 0
    for i, message in enumerate(value):
        if not isinstance(message, dict) or set(message) - {"role", "content"}:
            raise InvalidInput("wrong_type", f"messages[{i}] must be {{role, content}}")
        params = Params(message)
        role = params.text("role", max_bytes=16)
        if role not in _ROLES:
            raise InvalidInput("invalid_param", f"messages[{i}].role must be one of {_ROLES}")
        content = params.raw("content")
        if isinstance(content, list):
            content = "".join(_text_part(part, i) for part in content)
        text = Params({"content": content}).text("content", max_bytes=max_bytes)
        size += len(text.encode("utf-8"))
        if size > max_bytes:
            raise InvalidInput("oversize", f"the messages hold over {max_bytes} bytes of text")
        chat.append({"role": role, "content": text})
    return chat


def _text_part(part: object, index: int) -> str:
    if not isinstance(part, dict) or part.get("type") != "text" or set(part) != {"type", "text"}:
        raise InvalidInput(
            "wrong_type", f"messages[{index}].content parts must be {{type: 'text', text}}"
        )
    text = part["text"]
    if not isinstance(text, str):
        raise InvalidInput("wrong_type", f"messages[{index}].content text must be a string")
    return text
