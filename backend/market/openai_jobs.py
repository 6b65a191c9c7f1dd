"""Paid jobs for the OpenAI-compatible routes: one per choice or input text, all or none.

Completions, chat and embeddings take the same path: the named model must be active and
of the route's task; each input document is pinned once it passes the model's limits; the
whole request's price is checked against the session signer's cap and the wallet's
deposit before the first job, so a short cap creates none of them rather than some; the
jobs are created through the ``JobFunder``; their outputs are read once indexed, fetched
from IPFS and hashed against the CIDs on-chain.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from inferchain.gateway.db.models import Model
from inferchain.gateway.errors import BadRequest, GatewayError
from inferchain.gateway.market.completion import model_id_of, wait_for_result
from inferchain.gateway.market.failures import describe_ending
from inferchain.gateway.market.funding import JobFunder, SessionSignerFunder
from inferchain.gateway.market.requests import JobRequest
from inferchain.gateway.market.submission import canonical_json, model_terms, pin_job_input
from inferchain.gateway.services import Services
from inferchain.gateway.translate import chain_errors, ipfs_errors
from inferchain.ipfs import Cid

__all__ = [
    "EMBEDDINGS",
    "OPENAI_TASKS",
    "TEXT_GENERATION",
    "collect_outputs",
    "create_paid_jobs",
    "job_funder",
    "model_not_found",
    "served_model",
]

TEXT_GENERATION = "text-generation"
EMBEDDINGS = "embeddings"
#: The tasks ``/v1`` serves, and the routes that serve each.
OPENAI_TASKS = {
    TEXT_GENERATION: "POST /v1/chat/completions or /v1/completions",
    EMBEDDINGS: "POST /v1/embeddings",
}


def model_not_found(name: str) -> BadRequest:
    return BadRequest(
        "openai.model_not_found",
        f"{name} is not an active model; see GET /v1/models",
        status=404,
        param="model",
    )


def served_model(services: Services, name: str, task: str) -> int:
    """The id of model ``name`` if it is active and of ``task``.

    404 ``openai.model_not_found`` for no such active model; 400
    ``openai.wrong_model_task`` for a model of another task, naming the route that serves it.
    """
    model_id = model_id_of(name)
    with services.sessions() as db:
        model = db.get(Model, model_id)
        if model is None or not model.active:
            raise model_not_found(name)
        kind = model.task_kind
    if kind != task:
        route = OPENAI_TASKS.get(kind)
        where = f"use {route}" if route else "/v1 does not serve its task; use POST /jobs"
        raise BadRequest(
            "openai.wrong_model_task",
            f"{name} is a {kind} model, and this route serves {task} models; {where}",
            param="model",
        )
    return model_id


def job_funder(services: Services) -> JobFunder:
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


def create_paid_jobs(
    services: Services,
    funder: JobFunder,
    wallet: str,
    model_id: int,
    documents: Sequence[Any],
    names: Mapping[str, str] | None = None,
) -> list[int]:
    """Check, pin and create one paid job per input document, all or none; their job ids.

    ``names`` renames input fields in the model-limit messages as the client spelled them."""
    c = services.contracts()
    _token, price = model_terms(c, model_id)
    if isinstance(funder, SessionSignerFunder):
        with chain_errors("reading the session signer"):
            funder.check_funds(wallet, model_id, price * len(documents))
    cids = [pin_job_input(services, c, model_id, canonical_json(d), names) for d in documents]
    return _create_jobs(services, funder, wallet, model_id, price, cids)


def collect_outputs(services: Services, job_ids: Sequence[int]) -> list[bytes]:
    """Each job's verified output, in order; all within ``COMPLETION_TIMEOUT_S``."""
    s = services.settings
    deadline = time.monotonic() + s.completion_timeout_s
    outputs = []
    for job_id in job_ids:
        job = wait_for_result(
            services.sessions,
            job_id,
            max(0.0, deadline - time.monotonic()),
            describe=lambda ended: describe_ending(services.ipfs, ended),
        )
        assert job.output_cid is not None
        with ipfs_errors("fetching the result"):
            outputs.append(services.ipfs.cat(job.output_cid, max_size=s.max_result_bytes))
    return outputs


def _create_jobs(
    services: Services, funder: JobFunder, wallet: str, model_id: int, price: int, cids: list[Cid]
) -> list[int]:
    """The jobs, in order; a failure after the first names those already created (paid)."""
    s, c = services.settings, services.contracts()
    with chain_errors("reading the chain time"):
        deadline = c.chain.block_timestamp() + s.default_request_ttl_s
    job_ids: list[int] = []
    try:
        for cid in cids:
            with chain_errors("creating the job"):
                request = JobRequest(model_id, cid, price, deadline, s.default_work_time_s)
                job_ids.append(funder.create_job(wallet, request))
    except GatewayError as exc:
        if job_ids:
            exc.message += (
                f"; jobs {', '.join(map(str, job_ids))} of this request were created and "
                f"paid before it: follow them at /jobs/{job_ids[0]}"
            )
        raise
    return job_ids
