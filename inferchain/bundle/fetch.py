"""Fetch a published bundle from IPFS by CID, driven by its manifest.

The manifest is read first (``manifest.json`` inside the directory CID), so the download
is bounded by the sizes it lists before any weights move; every byte is verified against
its CID by the IPFS client, and the result against the manifest hashes by ``load_bundle``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from inferchain.bundle.bundle import Bundle, load_bundle
from inferchain.bundle.errors import BundleFileMissing, BundleHashMismatch, BundleTooLarge
from inferchain.bundle.manifest import MANIFEST_NAME, parse_manifest
from inferchain.ipfs import IpfsClient, IpfsNotFound, IpfsTooLarge

MAX_MANIFEST_BYTES = 1 << 20


def fetch_bundle(
    ipfs: IpfsClient,
    cid: str,
    dest: str | Path,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
) -> Bundle:
    """Download bundle ``cid`` into the new directory ``dest`` and verify it."""
    root = Path(dest)
    try:
        raw = ipfs.cat_path(cid, MANIFEST_NAME, max_size=MAX_MANIFEST_BYTES, timeout=timeout)
    except IpfsNotFound as exc:
        raise BundleFileMissing(f"{cid} has no {MANIFEST_NAME}: not a bundle") from exc
    manifest = parse_manifest(raw)
    total = len(raw) + sum(entry.size for entry in manifest.files.values())
    if max_bytes is not None and total > max_bytes:
        raise BundleTooLarge(f"bundle {cid} is {total} bytes; at most {max_bytes} allowed")
    root.mkdir(parents=True)
    (root / MANIFEST_NAME).write_bytes(raw)
    for path, entry in sorted(manifest.files.items()):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            file_cid = ipfs.resolve(cid, path, timeout=timeout)
        except IpfsNotFound as exc:
            raise BundleFileMissing(f"{path!r} is listed but absent from {cid}") from exc
        try:
            ipfs.download(file_cid, target, max_size=entry.size, timeout=timeout)
        except IpfsTooLarge as exc:
            raise BundleHashMismatch(path, f"{entry.size} bytes", "a larger file") from exc
    return load_bundle(root)


def ipfs_fetcher(
    ipfs: IpfsClient, *, max_bytes: int | None = None, timeout: float | None = None
) -> Callable[[str, Path], Bundle]:
    """A ``fetch(cid, dest)`` for :class:`~inferchain.bundle.cache.BundleCache`."""

    def fetch(cid: str, dest: Path) -> Bundle:
        return fetch_bundle(ipfs, cid, dest, max_bytes=max_bytes, timeout=timeout)

    return fetch
