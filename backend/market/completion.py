"""Finished jobs as OpenAI responses, and ``wait_for_result``, which follows the indexed
job until a result is submitted. Requests become job inputs in ``market.openai_input``;
outputs are the text-generation results of workers/runtimes (text_generation.py,
hf_generation.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from inferchain import untrusted_json
from inferchain.gateway.db.models import Job
from inferchain.gateway.errors import BadRequest, GatewayError
from inferchain.gateway.indexer.projector import TERMINAL
from inferchain.gateway.schemas.openai import (
    AssistantMessage,
    ChatChoice,
    ChatCompletion,
    Completion,
    CompletionChoice,
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
    return Completion(
        id=f"cmpl-{job_ids[0]}",
        created=created,
        model=model,
        choices=[
            CompletionChoice(index=i, text=text, finish_reason=finish)  # type: ignore[arg-type]
            for i, (text, finish, _, _) in enumerate(results)
        ],
        usage=_usage(results),
    )


def chat_completion(
    job_ids: Sequence[int], model: str, created: int, outputs: Sequence[bytes]
) -> ChatCompletion:
    results = [parse_output(data) for data in outputs]
    return ChatCompletion(
        id=f"chatcmpl-{job_ids[0]}",
        created=created,
        model=model,
        choices=[
            ChatChoice(
                index=i,
                message=AssistantMessage(content=text.strip()),
                finish_reason=finish,  # type: ignore[arg-type]
            )
            for i, (text, finish, _, _) in enumerate(results)
        ],
        usage=_usage(results),
    )


def _usage(results: list[tuple[str, str, int, int]]) -> Usage:
    """Summed over the jobs: each read the prompt and each was paid for."""
    prompt = sum(r[2] for r in results)
    completion_tokens = sum(r[3] for r in results)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion_tokens,
        total_tokens=prompt + completion_tokens,
    )
