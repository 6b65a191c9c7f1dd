"""`inferchain gateway`: uvicorn really serves the app; `index --once` catches up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from inferchain.cli import gateway
from inferchain.devstack import free_port
from tests.gateway.conftest import Market, gateway_process

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


def test_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    """uvicorn alone trusts X-Forwarded-For from 127.0.0.1: any local client could pick the
    address its requests are limited by. `gateway run` trusts only `trusted_proxies`."""
    limits = {"rate_burst": 3, "rate_per_minute": 1}

    def statuses(url: str, forwarded: list[str]) -> list[int]:
        return [
            httpx.get(f"{url}/health", headers={"X-Forwarded-For": ip}, timeout=5).status_code
            for ip in forwarded
        ]

    spoofed = [f"10.1.0.{i}" for i in range(1, 5)]
    (tmp_path / "direct").mkdir()
    with gateway_process(tmp_path / "direct", **limits) as (url, _process):
        assert statuses(url, spoofed)[-2:] == [429, 429]  # all one client: 127.0.0.1
    (tmp_path / "proxied").mkdir()
    trusted = {**limits, "trusted_proxies": '["127.0.0.1/32"]'}
    with gateway_process(tmp_path / "proxied", **trusted) as (url, _process):
        assert statuses(url, spoofed) == [200] * 4  # four clients behind the proxy
        assert statuses(url, ["10.1.0.9"] * 4) == [200, 200, 200, 429]


def test_trusted_proxies_must_be_addresses() -> None:
    from inferchain.gateway import GatewaySettings

    with pytest.raises(ValueError, match="not an IP address"):
        GatewaySettings(trusted_proxies=["proxy.internal"])
