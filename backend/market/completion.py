"""Finished jobs as OpenAI responses (``market.openai_jobs`` waits for them). Requests
become job inputs in ``market.openai_input``; outputs are the text-generation results of
workers/runtimes (text_generation.py, hf_generation.py) and the embeddings of hf_encoders.py.
"""

from __future__ import annotations

import base64
import math
import re
import struct
from collections.abc import Sequence
from typing import Any, Literal

from inferchain import untrusted_json
from inferchain.gateway.errors import BadRequest, GatewayError
from inferchain.gateway.schemas.openai import (
    AssistantMessage,
    ChatChoice,
    ChatCompletion,
    Completion,
    CompletionChoice,
    Embedding,
    EmbeddingList,
    EmbeddingUsage,
    Usage,
)

MODEL_PREFIX = "inferchain-"
#: One spelling per model: ASCII digits, no leading zero (not ``inferchain-01``, nor other digits).
_MODEL_NAME = re.compile(re.escape(MODEL_PREFIX) + "([1-9][0-9]{0,9})")
#: A runtime's finish reason as OpenAI's: the model's own end-of-text token is a stop.
_FINISH = {"stop": "stop", "eos": "stop", "length": "length"}


def model_name(model_id: int) -> str:
    return f"{MODEL_PREFIX}{model_id}"


def model_id_of(name: str) -> int:
    """The model id of ``inferchain-<id>``, spelled exactly as ``model_name`` spells it."""
    match = _MODEL_NAME.fullmatch(name)
    if match is None or int(match[1]) >= 2**32:
        raise BadRequest(
            "openai.model_not_found",
            f"unknown model {name!r}; see GET /v1/models",
            status=404,
            param="model",
        )
    return int(match[1])


def finish_reason(runtime_reason: str) -> str:
    """A runtime's finish reason as OpenAI's."""
    return _FINISH.get(runtime_reason, "length")


def parse_output(data: bytes) -> tuple[str, str, int, int]:
    """(text, finish_reason, prompt_tokens, completion_tokens) from a text-generation output."""
    try:
        result = untrusted_json.loads(data, source="worker output")["result"]
        text, finish = str(result["text"]), result["finish_reason"]
        usage = int(result["prompt_tokens"]), int(result["completion_tokens"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GatewayError(
            "openai.bad_output", "the worker's output is not text generation", status=502
        ) from exc
    return text, finish_reason(finish), *usage


def completion(
    job_ids: Sequence[int], model: str, created: int, outputs: Sequence[bytes]
) -> Completion:
    """One choice per job; named after the first job."""
    results = [parse_output(data) for data in outputs]
    choices = [
        CompletionChoice(index=i, text=text, finish_reason=finish)  # type: ignore[arg-type]
        for i, (text, finish, _, _) in enumerate(results)
    ]
    return Completion(**_answer("cmpl", job_ids, model, created, results), choices=choices)


def chat_completion(
    job_ids: Sequence[int], model: str, created: int, outputs: Sequence[bytes]
) -> ChatCompletion:
    """One choice per job, its text stripped; named after the first job."""
    results = [parse_output(data) for data in outputs]
    choices = [
        ChatChoice(
            index=i,
            message=AssistantMessage(content=text.strip()),
            finish_reason=finish,  # type: ignore[arg-type]
        )
        for i, (text, finish, _, _) in enumerate(results)
    ]
    return ChatCompletion(**_answer("chatcmpl", job_ids, model, created, results), choices=choices)


def _answer(
    kind: str,
    job_ids: Sequence[int],
    model: str,
    created: int,
    results: list[tuple[str, str, int, int]],
) -> dict[str, Any]:
    """The fields both answers share: named after the first job, usage summed."""
    return {
        "id": f"{kind}-{job_ids[0]}",
        "created": created,
        "model": model,
        "usage": _usage(results),
    }


def _usage(results: list[tuple[str, str, int, int]]) -> Usage:
    """Summed over the jobs: each read the prompt and each was paid for."""
    prompt = sum(r[2] for r in results)
    completion_tokens = sum(r[3] for r in results)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion_tokens,
        total_tokens=prompt + completion_tokens,
    )


def parse_embedding(data: bytes) -> tuple[list[float], int]:
    """(vector, prompt_tokens) from an embeddings output; 502 unless it is one."""
    try:
        result = untrusted_json.loads(data, source="worker output")["result"]
        vector, tokens = result["embedding"], int(result["prompt_tokens"])
        if not isinstance(vector, list) or not vector or len(vector) != int(result["dims"]):
            raise ValueError("not a vector of dims numbers")
        floats = [_finite(x) for x in vector]
    except (ValueError, KeyError, TypeError) as exc:
        raise GatewayError(
            "openai.bad_output", "the worker's output is not an embedding", status=502
        ) from exc
    return floats, tokens


def embedding_list(
    model: str, outputs: Sequence[bytes], encoding_format: Literal["float", "base64"]
) -> EmbeddingList:
    """One embedding per job, in input order; ``base64`` packs float32 little-endian bytes,
    as OpenAI does (its clients decode them); usage sums the jobs' tokens."""
    results = [parse_embedding(data) for data in outputs]
    if len({len(vector) for vector, _ in results}) > 1:
        raise GatewayError(
            "openai.bad_output", "the workers' embeddings differ in length", status=502
        )
    data = [
        Embedding(index=i, embedding=_base64(v) if encoding_format == "base64" else v)
        for i, (v, _) in enumerate(results)
    ]
    tokens = sum(t for _, t in results)
    return EmbeddingList(
        data=data, model=model, usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens)
    )


def _finite(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("not a finite number")
    return float(value)


def _base64(vector: list[float]) -> str:
    try:
        packed = struct.pack(f"<{len(vector)}f", *vector)
    except OverflowError as exc:  # beyond float32
        raise GatewayError(
            "openai.bad_output", "the worker's embedding does not fit float32", status=502
        ) from exc
    return base64.b64encode(packed).decode("ascii")
