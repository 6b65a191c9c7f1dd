"""``POST /v1/embeddings``: one paid job per input text on an ``embeddings`` model.

Mounted on the ``/v1`` router of ``openai_compat``, and paid the same way: the texts
become ``{"text"}`` inputs (``market.openai_input``), each checked against the model's
limits, the whole request's price against the session signer's cap and the deposit, then
one job each through the ``JobFunder`` (``market.openai_jobs``). The vectors are the
workers' pinned results, verified from IPFS; ``Inferchain-Job-Ids`` names the jobs (on
errors too, once they exist).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from inferchain.gateway.api.deps import CurrentWallet, ServicesDep
from inferchain.gateway.api.errors import openai_responses
from inferchain.gateway.errors import BadRequest
from inferchain.gateway.market import completion as fmt
from inferchain.gateway.market.limits import model_limits
from inferchain.gateway.market.openai_input import check_dimensions, embedding_inputs
from inferchain.gateway.market.openai_jobs import (
    EMBEDDINGS,
    JOB_IDS_HEADER,
    collect_outputs,
    create_paid_jobs,
    job_funder,
    naming_jobs,
    served_model,
)
from inferchain.gateway.schemas.openai import EmbeddingList, EmbeddingRequest

router = APIRouter(tags=["openai"])

__all__ = ["JOB_IDS_HEADER", "router"]


@router.post(
    "/embeddings",
    response_model=EmbeddingList,
    responses=openai_responses(400, 401, 402, 404, 409, 429, 501, 502, 503, 504),
)
def embeddings(
    body: EmbeddingRequest, wallet: CurrentWallet, services: ServicesDep, response: Response
) -> EmbeddingList:
    """Embed each text of ``input`` with its own paid job; the vectors in input order."""
    documents = embedding_inputs(body, services.settings.max_embedding_inputs)
    model_id = served_model(services, body.model, EMBEDDINGS)
    funder = job_funder(services)
    limits = model_limits(services.model_limits, services.contracts(), model_id)
    if limits.task != EMBEDDINGS:
        raise BadRequest(
            "model.task_mismatch",
            f"{body.model} is registered as an embeddings model but its bundle serves "
            f"{limits.task}, so no worker would embed; no job was created",
            status=409,
            param="model",
        )
    check_dimensions(body, limits.embedding_dims)
    paid = create_paid_jobs(services, funder, wallet, model_id, documents)
    response.headers[JOB_IDS_HEADER] = ",".join(map(str, paid.job_ids))
    with naming_jobs(paid.job_ids):
        outputs = collect_outputs(services, paid)
    return fmt.embedding_list(body.model, outputs, body.encoding_format)
