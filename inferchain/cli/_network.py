"""Options shared by the commands that talk to a deployed market, and how they connect."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

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


F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Target:
    """The deployed market a command talks to, as its shared options name it."""

    network: str | None = None
    networks_file: Path | None = None
    deployments: Path | None = None
    keystore: Path | None = None

    def client(
        self, *, signs: bool = False, ipfs_api: str | None = None
    ) -> tuple[Connection, MarketClient]:
        return market_client(
            self.network,
            self.networks_file,
            self.deployments,
            keystore=self.keystore,
            signs=signs,
            ipfs_api=ipfs_api,
        )


def _option(name: str, default: Any, annotation: Any) -> inspect.Parameter:
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Parameter(name, kind, default=default, annotation=annotation)


_TARGET_OPTIONS = (
    _option("network", NetworkOpt, str | None),
    _option("networks_file", NetworksFileOpt, Path | None),
    _option("deployments", DeploymentsOpt, Path | None),
)
_KEYSTORE_OPTION = _option("keystore", KeystoreOpt, Path | None)


def market_options(*, keystore: bool = True) -> Callable[[F], F]:
    """Give a command the options that name a deployed market (`--network`,
    `--networks-file`, `--deployments-dir`, and `--keystore` unless it never signs) in place
    of its `target: Target` parameter, so that they are declared once for every command."""

    def decorate(command: F) -> F:
        options = _TARGET_OPTIONS + ((_KEYSTORE_OPTION,) if keystore else ())
        signature = inspect.signature(command, eval_str=True)
        params = []
        for param in signature.parameters.values():
            params.extend(options if param.name == "target" else (param,))

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            target = Target(**{o.name: kwargs.pop(o.name) for o in options})
            return command(target=target, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper  # type: ignore[return-value]

    return decorate


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
    from inferchain.chain.units import parse_amount as parse

    try:
        return parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def format_eth(wei: int) -> str:
    from decimal import Decimal

    return f"{Decimal(wei) / Decimal(10**18):f} ETH"
