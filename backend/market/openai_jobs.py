"""Paid jobs for the OpenAI-compatible routes: one per choice or input text, all or none.

Completions, chat and embeddings take the same path: the named model must be active and
of the route's task; every input document is checked against the gateway's size limit and
the model's limits before the first is pinned; the whole request's price is checked
against the session signer's cap and the wallet's deposit before the first job, so a short
cap creates none of them rather than some; the jobs are created through the
``JobFunder``; their outputs are read from the chain as soon as each ``ResultSubmitted``
log is there (no indexer wait), fetched from IPFS and hashed against those CIDs. Once a
job exists, every answer, success or error, names the jobs in ``Inferchain-Job-Ids``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from inferchain.chain import ContractReverted
from inferchain.gateway.container import Services
from inferchain.gateway.db.models import Job, Model
from inferchain.gateway.errors import BadRequest, GatewayError
from inferchain.gateway.market.completion import model_id_of
from inferchain.gateway.market.failures import describe_ending
from inferchain.gateway.market.funding import JobFunder, SessionSignerFunder
from inferchain.gateway.market.limits import check_model_input
from inferchain.gateway.market.metered import Pricing, check_usage, metered_requests
from inferchain.gateway.market.requests import JobRequest
from inferchain.gateway.market.submission import canonical_json, model_terms, pin_input
from inferchain.gateway.market.worker_stream import submitted_result
from inferchain.gateway.translate import chain_errors, ipfs_errors
from inferchain.ipfs import Cid, InvalidCid

__all__ = [
    "EMBEDDINGS",
    "JOB_IDS_HEADER",
    "OPENAI_TASKS",
    "TEXT_GENERATION",
    "PaidJobs",
    "collect_outputs",
    "create_paid_jobs",
    "job_funder",
    "model_not_found",
    "naming_jobs",
    "served_model",
]

#: Response header naming a request's paid jobs, in choice or input order, on its answer
#: and on any error once a job exists (OpenAI's bodies have no place for them).
JOB_IDS_HEADER = "Inferchain-Job-Ids"
#: Job ending events, as the indexer's job statuses (``market.failures`` words them).
_ENDED = {
    "JobFailed": "failed",
    "JobTimedOut": "timed_out",
    "JobCancelled": "cancelled",
    "JobExpired": "expired",
}

TEXT_GENERATION = "text-generation"
EMBEDDINGS = "embeddings"
#: The tasks ``/v1`` serves, and the routes that serve each.
OPENAI_TASKS = {
    TEXT_GENERATION: "POST /v1/chat/completions or /v1/completions",
    EMBEDDINGS: "POST /v1/embeddings",
}


@dataclass(frozen=True)
class PaidJobs:
    """A request's jobs, and the head before the first was created (their logs follow it).
    ``metered``: whether they pay per token (``market.metered_requests``)."""

    job_ids: list[int]
    from_block: int
    metered: bool = False


@contextmanager
def naming_jobs(job_ids: Sequence[int]) -> Iterator[None]:
    """Any ``GatewayError`` raised inside names ``job_ids`` in ``JOB_IDS_HEADER``."""
    try:
        yield
    except GatewayError as exc:
        if job_ids:
            exc.headers[JOB_IDS_HEADER] = ",".join(map(str, job_ids))
        raise


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
) -> PaidJobs:
    """Check, pin and create one paid job per input document, all or none.

    Every document is checked before the first is pinned, so a refused one pins nothing.
    ``names`` renames input fields in the model-limit messages as the client spelled them."""
    c = services.contracts()
    _token, price = model_terms(c, model_id)
    inputs = [canonical_json(d) for d in documents]
    for data in inputs:
        _check_input(services, model_id, data, names)
    # A model with per-token rates is paid per token: each job escrows its most.
    pricings = metered_requests(services, model_id, inputs) or [Pricing(price)] * len(inputs)
    if isinstance(funder, SessionSignerFunder):
        with chain_errors("reading the session signer"):
            funder.check_funds(wallet, model_id, sum(p.max_price for p in pricings))
    cids = [pin_input(services, data) for data in inputs]
    return _create_jobs(services, funder, wallet, model_id, pricings, cids)


def collect_outputs(services: Services, paid: PaidJobs) -> list[bytes]:
    """Each job's verified output, in order; all within ``COMPLETION_TIMEOUT_S``.

    Each is read as soon as its ``ResultSubmitted`` log is on-chain (polled every
    ``JOB_LOG_POLL_S``), fetched by that CID (the client hashes the bytes against it)."""
    s, c = services.settings, services.contracts()
    deadline = time.monotonic() + s.completion_timeout_s
    outputs = []
    for job_id in paid.job_ids:

        def describe(event: str, args: dict[str, Any], job_id: int = job_id) -> str:
            return describe_ending(services.ipfs, _ended_job(job_id, event, args))

        with chain_errors("reading the job's result"):
            cid, usage = submitted_result(
                c, job_id, paid.from_block, max(0.0, deadline - time.monotonic()),
                poll_s=s.job_log_poll_s, describe=describe,
            )  # fmt: skip
        with ipfs_errors("fetching the result"):
            output = services.ipfs.cat(cid, max_size=s.max_result_bytes)
        if paid.metered:
            check_usage(job_id, output, usage)
        outputs.append(output)
    return outputs


def _ended_job(job_id: int, event: str, args: dict[str, Any]) -> Job:
    """The job as the indexer would hold it after ``event`` (for ``describe_ending``)."""
    evidence = args.get("evidenceCid")
    try:
        evidence_cid = str(Cid.parse(bytes(evidence))) if evidence else None
    except InvalidCid:
        evidence_cid = bytes(evidence).hex()
    return Job(job_id=job_id, status=_ENDED[event], evidence_cid=evidence_cid)


def _check_input(
    services: Services, model_id: int, data: bytes, names: Mapping[str, str] | None
) -> None:
    """The gateway's size limit, then the model's own (``market.limits``)."""
    limit = services.settings.max_input_bytes
    if len(data) > limit:
        raise BadRequest(
            "input.too_large", f"input is {len(data)} bytes; the limit is {limit}", status=413
        )
    check_model_input(services.model_limits, services.contracts(), model_id, data, names=names)


def _refuse_skipped(outcomes: Sequence[int | ContractReverted]) -> None:
    """409 naming each request the router skipped (``RequestSkipped``): it created and
    spent nothing, but the answer needs every choice, so the request as a whole failed."""
    skipped = [(i, o) for i, o in enumerate(outcomes) if not isinstance(o, int)]
    if skipped:
        reasons = "; ".join(f"input {i}: {o.error_name}" for i, o in skipped)
        raise GatewayError(
            "openai.request_skipped",
            f"the router skipped {len(skipped)} of this request's {len(outcomes)} jobs, "
            f"which changed on-chain since they were checked ({reasons}); nothing was paid "
            "for them",
            status=409,
        )


def _create_jobs(
    services: Services,
    funder: JobFunder,
    wallet: str,
    model_id: int,
    pricings: Sequence[Pricing],
    cids: list[Cid],
) -> PaidJobs:
    """The jobs, in order; a failure after the first names those already created (paid)."""
    s, c = services.settings, services.contracts()
    with chain_errors("reading the chain time"):
        head = c.chain.w3.eth.get_block("latest")
    deadline = int(head["timestamp"]) + s.default_request_ttl_s
    requests = [
        JobRequest(
            model_id,
            cid,
            pricing.max_price,
            deadline,
            s.default_work_time_s,
            pricing=pricing.pricing,
            pricing_data=pricing.pricing_data,
        )
        for cid, pricing in zip(cids, pricings, strict=True)
    ]
    job_ids: list[int] = []
    try:
        if isinstance(funder, SessionSignerFunder) and len(requests) > 1:
            with chain_errors("creating the jobs"):
                outcomes = funder.create_jobs(wallet, requests)
            job_ids = [o for o in outcomes if isinstance(o, int)]
            _refuse_skipped(outcomes)
        else:
            for request in requests:
                with chain_errors("creating the job"):
                    job_ids.append(funder.create_job(wallet, request))
    except GatewayError as exc:
        if job_ids:
            exc.message += (
                f"; jobs {', '.join(map(str, job_ids))} of this request were created and "
                f"paid before it: follow them at /jobs/{job_ids[0]}"
            )
            exc.headers[JOB_IDS_HEADER] = ",".join(map(str, job_ids))
        raise
    return PaidJobs(job_ids, int(head["number"]), metered=pricings[0].pricing != 0)
