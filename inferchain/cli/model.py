"""`inferchain model validate | import-hf | publish | register | update | deactivate | activate`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from inferchain.bundle import load_bundle, publish_bundle
from inferchain.cli._network import (
    DeploymentsOpt,
    KeystoreOpt,
    NetworkOpt,
    NetworksFileOpt,
    market_client,
    parse_amount,
)
from inferchain.cli.output import JsonOption, emit
from inferchain.ipfs import Cid, InvalidCid, IpfsClient
from inferchain.market import ETH, ModelSpec

app = typer.Typer(
    help="Model bundles (validate, publish) and their on-chain registration.", no_args_is_help=True
)

BundleDir = typer.Argument(
    ..., exists=True, file_okay=False, dir_okay=True, help="Bundle directory (with manifest.json)."
)
IpfsApi = typer.Option(
    "http://127.0.0.1:5001", "--ipfs-api", envvar="INFERCHAIN_IPFS_API", help="IPFS RPC API URL."
)


@app.command()
def validate(directory: Path = BundleDir, as_json: bool = JsonOption) -> None:
    """Check manifest, file hashes and tensor shapes; print what the bundle holds."""
    bundle = load_bundle(directory)
    manifest = bundle.manifest
    data = {
        "name": manifest.name,
        "version": manifest.version,
        "task": manifest.task,
        "runtime": manifest.runtime,
        "license": manifest.license,
        "size": bundle.size,
        "manifest_sha256": bundle.manifest_sha256,
    }
    human = (
        f"ok: {manifest.name} {manifest.version} ({manifest.task}, {manifest.runtime}), "
        f"{bundle.size} bytes, manifest sha256 {bundle.manifest_sha256}"
    )
    emit(data, human, as_json)


@app.command()
def publish(
    directory: Path = BundleDir,
    ipfs_api: str = IpfsApi,
    timeout: float = typer.Option(120.0, "--timeout", min=1, help="Seconds for the upload."),
    as_json: bool = JsonOption,
) -> None:
    """Validate DIRECTORY, pin it to IPFS (CID checked locally), print CID and manifest hash."""
    with IpfsClient(ipfs_api, timeout=timeout) as ipfs:
        published = publish_bundle(ipfs, directory)
    human = (
        f"published {published.name} {published.version} ({published.size} bytes)\n"
        f"bundle cid:      {published.cid}\n"
        f"manifest sha256: {published.manifest_sha256}"
    )
    emit(asdict(published), human, as_json)


@app.command("import-hf")
def import_hf_command(
    source: Path = typer.Argument(
        ..., exists=True, file_okay=False, dir_okay=True, help="A save_pretrained directory."
    ),
    out: Path = typer.Option(..., "--out", help="Bundle directory to create (empty or new)."),
    task: str | None = typer.Option(
        None,
        "--task",
        help="text-generation, text-classification or embeddings; "
        "default: from config.json's architectures.",
    ),
    dtype: str | None = typer.Option(
        None, "--dtype", help="float32, bfloat16 or float16; default: the config's dtype."
    ),
    name: str | None = typer.Option(None, "--name", help="Bundle name; default: SOURCE's name."),
    version: str = typer.Option("1.0.0", "--version"),
    license: str = typer.Option("other", "--license", help="SPDX id of the weights' licence."),
    as_json: bool = JsonOption,
) -> None:
    """Turn a Hugging Face model directory (safetensors only) into an hf-transformers bundle."""
    from inferchain.bundle.hf_import import import_hf  # imports torch and transformers

    bundle = import_hf(
        source, out, task=task, dtype=dtype, name=name, version=version, license=license
    )
    manifest = bundle.manifest
    limits = bundle.config()["limits"]
    data = {
        "path": str(bundle.path),
        "name": manifest.name,
        "version": manifest.version,
        "task": manifest.task,
        "runtime": manifest.runtime,
        "dtype": manifest.dtype,
        "context_length": limits["context_length"],
        "max_new_tokens": limits["max_new_tokens"],
        "size": bundle.size,
        "manifest_sha256": bundle.manifest_sha256,
    }
    human = (
        f"ok: {manifest.name} {manifest.version} ({manifest.task}, {manifest.runtime}, "
        f"{manifest.dtype}) in {bundle.path}, context {limits['context_length']} tokens, "
        f"{bundle.size} bytes, manifest sha256 {bundle.manifest_sha256}"
    )
    emit(data, human, as_json)


# -- on-chain registration (providers) ---------------------------------------------------


@app.command()
def register(
    cid: str = typer.Option(..., "--cid", help="Bundle CID from `inferchain model publish`."),
    manifest_sha256: str = typer.Option(..., "--manifest-sha256", help="From `model publish`."),
    task: str = typer.Option(..., "--task", help="e.g. text-generation"),
    price: str = typer.Option(..., "--price", help="Per job, e.g. 0.001eth or 1000 (units)."),
    royalty_bps: int = typer.Option(..., "--royalty-bps", min=0, max=10_000),
    token: str = typer.Option(ETH, "--token", help="ERC-20 the model is paid in; ETH default."),
    network: str | None = NetworkOpt,
    networks_file: Path | None = NetworksFileOpt,
    deployments: Path | None = DeploymentsOpt,
    keystore: Path | None = KeystoreOpt,
    as_json: bool = JsonOption,
) -> None:
    """Register a published bundle on-chain; you become its provider."""
    try:
        spec = ModelSpec(
            bundle_cid=Cid.parse(cid),
            manifest_sha256=bytes.fromhex(manifest_sha256.removeprefix("0x")),
            task=task,
            price=parse_amount(price),
            royalty_bps=royalty_bps,
            token=token,
        )
    except (ValueError, InvalidCid) as exc:
        raise typer.BadParameter(str(exc)) from exc
    _conn, client = market_client(
        network, networks_file, deployments, keystore=keystore, signs=True
    )
    model_id, tx = client.register_model(spec)
    emit(
        {"model_id": model_id, "tx": tx, "price": spec.price, "token": token},
        f"registered model {model_id} (tx {tx})",
        as_json,
    )


ModelId = typer.Argument(..., min=1, help="Model id.")


@app.command()
def update(
    model_id: int = ModelId,
    price: str | None = typer.Option(None, "--price", help="New price per job."),
    royalty_bps: int | None = typer.Option(None, "--royalty-bps", min=0, max=10_000),
    network: str | None = NetworkOpt,
    networks_file: Path | None = NetworksFileOpt,
    deployments: Path | None = DeploymentsOpt,
    keystore: Path | None = KeystoreOpt,
    as_json: bool = JsonOption,
) -> None:
    """Change price and/or royalty (jobs already created keep their terms)."""
    if price is None and royalty_bps is None:
        raise typer.BadParameter("give --price and/or --royalty-bps")
    _conn, client = market_client(
        network, networks_file, deployments, keystore=keystore, signs=True
    )
    tx = client.update_model(
        model_id, parse_amount(price) if price is not None else None, royalty_bps
    )
    emit({"model_id": model_id, "tx": tx}, f"model {model_id} updated (tx {tx})", as_json)


def _set_active(
    model_id: int,
    active: bool,
    network: str | None,
    networks_file: Path | None,
    deployments: Path | None,
    keystore: Path | None,
    as_json: bool,
) -> None:
    _conn, client = market_client(
        network, networks_file, deployments, keystore=keystore, signs=True
    )
    tx = client.set_model_active(model_id, active)
    word = "activated" if active else "deactivated"
    emit(
        {"model_id": model_id, "active": active, "tx": tx},
        f"model {model_id} {word} (tx {tx})",
        as_json,
    )


@app.command()
def deactivate(
    model_id: int = ModelId,
    network: str | None = NetworkOpt,
    networks_file: Path | None = NetworksFileOpt,
    deployments: Path | None = DeploymentsOpt,
    keystore: Path | None = KeystoreOpt,
    as_json: bool = JsonOption,
) -> None:
    """Stop taking new jobs for a model (jobs in flight finish normally)."""
    _set_active(model_id, False, network, networks_file, deployments, keystore, as_json)


@app.command()
def activate(
    model_id: int = ModelId,
    network: str | None = NetworkOpt,
    networks_file: Path | None = NetworksFileOpt,
    deployments: Path | None = DeploymentsOpt,
    keystore: Path | None = KeystoreOpt,
    as_json: bool = JsonOption,
) -> None:
    """Take jobs for a deactivated model again."""
    _set_active(model_id, True, network, networks_file, deployments, keystore, as_json)
