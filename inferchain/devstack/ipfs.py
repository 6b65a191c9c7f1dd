"""Local IPFS node: js-ipfs from npm, offline, every address on 127.0.0.1.

js-ipfs is the only node installable here that serves the Kubo RPC API; production users
run Kubo, and the client codes against Kubo's spec. The repo is initialised once and its
config re-pinned to loopback addresses on every start (ports may change between runs).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

from inferchain.devstack.errors import ServiceFailed, ToolMissing
from inferchain.devstack.process import ensure_port_free
from inferchain.devstack.running import RunningService, launch
from inferchain.errors import ConfigError
from inferchain.paths import INSTALL_HINT, node_modules


def jsipfs_command() -> list[str]:
    """`node <cli.js>`: run node directly so the recorded PID is the daemon itself."""
    node = shutil.which("node")
    if node is None:
        raise ToolMissing("node is not on PATH: install Node.js 20, then " + INSTALL_HINT)
    try:
        shim = node_modules() / ".bin" / "jsipfs"
    except ConfigError as exc:
        raise ToolMissing(f"js-ipfs is missing: {INSTALL_HINT}") from exc
    if not shim.exists():
        raise ToolMissing(f"js-ipfs is missing ({shim}): {INSTALL_HINT}")
    return [node, str(shim.resolve())]


def api_answers(api_url: str) -> bool:
    try:
        return httpx.post(f"{api_url}/api/v0/version", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def init_repo(repo: Path, *, api_port: int, gateway_port: int, swarm_port: int) -> None:
    """Create the repo if needed, then pin every address to loopback and turn discovery off."""
    env = {**os.environ, "IPFS_PATH": str(repo)}
    config_path = repo / "config"
    if not config_path.exists():
        repo.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [*jsipfs_command(), "init"], env=env, capture_output=True, text=True, timeout=120
        )
        if proc.returncode != 0 or not config_path.exists():
            raise ServiceFailed(f"`jsipfs init` failed in {repo}: {proc.stderr.strip()[-500:]}")
    config: dict[str, Any] = json.loads(config_path.read_text())
    addresses = config.setdefault("Addresses", {})
    addresses.update(
        {
            "API": f"/ip4/127.0.0.1/tcp/{api_port}",
            "Gateway": f"/ip4/127.0.0.1/tcp/{gateway_port}",
            "Swarm": [f"/ip4/127.0.0.1/tcp/{swarm_port}"],
            "Announce": [],
            "Delegates": [],
        }
    )
    addresses.pop("RPC", None)  # gRPC endpoint (js-ipfs only): not needed, would take a port
    config["Bootstrap"] = []
    discovery = config.setdefault("Discovery", {})
    discovery["MDNS"] = {"Enabled": False, "Interval": 10}
    discovery["webRTCStar"] = {"Enabled": False}
    config_path.write_text(json.dumps(config, indent=2))


def start_ipfs(
    repo: Path,
    log_path: Path,
    *,
    api_port: int,
    gateway_port: int,
    swarm_port: int,
    timeout: float = 30.0,
) -> RunningService:
    command = jsipfs_command()
    for port, flag in (
        (api_port, "--ipfs-api-port"),
        (gateway_port, "--ipfs-gateway-port"),
        (swarm_port, "--ipfs-swarm-port"),
    ):
        ensure_port_free(port, "IPFS", flag)
    init_repo(repo, api_port=api_port, gateway_port=gateway_port, swarm_port=swarm_port)
    # A daemon killed hard leaves its repo lock behind; the PID owning it is gone by now.
    (repo / "repo.lock").unlink(missing_ok=True)
    api_url = f"http://127.0.0.1:{api_port}"
    return launch(
        "ipfs",
        [*command, "daemon", "--offline"],
        log_path,
        env={"IPFS_PATH": str(repo)},
        url=api_url,
        probe=lambda: api_answers(api_url),
        label="IPFS",
        timeout=timeout,
        executable=command[1],
        ports={"api": api_port, "gateway": gateway_port, "swarm": swarm_port},
    )
