"""`inferchain gateway [run | index | openapi]`: serve the gateway, or run its indexer alone.

Settings come from INFERCHAIN_GATEWAY_* variables (see docs/gateway.md); flags override.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import typer

from inferchain.settings import load_settings

app = typer.Typer(help="The FastAPI gateway: sign-in, jobs API, indexer, OpenAI-compatible API.")


def _settings(**overrides: Any):  # type: ignore[no-untyped-def]
    from inferchain.gateway import GatewaySettings

    return load_settings(GatewaySettings, **overrides)


Host = typer.Option(None, "--host", help="bind address [127.0.0.1]")
Port = typer.Option(None, "--port", help="[8000]")
Market = typer.Option(None, "--market", help="JobMarket address")
Database = typer.Option(None, "--database-url", help="[sqlite:///.inferchain/gateway.db]")


@app.callback(invoke_without_command=True)
def _default(ctx: typer.Context) -> None:
    """Without a subcommand: `run` with settings from the environment."""
    if ctx.invoked_subcommand is None:
        run(host=None, port=None, market=None, database_url=None, no_indexer=False)


@app.command()
def run(
    host: str | None = Host,
    port: int | None = Port,
    market: str | None = Market,
    database_url: str | None = Database,
    no_indexer: bool = typer.Option(False, "--no-indexer", help="serve only; index elsewhere"),
) -> None:
    """Serve the gateway with uvicorn (the indexer runs inside unless --no-indexer)."""
    import uvicorn

    from inferchain.gateway import create_app

    settings = _settings(
        host=host,
        port=port,
        market_address=market,
        database_url=database_url,
        run_indexer=False if no_indexer else None,
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        **proxy_options(settings),
    )


def proxy_options(settings: Any) -> dict[str, Any]:
    """uvicorn's proxy-header options: trust ``X-Forwarded-For`` only from the configured
    proxies (uvicorn alone trusts 127.0.0.1, or ``FORWARDED_ALLOW_IPS``, so any local
    client could pick the address the rate limit counts)."""
    proxies = list(settings.trusted_proxies)
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}


@app.command()
def index(
    market: str | None = Market,
    database_url: str | None = Database,
    once: bool = typer.Option(False, "--once", help="catch up with the head, then exit"),
) -> None:
    """Run the event indexer in this process (for a gateway started with --no-indexer)."""
    from inferchain.gateway.container import Services
    from inferchain.gateway.db import upgrade
    from inferchain.gateway.indexer import Indexer

    settings = _settings(market_address=market, database_url=database_url)
    services = Services(settings)
    upgrade(services.engine)
    indexer = Indexer.configured(
        services.contracts(), services.sessions, settings, services.metrics
    )
    if once:
        typer.echo(f"indexed up to block {indexer.sync()}")
        return
    stop = threading.Event()
    try:
        indexer.run(stop, settings.index_poll_s)
    except KeyboardInterrupt:
        stop.set()


@app.command()
def openapi() -> None:
    """Print the OpenAPI schema (JSON)."""
    from inferchain.gateway import create_app

    typer.echo(json.dumps(create_app(_settings(run_indexer=False)).openapi(), indent=1))
