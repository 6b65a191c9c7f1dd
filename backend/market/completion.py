"""OpenAI requests as text-generation jobs, and finished jobs as OpenAI responses.

Pure functions (translation and formatting) plus ``wait_for_result``, which follows the
indexed job until a result is submitted. The runtime's input and output documents are
those of ``inferchain-gpt`` (see workers/runtimes/text_generation.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from inferchain import untrusted_json
from inferchain.gateway.db.models import Job
from inferchain.gateway.errors import BadRequest, GatewayError
from inferchain.gateway.indexer.projector import TERMINAL
from inferchain.gateway.schemas.openai import (
    AssistantMessage,
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    Completion,
    CompletionChoice,
    CompletionRequest,
    Usage,
)

MODEL_PREFIX = "inferchain-"
#: One spelling per model: ASCII digits, no leading zero (not ``inferchain-01``, nor other digits).
_MODEL_NAME = re.compile(re.escape(MODEL_PREFIX) + "([1-9][0-9]{0,9})")
DEFAULT_MAX_TOKENS = 16
#: Input fields as an OpenAI client calls them, for the model-limit messages.
INPUT_NAMES = {"max_new_tokens": "max_tokens"}


def model_name(model_id: int) -> str:
    return f"{MODEL_PREFIX}{model_id}"


def model_id_of(name: str) -> int:
    """The model id of ``inferchain-<id>``, spelled exactly as ``model_name`` spells it."""
    match = _MODEL_NAME.fullmatch(name)
    if match is None or int(match[1]) >= 2**32:
        raise BadRequest(
            "openai.model_not_found", f"unknown model {name!r}; see GET /v1/models", status=404
        )
    return int(match[1])


def chat_prompt(messages: list[Any]) -> str:
    """A plain transcript; the market's small models have no chat template of their own."""
    lines = [f"{m.role.capitalize()}: {m.content}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


def job_input(request: CompletionRequest | ChatCompletionRequest) -> dict[str, Any]:
    """The runtime input document for an OpenAI request (refusing what it cannot honour).

    The model's own limits (prompt size, max_tokens, stop sequences, context) are checked
    on the document afterwards, against its bundle (``market.limits``)."""
    if request.stream:
        raise BadRequest(
            "openai.stream_unsupported", "stream=true is not supported; a job answers once"
        )
    if isinstance(request, ChatCompletionRequest):
        prompt = chat_prompt(request.messages)
        max_tokens = request.max_completion_tokens or request.max_tokens or DEFAULT_MAX_TOKENS
        stop = ["\nUser:", "\nSystem:"]
    else:
        prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
        if len(prompts) != 1:
            raise BadRequest("openai.batch_unsupported", "send one prompt per request")
        prompt, max_tokens, stop = prompts[0], request.max_tokens or DEFAULT_MAX_TOKENS, []
    extra = [request.stop] if isinstance(request.stop, str) else list(request.stop or [])
    stop = [*stop, *extra]
    if any(not s for s in stop):
        raise BadRequest("openai.bad_stop", "stop sequences must not be empty")
    document: dict[str, Any] = {"prompt": prompt, "max_new_tokens": max_tokens}
    if stop:
        document["stop"] = stop
    if request.temperature is not None:
        document["temperature"] = request.temperature
    if request.seed is not None:
        document["seed"] = request.seed
    return document


def wait_for_result(
    sessions: sessionmaker[Session],
    job_id: int,
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    poll_s: float = 0.2,
    describe: Callable[[Job], str] = lambda job: f"job {job.job_id} ended {job.status}",
) -> Job:
    """The indexed job once its result is submitted; errors if it fails or time runs out.

    ``describe`` words the 502 of a job that ended without a result (e.g. the worker's
    failure evidence, see ``market.failures``)."""
    deadline = clock() + timeout_s
    while True:
        with sessions() as db:
            job = db.get(Job, job_id)
        if job is not None and job.output_cid is not None:
            return job
        if job is not None and job.status in TERMINAL:
            raise GatewayError("openai.job_failed", describe(job), status=502)
        if clock() >= deadline:
            raise GatewayError(
                "openai.timeout",
                f"job {job_id} has no result yet; follow it at /jobs/{job_id}",
                status=504,
            )
        time.sleep(poll_s)


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
    if finish not in ("stop", "length"):
        finish = "length"
    return text, finish, *usage


def completion(job_id: int, model: str, created: int, data: bytes) -> Completion:
    text, finish, prompt_tokens, completion_tokens = parse_output(data)
    return Completion(
        id=f"cmpl-{job_id}",
        created=created,
        model=model,
        choices=[CompletionChoice(text=text, finish_reason=finish)],  # type: ignore[arg-type]
        usage=Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        ),
    )


def chat_completion(job_id: int, model: str, created: int, data: bytes) -> ChatCompletion:
    text, finish, prompt_tokens, completion_tokens = parse_output(data)
    return ChatCompletion(
        id=f"chatcmpl-{job_id}",
        created=created,
        model=model,
        choices=[ChatChoice(message=AssistantMessage(content=text.strip()), finish_reason=finish)],  # type: ignore[arg-type]
        usage=Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        ),
    )
