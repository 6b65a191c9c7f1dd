"""`inferchain gateway`: uvicorn really serves the app; `index --once` catches up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import typer
from typer.testing import CliRunner

from inferchain.cli import gateway
from inferchain.devstack import free_port
from tests.gateway.conftest import Market

_RUN = "from inferchain.cli.gateway import app; app()"


def cli() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(gateway.app, name="gateway")
    return root


def test_run_serves_health_over_http(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "INFERCHAIN_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}
    process = subprocess.Popen(
        [sys.executable, "-c", _RUN, "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "gateway did not start in 30 s"
                time.sleep(0.2)
        assert response.status_code == 200 and response.json()["status"] == "ok"
    finally:
        process.terminate()
        process.wait(10)


def test_index_once_catches_up(market: Market, tmp_path: Path, anvil) -> None:  # type: ignore[no-untyped-def]
    env = {
        "INFERCHAIN_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
        "INFERCHAIN_GATEWAY_RPC_URL": anvil.rpc_url,
        "INFERCHAIN_GATEWAY_DEPLOYMENT_BLOCK": str(market.deployment_block),
    }
    result = CliRunner().invoke(
        cli(), ["gateway", "index", "--once", "--market", market.d.market.address], env=env
    )
    assert result.exit_code == 0, result.output
    assert f"indexed up to block {market.d.chain.w3.eth.block_number}" in result.output


def test_bad_settings_fail_with_a_config_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli(), ["gateway", "index", "--once", "--market", "0x12"])
    assert result.exit_code != 0 and "not an address" in str(result.exception)
