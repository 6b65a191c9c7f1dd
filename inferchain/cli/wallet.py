"""`inferchain wallet new | import | show | balance | deposit | withdraw`."""

from __future__ import annotations

from pathlib import Path

import typer

from inferchain.cli._network import (
    DeploymentsOpt,
    KeystoreOpt,
    NetworkOpt,
    NetworksFileOpt,
    format_eth,
    market_client,
    parse_amount,
)
from inferchain.cli.output import JsonOption, emit
from inferchain.market import ETH
from inferchain.wallet import (
    PASSWORD_ENV,
    default_keystore,
    keystore_address,
    new_keystore,
    write_keystore,
)
from inferchain.wallet.keystore import DEFAULT_SCRYPT_N

app = typer.Typer(help="Encrypted keystores and market balances.", no_args_is_help=True)

ForceOpt = typer.Option(False, "--force", help="Replace an existing keystore file.")
ScryptOpt = typer.Option(
    DEFAULT_SCRYPT_N, "--scrypt-n", hidden=True, help="scrypt cost (lower only for tests)."
)
TokenOpt = typer.Option(ETH, "--token", help="ERC-20 address; ETH by default.")


def _new_password() -> str:
    import os

    env = os.environ.get(PASSWORD_ENV)
    if env is not None:
        return env
    return typer.prompt("New keystore password", hide_input=True, confirmation_prompt=True)


def _path(keystore: Path | None) -> Path:
    return keystore or default_keystore()


@app.command()
def new(
    keystore: Path | None = KeystoreOpt,
    force: bool = ForceOpt,
    scrypt_n: int = ScryptOpt,
    as_json: bool = JsonOption,
) -> None:
    """Create a fresh key, encrypted with a password, and print its address."""
    info = new_keystore(_path(keystore), _new_password(), overwrite=force, scrypt_n=scrypt_n)
    emit(
        {"address": info.address, "keystore": str(info.path)},
        f"created {info.address}\nkeystore: {info.path} (encrypted; keep the password safe)",
        as_json,
    )


@app.command("import")
def import_key(
    keystore: Path | None = KeystoreOpt,
    key_env: str | None = typer.Option(
        None, "--from-env", help="Read the private key from this env var instead of a prompt."
    ),
    force: bool = ForceOpt,
    scrypt_n: int = ScryptOpt,
    as_json: bool = JsonOption,
) -> None:
    """Encrypt an existing private key into a keystore."""
    import os

    if key_env:
        key = os.environ.get(key_env)
        if not key:
            raise typer.BadParameter(f"{key_env} is not set", param_hint="--from-env")
    else:
        key = typer.prompt("Private key (hex)", hide_input=True)
    info = write_keystore(
        _path(keystore), key.strip(), _new_password(), overwrite=force, scrypt_n=scrypt_n
    )
    emit(
        {"address": info.address, "keystore": str(info.path)},
        f"imported {info.address}\nkeystore: {info.path}",
        as_json,
    )


@app.command()
def show(keystore: Path | None = KeystoreOpt, as_json: bool = JsonOption) -> None:
    """Print the keystore's address (no password needed)."""
    info = keystore_address(_path(keystore))
    emit(
        {"address": info.address, "keystore": str(info.path)},
        f"{info.address}\nkeystore: {info.path}",
        as_json,
    )


@app.command()
def balance(
    address: str | None = typer.Argument(None, help="Any address; default: your keystore's."),
    token: str = TokenOpt,
    network: str | None = NetworkOpt,
    networks_file: Path | None = NetworksFileOpt,
    deployments: Path | None = DeploymentsOpt,
    keystore: Path | None = KeystoreOpt,
    as_json: bool = JsonOption,
) -> None:
    """Wallet balance and withdrawable market balance (deposits, refunds, earnings)."""
    conn, client = market_client(network, networks_file, deployments)
    who = address or keystore_address(_path(keystore)).address
    amounts = client.balances(who, token)
    unit = format_eth if token == ETH else (lambda v: f"{v} units of {token}")
    emit(
        {"address": who, "network": conn.network.name, "token": token, **amounts},
        f"{who} on {conn.network.name}\nwallet: {unit(amounts['wallet'])}\n"
        f"market: {unit(amounts['market'])} (withdrawable)",
        as_json,
    )


@app.command()
def deposit(
    amount: str = typer.Argument(..., help="e.g. 0.05eth, 1000 (wei or token units)"),
    token: str = TokenOpt,
    network: str | None = NetworkOpt,
    networks_file: Path | None = NetworksFileOpt,
    deployments: Path | None = DeploymentsOpt,
    keystore: Path | None = KeystoreOpt,
    as_json: bool = JsonOption,
) -> None:
    """Credit your market balance (pays signed/relayed jobs)."""
    value = parse_amount(amount)
    _conn, client = market_client(
        network, networks_file, deployments, keystore=keystore, signs=True
    )
    tx = client.deposit(value, token)
    emit({"amount": value, "token": token, "tx": tx}, f"deposited {value} (tx {tx})", as_json)


@app.command()
def withdraw(
    amount: str | None = typer.Argument(None, help="Default: everything withdrawable."),
    token: str = TokenOpt,
    to: str | None = typer.Option(None, "--to", help="Recipient; default: yourself."),
    network: str | None = NetworkOpt,
    networks_file: Path | None = NetworksFileOpt,
    deployments: Path | None = DeploymentsOpt,
    keystore: Path | None = KeystoreOpt,
    as_json: bool = JsonOption,
) -> None:
    """Take your market balance (refunds, earnings, royalties) out to your wallet."""
    value = parse_amount(amount) if amount is not None else None
    _conn, client = market_client(
        network, networks_file, deployments, keystore=keystore, signs=True
    )
    sent, tx = client.withdraw(value, token, to)
    emit({"amount": sent, "token": token, "tx": tx}, f"withdrew {sent} (tx {tx})", as_json)
