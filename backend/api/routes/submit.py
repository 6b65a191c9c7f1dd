"""Job submission: upload an input, prepare a job for the wallet, relay a signed request."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from inferchain.gateway.api.deps import CurrentWallet, ServicesDep
from inferchain.gateway.api.errors import responses
from inferchain.gateway.market.submission import pin_input, prepare_job, relay
from inferchain.gateway.schemas.jobs import (
    InputUploaded,
    JobCreate,
    JobPrepared,
    RelayRequest,
    RelayResponse,
)

router = APIRouter(tags=["jobs"])


@router.post(
    "/inputs",
    response_model=InputUploaded,
    status_code=201,
    responses=responses(400, 401, 413, 429, 503, 504),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload_input(
    request: Request, wallet: CurrentWallet, services: ServicesDep
) -> InputUploaded:
    """Pin a file input (raw body) to IPFS; use the CID as ``input_cid`` in ``POST /jobs``."""
    data = await request.body()
    cid = await run_in_threadpool(pin_input, services, data)
    return InputUploaded(cid=str(cid), size=len(data))


@router.post(
    "/jobs",
    response_model=JobPrepared,
    responses=responses(400, 401, 404, 409, 413, 422, 429, 503, 504),
)
def create_job(body: JobCreate, wallet: CurrentWallet, services: ServicesDep) -> JobPrepared:
    """Pin the input and answer with what the wallet must send (or sign) to create the job."""
    return prepare_job(services, wallet, body)


@router.post(
    "/jobs/relay",
    response_model=RelayResponse,
    status_code=201,
    responses=responses(400, 401, 403, 409, 422, 429, 503, 504),
)
def relay_job(body: RelayRequest, wallet: CurrentWallet, services: ServicesDep) -> RelayResponse:
    """Send a signed JobRequest through ``createJobFor``, paid from the wallet's deposit."""
    return relay(services, wallet, body.typed_data, body.signature)
