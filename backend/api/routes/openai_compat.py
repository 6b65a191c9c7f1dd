"""OpenAI-compatible ``/v1``: models, completions and chat completions over market jobs;
``/v1/embeddings`` (``openai_embeddings``) and ``/v1/signers`` are mounted here too.

Authenticate with the wallet's session token as the API key. A completion turns the
request into the input of the model's runtime (``market.openai_input``: one document per
choice, ``n`` of them), checks each against the model's limits (``market.limits``: a
refused request spends nothing), checks the wallet can pay for all of them, pins them, has
the ``JobFunder`` (by default the wallet's session signer, see ``/v1/signers``) create one
job each from the wallet's deposit, waits for the workers' results (indexed, then fetched
read from the chain and verified from IPFS; ``market.openai_jobs``) and answers in OpenAI's
format with token usage; ``n`` choices are one response, named after the first job.
Errors take OpenAI's shape (``api.errors``). Once a job exists, the answer and any error
name the jobs in ``Inferchain-Job-Ids``. ``stream=true`` creates the job the same way,
then relays its tokens from the worker as server-sent chunks (``market.openai_stream``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from inferchain.gateway.api.deps import CurrentWallet, ServicesDep, SessionDep
from inferchain.gateway.api.errors import openai_responses
from inferchain.gateway.api.routes import openai_embeddings, signers
from inferchain.gateway.container import Services
from inferchain.gateway.db.models import ChainLog, Model
from inferchain.gateway.market import completion as fmt
from inferchain.gateway.market.limits import model_limits
from inferchain.gateway.market.openai_input import INPUT_NAMES, job_inputs
from inferchain.gateway.market.openai_jobs import (
    JOB_IDS_HEADER,
    OPENAI_TASKS,
    TEXT_GENERATION,
    PaidJobs,
    collect_outputs,
    create_paid_jobs,
    job_funder,
    model_not_found,
    naming_jobs,
    served_model,
)
from inferchain.gateway.market.openai_stream import StreamedJob, sse_chunks
from inferchain.gateway.schemas.openai import (
    ChatCompletion,
    ChatCompletionRequest,
    Completion,
    CompletionRequest,
    OpenAIModel,
    OpenAIModelList,
)

AnswerT = TypeVar("AnswerT", Completion, ChatCompletion)

router = APIRouter(prefix="/v1", tags=["openai"])
router.include_router(signers.router)
router.include_router(openai_embeddings.router)

_ERRORS = {
    **openai_responses(400, 401, 402, 404, 409, 429, 501, 502, 503, 504),
    200: {"content": {"text/event-stream": {}}, "description": "with stream=true: chunks"},
}


@router.get("/models", response_model=OpenAIModelList, responses=openai_responses(401, 429))
def list_models(wallet: CurrentWallet, db: SessionDep) -> OpenAIModelList:
    """Active text-generation and embeddings models, named ``inferchain-<model id>``;
    ``task`` (not OpenAI's, which clients keep) says which routes serve each."""
    return OpenAIModelList(data=_models(db))


@router.get(
    "/models/{model}", response_model=OpenAIModel, responses=openai_responses(401, 404, 429)
)
def retrieve_model(model: str, wallet: CurrentWallet, db: SessionDep) -> OpenAIModel:
    """One model as listed by ``GET /v1/models``."""
    found = _models(db, fmt.model_id_of(model))
    if not found:
        raise model_not_found(model)
    return found[0]


@router.post("/completions", response_model=Completion, responses=_ERRORS)
def completions(
    body: CompletionRequest, wallet: CurrentWallet, services: ServicesDep, response: Response
) -> Completion | StreamingResponse:
    return _answer(services, wallet, body, response, fmt.completion)


@router.post("/chat/completions", response_model=ChatCompletion, responses=_ERRORS)
def chat_completions(
    body: ChatCompletionRequest, wallet: CurrentWallet, services: ServicesDep, response: Response
) -> ChatCompletion | StreamingResponse:
    return _answer(services, wallet, body, response, fmt.chat_completion)


def _answer(
    services: Services,
    wallet: str,
    body: CompletionRequest | ChatCompletionRequest,
    response: Response,
    build: Callable[[Sequence[int], str, int, Sequence[bytes]], AnswerT],
) -> AnswerT | StreamingResponse:
    """Stream the request's choices, or run its jobs and build the answer from their outputs."""
    if body.stream:
        return _stream(services, wallet, body)
    job_ids, outputs = _run(services, wallet, body, response)
    return build(job_ids, body.model, int(time.time()), outputs)


def _models(db: Session, model_id: int | None = None) -> list[OpenAIModel]:
    query = (
        select(Model.model_id, Model.provider, Model.task_kind, ChainLog.block_time)
        .join(ChainLog, ChainLog.entity == "model:" + Model.model_id.cast(ChainLog.entity.type))
        .where(
            ChainLog.event == "ModelRegistered",
            Model.active.is_(True),
            Model.task_kind.in_(OPENAI_TASKS),
        )
        .order_by(Model.model_id)
    )
    if model_id is not None:
        query = query.where(Model.model_id == model_id)
    rows = db.execute(query).all()
    return [
        OpenAIModel(id=fmt.model_name(m), created=t, owned_by=p, task=k)  # type: ignore[arg-type]
        for m, p, k, t in rows
    ]


def _stream(
    services: Services, wallet: str, body: CompletionRequest | ChatCompletionRequest
) -> StreamingResponse:
    """Create the job (errors answered as usual), then relay its tokens as they come."""
    paid = _create(services, wallet, body)
    (job_id,) = paid.job_ids
    options = body.stream_options
    job = StreamedJob(
        job_id=job_id,
        wallet=wallet,
        model=body.model,
        chat=isinstance(body, ChatCompletionRequest),
        include_usage=bool(options and options.include_usage),
        from_block=paid.from_block,
        created=int(time.time()),
        metered=paid.metered,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", JOB_IDS_HEADER: str(job_id)}
    return StreamingResponse(
        sse_chunks(services, job), media_type="text/event-stream", headers=headers
    )


def _run(
    services: Services,
    wallet: str,
    body: CompletionRequest | ChatCompletionRequest,
    response: Response,
) -> tuple[list[int], list[bytes]]:
    """Create one paid job per choice, all or none; their job ids and verified outputs."""
    paid = _create(services, wallet, body)
    response.headers[JOB_IDS_HEADER] = ",".join(map(str, paid.job_ids))
    with naming_jobs(paid.job_ids):
        return paid.job_ids, collect_outputs(services, paid)


def _create(
    services: Services, wallet: str, body: CompletionRequest | ChatCompletionRequest
) -> PaidJobs:
    """Check, pin and create one paid job per choice, all or none."""
    model_id = served_model(services, body.model, TEXT_GENERATION)
    funder = job_funder(services)
    runtime = model_limits(services.model_limits, services.contracts(), model_id).runtime
    documents = job_inputs(body, runtime)
    return create_paid_jobs(services, funder, wallet, model_id, documents, INPUT_NAMES)
