"""Model bundles: the manifest format, validation, building, publishing to IPFS, and a
local cache keyed by CID.

Shared by the CLI (publish), the gateway (show models) and the worker (run them). Nothing
here imports torch; the runtimes that execute bundles live in ``inferchain.worker.runtimes``.
"""

from inferchain.bundle.builder import finalize_bundle
from inferchain.bundle.bundle import Bundle, load_bundle, sha256_file
from inferchain.bundle.cache import BundleCache, CacheEntry
from inferchain.bundle.errors import (
    BundleError,
    BundleFileMissing,
    BundleHashMismatch,
    BundleTooLarge,
    InferenceFailed,
    InvalidInput,
    ManifestError,
    TensorMismatch,
    UnknownRuntime,
)
from inferchain.bundle.fetch import fetch_bundle, ipfs_fetcher
from inferchain.bundle.manifest import MANIFEST_NAME, RUNTIME_TASKS, Manifest, parse_manifest
from inferchain.bundle.publish import Published, publish_bundle

__all__ = [
    "MANIFEST_NAME",
    "RUNTIME_TASKS",
    "Bundle",
    "BundleCache",
    "BundleError",
    "BundleFileMissing",
    "BundleHashMismatch",
    "BundleTooLarge",
    "CacheEntry",
    "InferenceFailed",
    "InvalidInput",
    "Manifest",
    "ManifestError",
    "Published",
    "TensorMismatch",
    "UnknownRuntime",
    "fetch_bundle",
    "finalize_bundle",
    "ipfs_fetcher",
    "load_bundle",
    "parse_manifest",
    "publish_bundle",
    "sha256_file",
]
