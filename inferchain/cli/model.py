"""`inferchain model validate | publish`: model bundles for providers."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from inferchain.bundle import load_bundle, publish_bundle
from inferchain.cli.output import JsonOption, emit
from inferchain.ipfs import IpfsClient

app = typer.Typer(help="Validate and publish model bundles.", no_args_is_help=True)

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
