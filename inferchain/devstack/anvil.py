"""Local Anvil chain: deterministic dev accounts, started from the npm-shipped binary."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import httpx
from eth_account import Account

from inferchain.devstack.errors import ToolMissing
from inferchain.devstack.process import ensure_port_free
from inferchain.devstack.running import RunningService, launch
from inferchain.errors import ConfigError
from inferchain.paths import INSTALL_HINT, node_modules

#: Anvil's (and Hardhat's) well-known development mnemonic: public, for local chains only.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNT_COUNT = 10


def anvil_binary() -> str:
    """The platform binary inside node_modules (not the npx shim: killing npx orphans anvil)."""
    try:
        candidates = sorted((node_modules() / "@foundry-rs").glob("anvil-*/bin/anvil"))
    except ConfigError:
        candidates = []
    if candidates:
        return str(candidates[0])
    on_path = shutil.which("anvil")
    if on_path:
        return on_path
    raise ToolMissing(f"the anvil binary is missing (node_modules/@foundry-rs): {INSTALL_HINT}")


@cache
def dev_private_keys(count: int = DEV_ACCOUNT_COUNT) -> tuple[str, ...]:
    """The private keys Anvil funds by default (derived, not pasted)."""
    Account.enable_unaudited_hdwallet_features()
    return tuple(
        Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").key.to_0x_hex()
        for i in range(count)
    )


def rpc_answers(url: str) -> bool:
    try:
        response = httpx.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1
        )
        return response.status_code == 200 and "result" in response.json()
    except (httpx.HTTPError, ValueError):
        return False


def start_anvil(
    port: int,
    log_path: Path,
    *,
    chain_id: int = 31337,
    block_time: float | None = None,
    timeout: float = 15.0,
    port_flag: str = "--anvil-port",
) -> RunningService:
    binary = anvil_binary()
    ensure_port_free(port, "Anvil", port_flag)
    cmd = [
        binary,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--chain-id", str(chain_id),
        "--mnemonic", DEV_MNEMONIC,
        "--accounts", str(DEV_ACCOUNT_COUNT),
        "--balance", "10000",
    ]  # fmt: skip
    if block_time:
        cmd += ["--block-time", str(block_time)]
    # Anvil moves old block states to $HOME/.foundry/anvil/tmp and never removes them when it
    # is stopped; a HOME of its own, removed on stop, keeps long runs from filling the disk.
    scratch = log_path.parent / f"anvil-home-{port}"
    scratch.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    return launch(
        "anvil",
        cmd,
        log_path,
        env={"HOME": str(scratch)},
        url=url,
        probe=lambda: rpc_answers(url),
        label="Anvil",
        timeout=timeout,
        executable=binary,
        ports={"rpc": port},
        scratch=str(scratch),
    )
