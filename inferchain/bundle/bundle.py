"""Open a bundle directory and prove it matches its manifest before anything runs it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferchain import untrusted_json
from inferchain.bundle._safetensors import check_tensors
from inferchain.bundle.errors import BundleFileMissing, BundleHashMismatch, ManifestError
from inferchain.bundle.manifest import MANIFEST_NAME, SAFETENSORS_DTYPES, Manifest, parse_manifest

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Bundle:
    """A verified bundle on local disk."""

    path: Path
    manifest: Manifest
    manifest_sha256: str
    size: int  # bytes on disk, manifest included

    def file(self, name: str) -> Path:
        """Path of a listed file; refuses names the manifest does not list."""
        if name not in self.manifest.files:
            raise BundleFileMissing(f"{name!r} is not listed in the manifest of {self.path}")
        return self.path / name

    def config(self) -> dict[str, Any]:
        """config.json as a dict (validated to be a JSON object on load)."""
        return read_json_object(self.file(self.manifest.config))


def read_json_object(path: Path) -> dict[str, Any]:
    """A bundle's JSON file (its config, a Hugging Face config): a JSON object, or
    ManifestError naming the file."""
    try:
        config = untrusted_json.loads(path.read_bytes(), source=str(path))
    except untrusted_json.UntrustedJsonError as exc:
        raise ManifestError(f"{path} is not valid JSON ({exc.reason}): {exc.detail}") from exc
    if not isinstance(config, dict):
        raise ManifestError(f"{path} must hold a JSON object")
    return config


def _listed_tree(root: Path) -> set[str]:
    found = set()
    for item in root.rglob("*"):
        if item.is_file() or item.is_symlink():
            found.add(item.relative_to(root).as_posix())
    found.discard(MANIFEST_NAME)
    return found


def verify_files(root: Path, manifest: Manifest) -> None:
    """Every listed file present with its size and hash, and nothing unlisted beside them."""
    for name, entry in sorted(manifest.files.items()):
        path = root / name
        if path.is_symlink() or not path.is_file():
            raise BundleFileMissing(f"{name!r} is listed in the manifest but missing from {root}")
        size = path.stat().st_size
        if size != entry.size:
            raise BundleHashMismatch(name, f"{entry.size} bytes", f"{size} bytes")
        digest = sha256_file(path)
        if digest != entry.sha256:
            raise BundleHashMismatch(name, f"sha256 {entry.sha256}", f"sha256 {digest}")
    unlisted = sorted(_listed_tree(root) - set(manifest.files))
    if unlisted:
        raise ManifestError(f"files not listed in the manifest: {unlisted}")


def load_bundle(path: str | Path, *, expected_manifest_sha256: str | None = None) -> Bundle:
    """Validate a bundle directory: manifest, file hashes, tensor specs, config.

    ``expected_manifest_sha256`` (e.g. the hash registered on-chain) pins the manifest
    itself; file hashes then pin everything else.
    """
    root = Path(path)
    manifest_path = root / MANIFEST_NAME
    if not manifest_path.is_file():
        raise BundleFileMissing(f"{root} has no {MANIFEST_NAME}")
    raw = manifest_path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if expected_manifest_sha256 is not None and digest != expected_manifest_sha256.lower():
        raise BundleHashMismatch(MANIFEST_NAME, expected_manifest_sha256, digest)
    manifest = parse_manifest(raw)
    verify_files(root, manifest)
    check_tensors(root / manifest.weights, manifest.tensors, SAFETENSORS_DTYPES[manifest.dtype])
    read_json_object(root / manifest.config)
    size = len(raw) + sum(f.size for f in manifest.files.values())
    return Bundle(path=root, manifest=manifest, manifest_sha256=digest, size=size)
