"""Options shared by the commands that talk to a deployed market, and how they connect."""

from __future__ import annotations

from pathlib import Path

import typer

from inferchain.deploy import Connection, connect
from inferchain.ipfs import IpfsClient
from inferchain.wallet import MarketClient, resolve_key

NetworkOpt = typer.Option(
    None,
    "--network",
    "-n",
    envvar="INFERCHAIN_NETWORK",
    help="Entry of the networks file (default: local).",
)
NetworksFileOpt = typer.Option(
    None,
    "--networks-file",
    envvar="INFERCHAIN_NETWORKS_FILE",
    help="Networks file (default: networks.toml in the checkout).",
)
DeploymentsOpt = typer.Option(
    None,
    "--deployments-dir",
    envvar="INFERCHAIN_DEPLOYMENTS_DIR",
    help="Where <chain-id>.json records live (default: deployments/).",
)
KeystoreOpt = typer.Option(
    None, "--keystore", envvar="INFERCHAIN_KEYSTORE", help="Encrypted keystore file."
)
IpfsApiOpt = typer.Option(
    "http://127.0.0.1:5001", "--ipfs-api", envvar="INFERCHAIN_IPFS_API", help="IPFS RPC API URL."
)


def prompt_password(what: str) -> str:
    return typer.prompt(what.capitalize(), hide_input=True)


def market_client(
    network: str | None,
    networks_file: Path | None,
    deployments: Path | None,
    *,
    keystore: Path | None = None,
    signs: bool = False,
    ipfs_api: str | None = None,
) -> tuple[Connection, MarketClient]:
    """Connect (chain id checked, addresses from the record) and unlock the key if needed."""
    conn = connect(network, networks_file=networks_file, deployments=deployments)
    key = None
    if signs:
        key = resolve_key(
            keystore=keystore,
            allow_plain_key=conn.network.local,
            network=conn.network.name,
            prompt=prompt_password,
        )
    ipfs = IpfsClient(ipfs_api) if ipfs_api else None
    return conn, MarketClient(conn.market, key, ipfs)


def parse_amount(text: str) -> int:
    """`1000` (wei or token units), `0.5eth`, `2gwei` → integer smallest units."""
    from decimal import Decimal, InvalidOperation

    raw = text.strip().lower().replace("_", "").replace(" ", "")
    units = {"ether": 10**18, "eth": 10**18, "gwei": 10**9, "wei": 1}
    scale = 1
    for suffix, factor in units.items():
        if raw.endswith(suffix):
            raw, scale = raw[: -len(suffix)], factor
            break
    try:
        value = Decimal(raw) * scale
    except InvalidOperation as exc:
        raise typer.BadParameter(f"{text!r} is not an amount (e.g. 1000, 0.01eth, 5gwei)") from exc
    if value < 0 or value != value.to_integral_value():
        raise typer.BadParameter(f"{text!r} is not a whole number of wei/units")
    return int(value)


def format_eth(wei: int) -> str:
    from decimal import Decimal

    return f"{Decimal(wei) / Decimal(10**18):f} ETH"
