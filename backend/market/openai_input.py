"""OpenAI requests as the job inputs a text runtime reads, refusing what it cannot honour.

Two runtimes serve text generation (``inferchain.bundle.RUNTIME_TASKS``), with different
inputs (workers/runtimes/text_generation.py, hf_generation.py):

- ``inferchain-gpt``: a ``prompt`` (chat as a ``System:/User:/Assistant:`` transcript, with
  two stop sequences), ``max_new_tokens``, ``temperature``, ``seed``, ``stop``. No ``top_p``.
- ``hf-transformers``: a ``prompt``, or chat ``messages`` through the model's own chat
  template; ``top_p`` too.

A parameter that would change the answer but that no runtime honours is refused with a
400 naming it, before anything is pinned or paid for: an answer that silently ignored it
would look right and not be. ``n`` choices are ``n`` jobs, told apart by their seeds.

Embeddings (``hf-transformers``, workers/runtimes/hf_encoders.py) read ``{"text"}``: one job
per input text. Token ids are refused: the gateway cannot know which tokenizer made them,
and each model has its own. ``dimensions`` is refused unless it is the model's own width:
the models here are not trained to keep meaning in a prefix of the vector (as OpenAI's
``text-embedding-3`` are), so a truncated vector would look right and not be.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from inferchain.gateway.errors import BadRequest
from inferchain.gateway.schemas.openai import (
    ChatCompletionRequest,
    ChatMessage,
    CompletionRequest,
    EmbeddingRequest,
)

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "HF_RUNTIME",
    "INPUT_NAMES",
    "chat_prompt",
    "check_dimensions",
    "embedding_inputs",
    "job_inputs",
]

HF_RUNTIME = "hf-transformers"
DEFAULT_MAX_TOKENS = 16
#: Input fields as an OpenAI client calls them, for the model-limit messages.
INPUT_NAMES = {"max_new_tokens": "max_tokens"}
_SEEDS = 2**63
#: Transcript labels; ``developer`` is OpenAI's new name for ``system``.
_LABELS = {"system": "System", "developer": "System", "user": "User", "assistant": "Assistant"}
_TRANSCRIPT_STOPS = ["\nUser:", "\nSystem:"]

Request = CompletionRequest | ChatCompletionRequest

#: (field, whether a value changes nothing, why any other value is refused).
_UNHONOURED: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("logprobs", lambda v: v is None or v is False, "no runtime returns log-probabilities"),
    ("top_logprobs", lambda v: v in (None, 0), "no runtime returns log-probabilities"),
    ("presence_penalty", lambda v: v in (None, 0), "no runtime applies penalties"),
    ("frequency_penalty", lambda v: v in (None, 0), "no runtime applies penalties"),
    ("logit_bias", lambda v: not v, "no runtime biases logits"),
    ("tools", lambda v: not v, "the models here do not call tools"),
    ("functions", lambda v: not v, "the models here do not call functions"),
    ("tool_choice", lambda v: v in (None, "none", "auto"), "the models here do not call tools"),
    ("function_call", lambda v: v in (None, "none", "auto"), "the models here do not call tools"),
    (
        "response_format",
        lambda v: v is None or v.get("type") == "text",
        "no runtime constrains its output to JSON",
    ),
    ("modalities", lambda v: v is None or v == ["text"], "the models here answer text only"),
    ("audio", lambda v: v is None, "the models here answer text only"),
    ("echo", lambda v: not v, "the answer does not repeat the prompt"),
    ("best_of", lambda v: v in (None, 1), "use n for several answers"),
    ("suffix", lambda v: not v, "no runtime inserts text"),
)


def job_inputs(
    request: Request, runtime: str, draw_seed: Callable[[int], int] = secrets.randbelow
) -> list[dict[str, Any]]:
    """One input document per choice (``n``) for ``runtime``; 400 for what it cannot do.

    The model's own limits (prompt size, max_tokens, stop sequences, context) are checked
    on each document afterwards, against its bundle (``market.limits``)."""
    _refuse_unhonoured(request, runtime)
    document = _document(request, runtime)
    if request.n == 1:
        return [document]
    seed = request.seed
    return [
        {**document, "seed": (seed + i) % _SEEDS if seed is not None else draw_seed(_SEEDS)}
        for i in range(request.n)
    ]


def embedding_inputs(request: EmbeddingRequest, max_inputs: int) -> list[dict[str, str]]:
    """One ``{"text"}`` document per input text, in order; 400 naming ``input`` otherwise.

    ``max_inputs`` is the gateway's cap (``max_embedding_inputs``): each text is a paid job."""
    value = request.input
    texts: list[Any] = [value] if isinstance(value, str) else list(value)
    if not texts:
        raise BadRequest(
            "openai.empty_input", "input is an empty list; send a text or a list of texts",
            param="input",
        )  # fmt: skip
    if not all(isinstance(t, str) for t in texts):
        raise BadRequest(
            "openai.unsupported_param",
            "input given as token ids is not supported: each model has its own tokenizer, "
            "and the gateway cannot tell which one made them; send the text",
            param="input",
        )
    if len(texts) > max_inputs:
        raise BadRequest(
            "openai.too_many_inputs",
            f"input holds {len(texts)} texts; this gateway takes at most {max_inputs} per "
            "request (each is a paid job): split it into several requests",
            param="input",
        )
    for i, text in enumerate(texts):
        if not text:
            where = "input" if isinstance(value, str) else f"input[{i}]"
            raise BadRequest("openai.empty_input", f"{where} is an empty text", param=where)
    return [{"text": text} for text in texts]


def check_dimensions(request: EmbeddingRequest, dims: int | None) -> None:
    """Refuse ``dimensions`` unless it is the model's width ``dims`` (None: unknown)."""
    asked = request.dimensions
    if asked is None or asked == dims:
        return
    if dims is None:
        own = "its bundle does not state the vectors' width; leave it unset"
    else:
        own = f"its vectors have {dims}; leave it unset or {dims}"
    raise BadRequest(
        "openai.unsupported_param",
        f"dimensions={asked} is not supported: this model's vectors are not truncated, as "
        f"it is not trained to keep their meaning in fewer dimensions, and {own}",
        param="dimensions",
    )


def chat_prompt(messages: list[ChatMessage]) -> str:
    """A plain transcript, for models without a chat template of their own."""
    lines = [f"{_LABELS[m.role]}: {_text(m, i)}" for i, m in enumerate(messages)]
    return "\n".join(lines) + "\nAssistant:"


def _document(request: Request, runtime: str) -> dict[str, Any]:
    hf = runtime == HF_RUNTIME
    stop: list[str] = []
    document: dict[str, Any]
    if isinstance(request, ChatCompletionRequest):
        if hf:
            document = {"messages": [_message(m, i) for i, m in enumerate(request.messages)]}
        else:
            document, stop = {"prompt": chat_prompt(request.messages)}, list(_TRANSCRIPT_STOPS)
        max_tokens = request.max_completion_tokens or request.max_tokens
    else:
        prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
        if len(prompts) != 1:
            raise BadRequest(
                "openai.batch_unsupported", "send one prompt per request", param="prompt"
            )
        document, max_tokens = {"prompt": prompts[0]}, request.max_tokens
    document["max_new_tokens"] = max_tokens or DEFAULT_MAX_TOKENS
    extra = [request.stop] if isinstance(request.stop, str) else list(request.stop or [])
    if any(not s for s in extra):
        raise BadRequest("openai.bad_stop", "stop sequences must not be empty", param="stop")
    if stop + extra:
        document["stop"] = stop + extra
    if request.temperature is not None:
        document["temperature"] = request.temperature
    if request.top_p is not None and hf:
        document["top_p"] = request.top_p
    if request.seed is not None:
        document["seed"] = request.seed
    return document


def _refuse_unhonoured(request: Request, runtime: str) -> None:
    if request.stream and request.n > 1:
        raise BadRequest(
            "openai.stream_n_unsupported",
            f"stream=true streams one choice; send n={request.n} as {request.n} requests, or "
            "without stream",
            param="n",
        )
    for field, harmless, why in _UNHONOURED:
        value = getattr(request, field, None)
        if not harmless(value):
            raise BadRequest(
                "openai.unsupported_param",
                f"{field}={value!r} is not supported: {why}; leave it unset",
                param=field,
            )
    if request.top_p is not None and request.top_p < 1 and runtime != HF_RUNTIME:
        raise BadRequest(
            "openai.unsupported_param",
            f"top_p={request.top_p} is not supported by this model's runtime ({runtime}), "
            "which has no nucleus sampling; leave it unset or 1",
            param="top_p",
        )
    if request.top_p == 0:
        raise BadRequest(
            "openai.unsupported_param",
            "top_p must be above 0; temperature 0 is greedy decoding",
            param="top_p",
        )
    if request.n > 1 and not request.temperature:
        raise BadRequest(
            "openai.n_needs_sampling",
            f"n={request.n} without a temperature above 0 would pay for {request.n} "
            "identical answers: decoding is greedy at temperature 0, the default here",
            param="n",
        )


def _message(message: ChatMessage, index: int) -> dict[str, str]:
    role = "system" if message.role == "developer" else message.role
    return {"role": role, "content": _text(message, index)}


def _text(message: ChatMessage, index: int) -> str:
    """The message's text: a string, or its text parts joined (other parts refused)."""
    if isinstance(message.content, str):
        return message.content
    texts = []
    for j, part in enumerate(message.content):
        if part.type != "text" or part.text is None:
            raise BadRequest(
                "openai.unsupported_content",
                f"messages[{index}].content[{j}] is a {part.type!r} part; the models here "
                "read text parts only",
                param=f"messages[{index}].content[{j}]",
            )
        texts.append(part.text)
    return "".join(texts)
