"""``/jobs`` reads: the wallet's jobs, one job with its timeline, its verified result, and
server-sent events while it runs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from inferchain.gateway import crud
from inferchain.gateway.api.deps import CurrentWallet, ServicesDep, SessionDep
from inferchain.gateway.api.errors import responses
from inferchain.gateway.container import Services
from inferchain.gateway.errors import BadRequest, GatewayError, NotFound
from inferchain.gateway.market.chain_jobs import job_from_chain
from inferchain.gateway.market.failures import describe_ending
from inferchain.gateway.schemas.jobs import TERMINAL, JobDetail, JobPage, JobStatus
from inferchain.gateway.translate import chain_errors, ipfs_errors

router = APIRouter(prefix="/jobs", tags=["jobs"])

JobId = Annotated[int, Path(ge=1, lt=2**63)]
SSE_POLL_S = 0.5
KEEPALIVE_EVERY = 30  # polls: a comment line every ~15 s keeps proxies from closing


@router.get("", response_model=JobPage, responses=responses(401, 422, 429))
def list_jobs(
    wallet: CurrentWallet,
    db: SessionDep,
    status: JobStatus | None = None,
    model_id: Annotated[int | None, Query(ge=1, lt=2**32)] = None,
    before: Annotated[int | None, Query(ge=1, lt=2**63, description="next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JobPage:
    """Jobs the signed-in wallet requested, newest first."""
    return crud.list_jobs(db, wallet, status=status, model_id=model_id, before=before, limit=limit)


@router.get("/{job_id}", response_model=JobDetail, responses=responses(401, 404, 422, 429))
def get_job(job_id: JobId, wallet: CurrentWallet, db: SessionDep) -> JobDetail:
    """A job the wallet requested or works on, with every indexed event of it."""
    job = crud.visible_job(db, job_id, wallet)
    if job is None:
        raise NotFound("job.not_found", f"no job {job_id} of this wallet is indexed")
    return crud.job_detail(db, job)


@router.get(
    "/{job_id}/result",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
            "description": "output bytes, verified against the CID",
        },
        **responses(401, 404, 409, 422, 429, 502, 503, 504),
    },
)
def get_result(
    job_id: JobId, wallet: CurrentWallet, db: SessionDep, services: ServicesDep
) -> Response:
    """The job's output from IPFS, hashed locally against the CID the worker put on-chain."""
    job = crud.visible_job(db, job_id, wallet)
    if job is None:
        raise NotFound("job.not_found", f"no job {job_id} of this wallet is indexed")
    if job.output_cid is None and job.status in TERMINAL:
        code = "job.failed" if job.status == "failed" else "job.no_result"
        raise BadRequest(code, describe_ending(services.ipfs, job), status=409)
    if job.output_cid is None:
        raise BadRequest(
            "job.no_result", f"job {job_id} is {job.status}; no result yet", status=409
        )
    with ipfs_errors("fetching the result"):
        data = services.ipfs.cat(job.output_cid, max_size=services.settings.max_result_bytes)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"X-Inferchain-Cid": job.output_cid, "Cache-Control": "private, max-age=86400"},
    )


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "`status` events (JSON JobPublic) until the job settles",
        },
        **responses(401, 404, 422, 429),
    },
)
async def job_events(
    job_id: JobId, wallet: CurrentWallet, services: ServicesDep
) -> StreamingResponse:
    """Server-sent events: the job's state on every change, ending once it is settled."""
    first = await run_in_threadpool(_snapshot, services, job_id, wallet)
    if first is None:
        raise NotFound("job.not_found", f"no job {job_id} of this wallet is indexed")
    return StreamingResponse(
        _stream(services, job_id, wallet, first),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _snapshot(services: Services, job_id: int, wallet: str) -> dict[str, object] | None:
    """The job as indexed, else as the chain says: the index trails a new job by a poll."""
    with services.sessions() as db:
        job = crud.visible_job(db, job_id, wallet)
        if job is not None:
            return crud.job_public(job).model_dump(mode="json")
    s = services.settings
    if s.market_address is None:
        return None
    with chain_errors("reading the job"):
        public = job_from_chain(services.contracts(), job_id, s.deployment_block)
    if public is None or wallet not in (public.requester, public.worker):
        return None
    return public.model_dump(mode="json")


def _poll(services: Services, job_id: int, wallet: str) -> dict[str, object] | None:
    """A later snapshot; None (keep the last one) while the chain or database fails."""
    try:
        return _snapshot(services, job_id, wallet)
    except GatewayError:
        return None


async def _stream(
    services: Services, job_id: int, wallet: str, state: dict[str, object]
) -> AsyncIterator[str]:
    last: dict[str, object] | None = None
    quiet = 0
    while True:
        if _is_news(state, last):
            yield f"event: status\nid: {state['updated_block']}\ndata: {json.dumps(state)}\n\n"
            last, quiet = state, 0
            if state["status"] in TERMINAL:
                return
        elif (quiet := quiet + 1) % KEEPALIVE_EVERY == 0:
            yield ": keep-alive\n\n"
        await asyncio.sleep(SSE_POLL_S)
        state = await run_in_threadpool(_poll, services, job_id, wallet) or state


def _is_news(state: dict[str, Any], last: dict[str, Any] | None) -> bool:
    """A changed state, never an older one: the chain's view can be ahead of the index's."""
    return last is None or (state != last and state["updated_block"] >= last["updated_block"])
