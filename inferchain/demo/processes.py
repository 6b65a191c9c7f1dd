"""The demo's worker and gateway as background processes recorded in the dev stack.

Each is recorded in the stack's state file (`DevStack.record`), so `inferchain dev down`
stops them with Anvil and IPFS. A second run reuses them when they still answer and
serve the same market; otherwise they are stopped and started afresh.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from inferchain.devstack import DevStack, RunningService, free_port
from inferchain.devstack.process import spawn, start_ticks, wait_ready
from inferchain.market import Market
from inferchain.market.modes import ZK_MODE

WORKER, GATEWAY = "worker", "gateway"
GATEWAY_PORT, WORKER_METRICS_PORT = 8000, 9400


@dataclass(frozen=True)
class Endpoints:
    rpc_url: str
    ipfs_api_url: str
    chain_id: int


def health_answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def reusable(stack: DevStack, name: str, market: Market) -> RunningService | None:
    """The recorded service, if it is alive, answers and serves this market."""
    service = stack.extra_services().get(name)
    marker = stack.state_dir / "demo" / f"{name}.market"
    if service is None or not service.alive() or not health_answers(service.url):
        return None
    if not marker.exists() or marker.read_text() != market_identity(market):
        return None
    return service


def market_identity(market: Market) -> str:
    """Market address and the hash of its deployment block: a restarted Anvil redeploys
    the same addresses, but never with the same block hash."""
    block = market.chain.w3.eth.get_block(market.addresses.deployed_block)
    return f"{market.addresses.job_market}@{block['hash'].to_0x_hex()}"


def start_worker(
    stack: DevStack, market: Market, ends: Endpoints, key: str, model_ids: list[int], stake: int
) -> RunningService:
    """`inferchain worker run` for the demo models, registered, staked and allocated to the
    market (``stake`` wei of ETH) on first start; it proves the `zk` tier's jobs."""
    home = _fresh_home(stack, WORKER, market)
    addresses = home / "market.json"
    addresses.write_text(json.dumps(market.addresses.to_dict()))
    port = _port(WORKER_METRICS_PORT)
    cmd = [
        sys.executable, "-m", "inferchain.worker", "run",
        "--market-addresses", str(addresses), "--rpc-url", ends.rpc_url,
        "--ipfs-api-url", ends.ipfs_api_url, "--state-dir", str(home / "state"),
        "--metrics-port", str(port), "--register", "--stake", str(stake), "--text-logs",
        *[arg for model_id in model_ids for arg in ("--model", str(model_id))],
    ]  # fmt: skip
    env = {
        "INFERCHAIN_WORKER_PRIVATE_KEY": key,
        "INFERCHAIN_WORKER_CHAIN_ID": str(ends.chain_id),
        "INFERCHAIN_WORKER_ZK_MODES": f"[{ZK_MODE}]",
    }  # proves `zk` jobs, off the job path
    return _launch(stack, WORKER, cmd, env, f"http://127.0.0.1:{port}", {"metrics": port}, market)


def start_gateway(
    stack: DevStack, market: Market, ends: Endpoints, relayer_key: str
) -> RunningService:
    """`inferchain gateway run` with its indexer, on a fresh database for this market."""
    home = _fresh_home(stack, GATEWAY, market)
    port = _port(GATEWAY_PORT)
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "inferchain", "gateway", "run", "--port", str(port)]
    env = {
        "INFERCHAIN_GATEWAY_MARKET_ADDRESS": market.addresses.job_market,
        "INFERCHAIN_GATEWAY_DEPLOYMENT_BLOCK": str(market.addresses.deployed_block),
        "INFERCHAIN_GATEWAY_DATABASE_URL": f"sqlite:///{home / 'gateway.db'}",
        "INFERCHAIN_GATEWAY_RPC_URL": ends.rpc_url,
        "INFERCHAIN_GATEWAY_CHAIN_ID": str(ends.chain_id),
        "INFERCHAIN_GATEWAY_IPFS_API_URL": ends.ipfs_api_url,
        "INFERCHAIN_GATEWAY_SIWE_URI": url,
        "INFERCHAIN_GATEWAY_RELAYER_KEY": relayer_key,
        "INFERCHAIN_GATEWAY_INDEX_POLL_S": "0.25",
    }
    return _launch(stack, GATEWAY, cmd, env, url, {"http": port}, market)


def log_path(stack: DevStack, name: str) -> Path:
    return stack.state_dir / "logs" / f"{name}.log"


def _launch(
    stack: DevStack,
    name: str,
    cmd: list[str],
    env: dict[str, str],
    url: str,
    ports: dict[str, int],
    market: Market,
) -> RunningService:
    log = log_path(stack, name)
    started = time.time()
    pid = spawn(cmd, log, env)
    # Recorded before it answers, so a failed start is still stopped by `dev down`.
    service = RunningService(name, pid, url, log, cmd[0], start_ticks(pid), ports, started, 0.0)
    stack.record(service)
    waited = wait_ready(lambda: health_answers(url), pid, name, log, timeout=90)
    service = RunningService(
        name, pid, url, log, cmd[0], service.identity, ports, started, round(waited, 3)
    )
    stack.record(service)
    (stack.state_dir / "demo" / f"{name}.market").write_text(market_identity(market))
    return service


def _fresh_home(stack: DevStack, name: str, market: Market) -> Path:
    """Stop a stale recorded process; a new market gets a clean state folder."""
    stack.forget(name)
    home = stack.state_dir / "demo" / name
    marker = stack.state_dir / "demo" / f"{name}.market"
    if home.exists() and (not marker.exists() or marker.read_text() != market_identity(market)):
        shutil.rmtree(home)  # state of another chain or market: its blocks and jobs are gone
    marker.unlink(missing_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    return home


def _port(preferred: int) -> int:
    """The usual port when it is free, else any free one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred
