"""`inferchain wallet new | import | show | balance | deposit | withdraw | signer ...`."""

from __future__ import annotations

from pathlib import Path

import typer

from inferchain.cli._network import (
    KeystoreOpt,
    Target,
    format_eth,
    market_options,
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
from inferchain.wallet.client import MarketClient
from inferchain.wallet.keystore import DEFAULT_SCRYPT_N, KeystoreInfo

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


def _emit_keystore(info: KeystoreInfo, as_json: bool, done: str = "", note: str = "") -> None:
    """A keystore's address and file; ``done`` and ``note`` frame the text (not the JSON)."""
    emit(
        {"address": info.address, "keystore": str(info.path)},
        f"{done}{info.address}\nkeystore: {info.path}{note}",
        as_json,
    )


@app.command()
def new(
    keystore: Path | None = KeystoreOpt,
    force: bool = ForceOpt,
    scrypt_n: int = ScryptOpt,
    as_json: bool = JsonOption,
) -> None:
    """Create a fresh key, encrypted with a password, and print its address."""
    info = new_keystore(_path(keystore), _new_password(), overwrite=force, scrypt_n=scrypt_n)
    _emit_keystore(info, as_json, "created ", " (encrypted; keep the password safe)")


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
    _emit_keystore(info, as_json, "imported ")


@app.command()
def show(keystore: Path | None = KeystoreOpt, as_json: bool = JsonOption) -> None:
    """Print the keystore's address (no password needed)."""
    _emit_keystore(keystore_address(_path(keystore)), as_json)


@app.command()
@market_options()
def balance(
    address: str | None = typer.Argument(None, help="Any address; default: your keystore's."),
    token: str = TokenOpt,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Wallet balance and withdrawable market balance (deposits, refunds, earnings)."""
    conn, client = target.client()
    who = address or keystore_address(_path(target.keystore)).address
    amounts = client.balances(who, token)
    unit = format_eth if token == ETH else (lambda v: f"{v} units of {token}")
    emit(
        {"address": who, "network": conn.network.name, "token": token, **amounts},
        f"{who} on {conn.network.name}\nwallet: {unit(amounts['wallet'])}\n"
        f"market: {unit(amounts['market'])} (withdrawable)",
        as_json,
    )


@app.command()
@market_options()
def deposit(
    amount: str = typer.Argument(..., help="e.g. 0.05eth, 1000 (wei or token units)"),
    token: str = TokenOpt,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Credit your market balance (pays signed/relayed jobs)."""
    value = parse_amount(amount)
    _conn, client = target.client(signs=True)
    tx = client.deposit(value, token)
    emit({"amount": value, "token": token, "tx": tx}, f"deposited {value} (tx {tx})", as_json)


@app.command()
@market_options()
def withdraw(
    amount: str | None = typer.Argument(None, help="Default: everything withdrawable."),
    token: str = TokenOpt,
    to: str | None = typer.Option(None, "--to", help="Recipient; default: yourself."),
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Take your market balance (refunds, earnings, royalties) out to your wallet."""
    value = parse_amount(amount) if amount is not None else None
    _conn, client = target.client(signs=True)
    sent, tx = client.withdraw(value, token, to)
    emit({"amount": sent, "token": token, "tx": tx}, f"withdrew {sent} (tx {tx})", as_json)


signer_app = typer.Typer(
    help="Session signers: keys that may sign jobs paid from your deposit, up to an amount.",
    no_args_is_help=True,
)
app.add_typer(signer_app, name="signer")
SignerArg = typer.Argument(..., help="The session signer's address.")


@signer_app.command("grant")
@market_options()
def signer_grant(
    signer: str = SignerArg,
    amount: str = typer.Argument(..., help="Added to what it may still spend, e.g. 0.05eth"),
    ttl: int = typer.Option(86_400, "--ttl", help="Seconds until it expires (at most 90 days)."),
    token: str = TokenOpt,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Let SIGNER spend AMOUNT more of your deposit (the router's increaseSignerCap)."""
    value = parse_amount(amount)
    _conn, client = target.client(signs=True)
    tx = client.grant_signer(signer, value, token, ttl)
    _emit_session(client, signer, token, tx, as_json)


@signer_app.command("lower")
@market_options()
def signer_lower(
    signer: str = SignerArg,
    amount: str = typer.Argument(..., help="Taken off what it may still spend (down to 0)"),
    token: str = TokenOpt,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Lower what SIGNER may still spend by AMOUNT (the router's decreaseSignerCap)."""
    value = parse_amount(amount)
    _conn, client = target.client(signs=True)
    tx = client.lower_signer(signer, value, token)
    _emit_session(client, signer, token, tx, as_json)


@signer_app.command("revoke")
@market_options()
def signer_revoke(
    signer: str = SignerArg,
    token: str = TokenOpt,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Withdraw SIGNER's authorisation for the token at once."""
    _conn, client = target.client(signs=True)
    tx = client.revoke_signer(signer, token)
    _emit_session(client, signer, token, tx, as_json)


def _emit_session(client: MarketClient, signer: str, token: str, tx: str, as_json: bool) -> None:
    held = client.session(client.sender.address, signer, token)
    emit(
        {"signer": signer, "token": token, **held, "tx": tx},
        f"{signer} may spend {held['remaining']} more until {held['expiry']} (tx {tx})",
        as_json,
    )
