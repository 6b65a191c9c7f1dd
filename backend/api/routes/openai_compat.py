"""OpenAI-compatible ``/v1``: models, completions and chat completions over market jobs.

Authenticate with the wallet's session token as the API key. A completion turns the
request into the input of the model's runtime (``market.openai_input``: one document per
choice, ``n`` of them), checks each against the model's limits (``market.limits``: a
refused request spends nothing), checks the wallet can pay for all of them, pins them, has
the ``JobFunder`` (by default the wallet's session signer, see ``/v1/signers``) create one
job each from the wallet's deposit, waits for the workers' results (indexed, then fetched
and verified from IPFS) and answers in OpenAI's format with token usage. Errors take
OpenAI's shape (``api.errors``). ``stream=true`` creates the job the same way, then relays
its tokens from the worker as server-sent chunks (``market.openai_stream``).
"""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from inferchain.gateway.api.deps import CurrentWallet, ServicesDep, SessionDep
from inferchain.gateway.api.errors import openai_responses
from inferchain.gateway.api.routes import signers
from inferchain.gateway.api.translate import chain_errors, ipfs_errors
from inferchain.gateway.db.models import ChainLog, Model
from inferchain.gateway.errors import BadRequest, GatewayError
from inferchain.gateway.market import completion as fmt
from inferchain.gateway.market.failures import describe_ending
from inferchain.gateway.market.funding import JobFunder, SessionSignerFunder
from inferchain.gateway.market.limits import model_limits
from inferchain.gateway.market.openai_input import INPUT_NAMES, job_inputs
from inferchain.gateway.market.openai_stream import StreamedJob, sse_chunks
from inferchain.gateway.market.requests import JobRequest
from inferchain.gateway.market.submission import canonical_json, model_terms, pin_job_input
from inferchain.gateway.schemas.openai import (
    ChatCompletion,
    ChatCompletionRequest,
    Completion,
    CompletionRequest,
    OpenAIModel,
    OpenAIModelList,
)
from inferchain.gateway.services import Services
from inferchain.ipfs import Cid

router = APIRouter(prefix="/v1", tags=["openai"])
router.include_router(signers.router)

TEXT_GENERATION = "text-generation"
_ERRORS = {
    **openai_responses(400, 401, 402, 404, 409, 429, 501, 502, 503, 504),
    200: {"content": {"text/event-stream": {}}, "description": "with stream=true: chunks"},
}


@router.get("/models", response_model=OpenAIModelList, responses=openai_responses(401, 429))
def list_models(wallet: CurrentWallet, db: SessionDep) -> OpenAIModelList:
    """Active text-generation models, named ``inferchain-<model id>``."""
    return OpenAIModelList(data=_models(db))


@router.get(
    "/models/{model}", response_model=OpenAIModel, responses=openai_responses(401, 404, 429)
)
def retrieve_model(model: str, wallet: CurrentWallet, db: SessionDep) -> OpenAIModel:
    """One active text-generation model, as listed by ``GET /v1/models``."""
    found = _models(db, fmt.model_id_of(model))
    if not found:
        raise _not_a_text_model(model)
    return found[0]


@router.post("/completions", response_model=Completion, responses=_ERRORS)
def completions(
    body: CompletionRequest, wallet: CurrentWallet, services: ServicesDep
) -> Completion | StreamingResponse:
    if body.stream:
        return _stream(services, wallet, body)
    job_ids, outputs = _run(services, wallet, body)
    return fmt.completion(job_ids, body.model, int(time.time()), outputs)


@router.post("/chat/completions", response_model=ChatCompletion, responses=_ERRORS)
def chat_completions(
    body: ChatCompletionRequest, wallet: CurrentWallet, services: ServicesDep
) -> ChatCompletion | StreamingResponse:
    if body.stream:
        return _stream(services, wallet, body)
    job_ids, outputs = _run(services, wallet, body)
    return fmt.chat_completion(job_ids, body.model, int(time.time()), outputs)


def _models(db: Session, model_id: int | None = None) -> list[OpenAIModel]:
    query = (
        select(Model.model_id, Model.provider, ChainLog.block_time)
        .join(ChainLog, ChainLog.entity == "model:" + Model.model_id.cast(ChainLog.entity.type))
        .where(
            ChainLog.event == "ModelRegistered",
            Model.active.is_(True),
            Model.task_kind == TEXT_GENERATION,
        )
        .order_by(Model.model_id)
    )
    if model_id is not None:
        query = query.where(Model.model_id == model_id)
    rows = db.execute(query).all()
    return [OpenAIModel(id=fmt.model_name(m), created=t, owned_by=p) for m, p, t in rows]


def _not_a_text_model(name: str) -> BadRequest:
    return BadRequest(
        "openai.model_not_found",
        f"{name} is not an active text model; see GET /v1/models",
        status=404,
        param="model",
    )


def _stream(
    services: Services, wallet: str, body: CompletionRequest | ChatCompletionRequest
) -> StreamingResponse:
    """Create the job (errors answered as usual), then relay its tokens as they come."""
    with chain_errors("reading the chain head"):
        from_block = services.contracts().chain.w3.eth.block_number
    (job_id,) = _create(services, wallet, body)
    options = body.stream_options
    job = StreamedJob(
        job_id=job_id,
        wallet=wallet,
        model=body.model,
        chat=isinstance(body, ChatCompletionRequest),
        include_usage=bool(options and options.include_usage),
        from_block=from_block,
        created=int(time.time()),
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        sse_chunks(services, job), media_type="text/event-stream", headers=headers
    )


def _run(
    services: Services, wallet: str, body: CompletionRequest | ChatCompletionRequest
) -> tuple[list[int], list[bytes]]:
    """Create one paid job per choice, all or none; their job ids and verified outputs."""
    job_ids = _create(services, wallet, body)
    s = services.settings
    deadline = time.monotonic() + s.completion_timeout_s
    outputs = []
    for job_id in job_ids:
        job = fmt.wait_for_result(
            services.sessions,
            job_id,
            max(0.0, deadline - time.monotonic()),
            describe=lambda ended: describe_ending(services.ipfs, ended),
        )
        assert job.output_cid is not None
        with ipfs_errors("fetching the result"):
            outputs.append(services.ipfs.cat(job.output_cid, max_size=s.max_result_bytes))
    return job_ids, outputs


def _create(
    services: Services, wallet: str, body: CompletionRequest | ChatCompletionRequest
) -> list[int]:
    """Check, pin and create one paid job per choice, all or none; their job ids."""
    model_id = fmt.model_id_of(body.model)
    with services.sessions() as db:
        model = db.get(Model, model_id)
        if model is None or not model.active or model.task_kind != TEXT_GENERATION:
            raise _not_a_text_model(body.model)
    funder = _funder(services)
    c = services.contracts()
    runtime = model_limits(services.model_limits, c, model_id).runtime
    documents = job_inputs(body, runtime)
    _token, price = model_terms(c, model_id)
    if isinstance(funder, SessionSignerFunder):
        with chain_errors("reading the session signer"):
            funder.check_funds(wallet, model_id, price * len(documents))
    cids = [pin_job_input(services, c, model_id, canonical_json(d), INPUT_NAMES) for d in documents]
    return _create_jobs(services, funder, wallet, model_id, price, cids)


def _create_jobs(
    services: Services, funder: JobFunder, wallet: str, model_id: int, price: int, cids: list[Cid]
) -> list[int]:
    """The jobs, in order; a failure after the first names those already created (paid)."""
    s, c = services.settings, services.contracts()
    job_ids: list[int] = []
    try:
        for cid in cids:
            with chain_errors("creating the job"):
                now = c.chain.block_timestamp()
                request = JobRequest(
                    model_id, cid, price, now + s.default_request_ttl_s, s.default_work_time_s
                )
                job_ids.append(funder.create_job(wallet, request))
    except GatewayError as exc:
        if job_ids:
            exc.message += (
                f"; jobs {', '.join(map(str, job_ids))} of this request were created and "
                f"paid before it: follow them at /jobs/{job_ids[0]}"
            )
        raise
    return job_ids


def _funder(services: Services) -> JobFunder:
    """The configured funder, else session signers (they need the relayer to send jobs)."""
    if services.job_funder is not None:
        return services.job_funder
    if services.settings.relayer_key is None:
        raise GatewayError(
            "openai.funding_unavailable",
            "this gateway has no relayer to create jobs for a wallet; "
            "use POST /jobs (see docs/gateway.md)",
            status=501,
        )
    return SessionSignerFunder(services)
