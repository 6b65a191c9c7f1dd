"""Publish a bundle: validate it, then pin the directory to IPFS with its CID checked locally."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inferchain.bundle.bundle import load_bundle
from inferchain.ipfs import IpfsClient


@dataclass(frozen=True)
class Published:
    """What a provider registers on-chain: the bundle CID and the manifest hash."""

    cid: str
    manifest_sha256: str
    name: str
    version: str
    task: str
    runtime: str
    size: int


def publish_bundle(ipfs: IpfsClient, directory: str | Path) -> Published:
    """Validate ``directory`` as a bundle and pin it as one UnixFS directory.

    Validation first, so a broken bundle never reaches IPFS. The client computes the
    directory CID locally and refuses a node that answers with another one.
    """
    bundle = load_bundle(directory)
    cid = ipfs.add_directory(bundle.path, pin=True)
    manifest = bundle.manifest
    return Published(
        cid=str(cid),
        manifest_sha256=bundle.manifest_sha256,
        name=manifest.name,
        version=manifest.version,
        task=manifest.task,
        runtime=manifest.runtime,
        size=bundle.size,
    )
