"""RuntimePool: each bundle loaded once, least recently used dropped past the byte budget."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inferchain.bundle import BundleCache, BundleHashMismatch, load_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.worker.runtimes import RuntimePool

NAMES = {"bafydigits": "digits-cnn", "bafysentiment": "sentiment-bow"}


@pytest.fixture
def cache(tmp_path: Path) -> BundleCache:
    calls: list[str] = []

    def fetch(cid: str, dest: Path) -> None:
        calls.append(cid)
        shutil.copytree(demo_bundle_path(NAMES[cid]), dest)

    cache = BundleCache(tmp_path / "cache", max_bytes=10 << 20, fetch=fetch)
    cache.calls = calls  # type: ignore[attr-defined]
    return cache


def test_pool_returns_same_runtime_without_reloading(cache: BundleCache) -> None:
    pool = RuntimePool(cache, max_bytes=10 << 20, device="cpu")
    first = pool.get("bafydigits")
    assert pool.get("bafydigits") is first
    assert cache.calls == ["bafydigits"]  # type: ignore[attr-defined]


def test_pool_drops_least_recently_used_over_budget(cache: BundleCache) -> None:
    digits = load_bundle(demo_bundle_path("digits-cnn")).size
    pool = RuntimePool(cache, max_bytes=digits + 1000, device="cpu")
    pool.get("bafydigits")
    pool.get("bafysentiment")
    assert pool.loaded() == ["bafysentiment"]
    assert pool.used_bytes <= pool.max_bytes


def test_pool_checks_expected_manifest_hash(cache: BundleCache) -> None:
    pool = RuntimePool(cache, max_bytes=10 << 20, device="cpu")
    runtime = pool.get("bafydigits")
    good = runtime.bundle.manifest_sha256
    assert pool.get("bafydigits", expected_manifest_sha256=good) is runtime
    with pytest.raises(BundleHashMismatch):
        pool.get("bafydigits", expected_manifest_sha256="2" * 64)


def test_pool_non_positive_budget_raises(cache: BundleCache) -> None:
    with pytest.raises(ValueError):
        RuntimePool(cache, max_bytes=0)
