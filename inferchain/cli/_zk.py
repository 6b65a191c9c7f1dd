"""The ZK-tier steps of `inferchain model publish` and `model register` (bundles with `zk`)."""

from __future__ import annotations

from pathlib import Path

import typer

from inferchain.bundle.manifest import MANIFEST_NAME, parse_manifest
from inferchain.chain import Chain, TransactionSender
from inferchain.cli._network import Target

ZkWorkOpt = typer.Option(
    None,
    "--zk-work",
    help="Where the circuit and its 24 MB proving key are built (default: .inferchain/zk/NAME).",
)
ZkModuleOpt = typer.Option(
    None,
    "--zk-module",
    envvar="INFERCHAIN_ZK_MODULE",
    help="ZkVerifier address (default: the deployment's, mode zk); with --bundle.",
)


def is_zk_bundle(directory: Path) -> bool:
    path = directory / MANIFEST_NAME
    return path.is_file() and parse_manifest(path.read_bytes()).zk is not None


def prepare_and_deploy(
    directory: Path,
    work: Path | None,
    target: Target,
) -> dict[str, object]:
    """Build the circuit into the bundle (keys if missing), check it against the weights, and
    deploy its verifier unless the manifest records one; returns the manifest's zk section."""
    from inferchain.zk.publish import publish_circuit

    def connect() -> tuple[Chain, TransactionSender]:
        conn, client = target.client(signs=True)
        return conn.chain, client.sender

    manifest = parse_manifest((directory / MANIFEST_NAME).read_bytes())
    zk, deployed = publish_circuit(
        directory, work or Path(".inferchain", "zk", manifest.name), connect
    )
    if deployed is not None:
        typer.echo(f"deployed the circuit's verifier at {deployed}", err=True)
    return zk.model_dump(mode="json")


def check_recorded(directory: Path, manifest_sha256: str, chain: Chain) -> None:
    """Before registering: DIRECTORY is the bundle being registered, its verifier on this chain."""
    from inferchain.zk.publish import recorded_verifier

    recorded_verifier(directory, chain, manifest_sha256.removeprefix("0x"))


def register_verifier(
    directory: Path, module: str, model_id: int, chain: Chain, sender: TransactionSender
) -> str:
    """Set the bundle's verifier for ``model_id`` in ZkVerifier ``module``; returns it."""
    from inferchain.zk.publish import register_bundle_verifier

    return register_bundle_verifier(directory, chain, sender, module, model_id)
