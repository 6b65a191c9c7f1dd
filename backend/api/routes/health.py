"""``/health`` (liveness plus what is degraded) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import select, text

from inferchain.gateway.api.deps import ServicesDep
from inferchain.gateway.db.models import IndexerCursor

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: bool
    indexer_running: bool | None
    indexed_block: int | None


@router.get("/health", response_model=Health)
def health(services: ServicesDep, response: Response) -> Health:
    """200 while the database answers; 503 otherwise. Never touches the chain or IPFS."""
    indexed = None
    try:
        with services.sessions() as db:
            db.execute(text("SELECT 1"))
            indexed = db.scalar(select(IndexerCursor.block_number).limit(1))
        database = True
    except Exception:
        database = False
    running = services.indexer.running if services.indexer is not None else None
    ok = database and running is not False
    response.status_code = 200 if ok else 503
    return Health(
        status="ok" if ok else "degraded",
        database=database,
        indexer_running=running,
        indexed_block=indexed,
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition",
        }
    },
)
def metrics(services: ServicesDep) -> Response:
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
