"""``create_app(settings)``: the FastAPI application with its middleware and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from inferchain import __version__
from inferchain.gateway.api.errors import install_error_handlers
from inferchain.gateway.api.middleware import BodySizeLimit, JsonBodyGuard, RequestMetrics
from inferchain.gateway.api.openapi import correct_openapi
from inferchain.gateway.api.ratelimit import ClientRateLimit
from inferchain.gateway.api.routes import auth, health, jobs, market, openai_compat, submit
from inferchain.gateway.container import Services
from inferchain.gateway.market.funding import JobFunder
from inferchain.gateway.settings import GatewaySettings


def create_app(
    settings: GatewaySettings | None = None, *, job_funder: JobFunder | None = None
) -> FastAPI:
    """Build the app; the database is migrated and the indexer started on startup.

    ``job_funder`` lets the OpenAI-compatible endpoints create jobs for a wallet (see
    ``market.funding``); without it they answer 501.
    """
    services = Services(settings or GatewaySettings(), job_funder)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.start()
        try:
            yield
        finally:
            services.stop()

    app = FastAPI(
        title="Inferchain gateway",
        version=__version__,
        description="Sign in with Ethereum, submit inference jobs, read the indexed market.",
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    for router in (
        health.router,
        auth.router,
        submit.router,
        jobs.router,
        market.router,
        openai_compat.router,
    ):
        app.include_router(router)
    correct_openapi(app)
    # Outermost last: metrics see every response, including 413s and CORS preflights; the
    # JSON guard buffers only what the size limit let through.
    app.add_middleware(JsonBodyGuard)
    app.add_middleware(BodySizeLimit, max_bytes=services.settings.max_body_bytes)
    app.add_middleware(ClientRateLimit, limiter=services.limiter, metrics=services.metrics)
    if services.settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=services.settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(RequestMetrics, metrics=services.metrics)
    return app
