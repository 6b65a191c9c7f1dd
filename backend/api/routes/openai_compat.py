"""OpenAI-compatible ``/v1``: models, completions and chat completions over market jobs.

Authenticate with the wallet's session token as the API key. A completion checks the
prompt against the model's limits (``market.limits``: a refused request spends nothing),
pins it, has the ``JobFunder`` (by default the wallet's session signer, see ``/v1/signers``)
create the job from the wallet's deposit, waits for the worker's result (indexed, then
fetched and verified from IPFS) and answers in OpenAI's format with token usage.
"""

from __future__ import annotations

import time

from fastapi import APIRouter
from sqlalchemy import select

from inferchain.gateway.api.deps import CurrentWallet, ServicesDep, SessionDep
from inferchain.gateway.api.errors import responses
from inferchain.gateway.api.routes import signers
from inferchain.gateway.api.translate import chain_errors, ipfs_errors
from inferchain.gateway.db.models import ChainLog, Model
from inferchain.gateway.errors import BadRequest, GatewayError
from inferchain.gateway.market import completion as fmt
from inferchain.gateway.market.failures import describe_ending
from inferchain.gateway.market.funding import JobFunder, SessionSignerFunder
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

router = APIRouter(prefix="/v1", tags=["openai"])
router.include_router(signers.router)

TEXT_GENERATION = "text-generation"
_ERRORS = responses(400, 401, 402, 404, 409, 422, 429, 501, 502, 503, 504)


@router.get("/models", response_model=OpenAIModelList, responses=responses(401, 429))
def list_models(wallet: CurrentWallet, db: SessionDep) -> OpenAIModelList:
    """Active text-generation models, named ``inferchain-<model id>``."""
    rows = db.execute(
        select(Model.model_id, Model.provider, ChainLog.block_time)
        .join(ChainLog, ChainLog.entity == "model:" + Model.model_id.cast(ChainLog.entity.type))
        .where(
            ChainLog.event == "ModelRegistered",
            Model.active.is_(True),
            Model.task_kind == TEXT_GENERATION,
        )
        .order_by(Model.model_id)
    ).all()
    return OpenAIModelList(
        data=[OpenAIModel(id=fmt.model_name(m), created=t, owned_by=p) for m, p, t in rows]
    )


@router.post("/completions", response_model=Completion, responses=_ERRORS)
def completions(
    body: CompletionRequest, wallet: CurrentWallet, services: ServicesDep
) -> Completion:
    job_id, data = _run(services, wallet, body)
    return fmt.completion(job_id, body.model, int(time.time()), data)


@router.post("/chat/completions", response_model=ChatCompletion, responses=_ERRORS)
def chat_completions(
    body: ChatCompletionRequest, wallet: CurrentWallet, services: ServicesDep
) -> ChatCompletion:
    job_id, data = _run(services, wallet, body)
    return fmt.chat_completion(job_id, body.model, int(time.time()), data)


def _run(
    services: Services, wallet: str, body: CompletionRequest | ChatCompletionRequest
) -> tuple[int, bytes]:
    model_id = fmt.model_id_of(body.model)
    with services.sessions() as db:
        model = db.get(Model, model_id)
        if model is None or not model.active or model.task_kind != TEXT_GENERATION:
            raise BadRequest(
                "openai.model_not_found", f"{body.model} is not an active text model", status=404
            )
    document = fmt.job_input(body)
    funder = _funder(services)
    c = services.contracts()
    _token, price = model_terms(c, model_id)
    cid = pin_job_input(services, c, model_id, canonical_json(document), fmt.INPUT_NAMES)
    s = services.settings
    with chain_errors("creating the job"):
        now = c.chain.block_timestamp()
        request = JobRequest(
            model_id, cid, price, now + s.default_request_ttl_s, s.default_work_time_s
        )
        job_id = funder.create_job(wallet, request)
    job = fmt.wait_for_result(
        services.sessions,
        job_id,
        s.completion_timeout_s,
        describe=lambda ended: describe_ending(services.ipfs, ended),
    )
    assert job.output_cid is not None
    with ipfs_errors("fetching the result"):
        return job_id, services.ipfs.cat(job.output_cid, max_size=s.max_result_bytes)


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
