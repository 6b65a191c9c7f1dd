"""A local cache of bundle directories keyed by CID, bounded in bytes, evicting least recently used.

Layout under ``root``: one directory per CID plus ``index.json`` recording sizes and the
use order, so the LRU order survives restarts. Every ``get`` re-verifies the manifest
hashes: a bundle corrupted on disk is dropped and fetched again instead of being run.

The cache does not speak IPFS: ``fetch(cid, dest)`` writes the bundle into a staging
directory inside the cache (``inferchain.bundle.fetch.ipfs_fetcher`` does so from IPFS,
verifying every block against the CID); the cache verifies the manifest hashes, then
renames it into place, so a half-fetched bundle is never visible.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from inferchain import untrusted_json
from inferchain.bundle.bundle import Bundle, load_bundle
from inferchain.bundle.errors import BundleError, BundleFileMissing, BundleTooLarge

Fetch = Callable[[str, Path], object]
"""``fetch(cid, dest)`` writes bundle ``cid`` into the new directory ``dest``."""

_INDEX = "index.json"
_KEY = re.compile(r"^[A-Za-z0-9]{1,128}$")


@dataclass(frozen=True)
class CacheEntry:
    cid: str
    size: int
    last_used: int


class BundleCache:
    """Bundles on local disk, by CID; total size kept at or under ``max_bytes``."""

    def __init__(self, root: str | Path, max_bytes: int, fetch: Fetch | None = None) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._fetch = fetch
        self._lock = threading.RLock()
        self.root.mkdir(parents=True, exist_ok=True)
        self._index = self._read_index()

    # -- public -----------------------------------------------------------------------------

    def get(self, cid: str, *, expected_manifest_sha256: str | None = None) -> Bundle:
        """The verified bundle for ``cid``, fetched (and evicting others) when not cached."""
        key = _check_key(cid)
        with self._lock:
            if key in self._index:
                try:
                    bundle = load_bundle(
                        self.root / key, expected_manifest_sha256=expected_manifest_sha256
                    )
                except BundleError:
                    self.evict(key)  # corrupted or tampered on disk: drop, then refetch
                else:
                    self._touch(key)
                    return bundle
            if self._fetch is None:
                raise BundleFileMissing(f"bundle {key} is not cached and no fetcher is set")
            with self._staging() as staged:
                self._fetch(key, staged)
                return self._adopt(key, staged, expected_manifest_sha256)

    def put(
        self, cid: str, source: str | Path, *, expected_manifest_sha256: str | None = None
    ) -> Bundle:
        """Copy a bundle directory in under ``cid`` after verifying it; evict to make room."""
        key = _check_key(cid)
        self._check_size(
            key, load_bundle(source, expected_manifest_sha256=expected_manifest_sha256)
        )
        with self._lock, self._staging() as staged:
            shutil.copytree(source, staged, dirs_exist_ok=True)
            return self._adopt(key, staged, expected_manifest_sha256)

    def evict(self, cid: str) -> bool:
        """Drop ``cid`` from the cache; False if it was not there."""
        key = _check_key(cid)
        with self._lock:
            entry = self._index.pop(key, None)
            shutil.rmtree(self.root / key, ignore_errors=True)
            self._write_index()
            return entry is not None

    def entries(self) -> list[CacheEntry]:
        """Cached bundles, least recently used first."""
        with self._lock:
            return sorted(self._index.values(), key=lambda e: e.last_used)

    @property
    def used_bytes(self) -> int:
        with self._lock:
            return sum(e.size for e in self._index.values())

    def __contains__(self, cid: object) -> bool:
        return isinstance(cid, str) and cid in self._index

    # -- internals --------------------------------------------------------------------------

    @contextmanager
    def _staging(self) -> Iterator[Path]:
        """An empty directory inside the cache root (same filesystem: the rename is atomic)."""
        staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.root))
        try:
            yield staging / "bundle"
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _adopt(self, key: str, staged: Path, expected_manifest_sha256: str | None) -> Bundle:
        bundle = load_bundle(staged, expected_manifest_sha256=expected_manifest_sha256)
        self._check_size(key, bundle)
        self.evict(key)
        os.replace(staged, self.root / key)
        self._index[key] = CacheEntry(key, bundle.size, self._next_tick())
        self._shrink(keep=key)
        self._write_index()
        return replace(bundle, path=self.root / key)

    def _check_size(self, key: str, bundle: Bundle) -> None:
        if bundle.size > self.max_bytes:
            raise BundleTooLarge(
                f"bundle {key} is {bundle.size} bytes; the cache holds at most {self.max_bytes}"
            )

    def _shrink(self, keep: str) -> None:
        for entry in self.entries():
            if self.used_bytes <= self.max_bytes:
                return
            if entry.cid != keep:
                self._index.pop(entry.cid)
                shutil.rmtree(self.root / entry.cid, ignore_errors=True)

    def _next_tick(self) -> int:
        return max((e.last_used for e in self._index.values()), default=0) + 1

    def _touch(self, key: str) -> None:
        entry = self._index[key]
        self._index[key] = CacheEntry(key, entry.size, self._next_tick())
        self._write_index()

    def _read_index(self) -> dict[str, CacheEntry]:
        path = self.root / _INDEX
        try:
            raw = untrusted_json.loads(path.read_bytes(), source=f"cache index {path}")
            index = {k: CacheEntry(k, int(v["size"]), int(v["last_used"])) for k, v in raw.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            index = {}  # no or unreadable index: start empty, orphan directories are removed
        for child in self.root.iterdir():
            if child.is_dir() and child.name not in index:
                shutil.rmtree(child, ignore_errors=True)
        return {k: e for k, e in index.items() if (self.root / k).is_dir()}

    def _write_index(self) -> None:
        data = {e.cid: {"size": e.size, "last_used": e.last_used} for e in self._index.values()}
        tmp = self.root / f".{_INDEX}.tmp"
        tmp.write_text(json.dumps(data, sort_keys=True))
        os.replace(tmp, self.root / _INDEX)


def _check_key(cid: str) -> str:
    if not isinstance(cid, str) or not _KEY.match(cid):
        raise ValueError(f"not a CID usable as a cache key: {cid!r}")
    return cid
