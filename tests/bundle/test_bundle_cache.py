"""The CID-keyed bundle cache: verified on every load, bounded in bytes, least recently used out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inferchain.bundle import (
    Bundle,
    BundleCache,
    BundleFileMissing,
    BundleHashMismatch,
    BundleTooLarge,
    ManifestError,
)
from tests.bundle.helpers import MakeBundle

CIDS = ["bafyaaa", "bafybbb", "bafyccc"]


class Source:
    """A fetcher over local bundle directories that counts its calls."""

    def __init__(self, bundles: dict[str, Bundle]) -> None:
        self.bundles = bundles
        self.calls: list[str] = []

    def __call__(self, cid: str, dest: Path) -> None:
        self.calls.append(cid)
        shutil.copytree(self.bundles[cid].path, dest)


@pytest.fixture
def bundles(make_bundle: MakeBundle) -> dict[str, Bundle]:
    return {cid: make_bundle(fill=i + 1.0) for i, cid in enumerate(CIDS)}


def test_get_fetches_once_then_serves_from_disk(tmp_path, bundles) -> None:
    source = Source(bundles)
    cache = BundleCache(tmp_path / "cache", max_bytes=10**6, fetch=source)
    first = cache.get("bafyaaa")
    second = cache.get("bafyaaa")
    assert source.calls == ["bafyaaa"]
    assert first.path == second.path == tmp_path / "cache" / "bafyaaa"
    assert first.manifest_sha256 == bundles["bafyaaa"].manifest_sha256
    assert "bafyaaa" in cache
    assert cache.used_bytes == first.size


def test_put_over_budget_evicts_least_recently_used(tmp_path, bundles) -> None:
    size = bundles["bafyaaa"].size
    cache = BundleCache(tmp_path / "cache", max_bytes=int(size * 2.5))
    cache.put("bafyaaa", bundles["bafyaaa"].path)
    cache.put("bafybbb", bundles["bafybbb"].path)
    cache.get("bafyaaa")  # now bbb is the least recently used
    cache.put("bafyccc", bundles["bafyccc"].path)
    assert [e.cid for e in cache.entries()] == ["bafyaaa", "bafyccc"]
    assert not (tmp_path / "cache" / "bafybbb").exists()
    assert cache.used_bytes <= cache.max_bytes


def test_lru_order_survives_restart(tmp_path, bundles) -> None:
    size = bundles["bafyaaa"].size
    cache = BundleCache(tmp_path / "cache", max_bytes=int(size * 2.5))
    cache.put("bafyaaa", bundles["bafyaaa"].path)
    cache.put("bafybbb", bundles["bafybbb"].path)
    cache.get("bafyaaa")
    reopened = BundleCache(tmp_path / "cache", max_bytes=int(size * 2.5))
    reopened.put("bafyccc", bundles["bafyccc"].path)
    assert [e.cid for e in reopened.entries()] == ["bafyaaa", "bafyccc"]


def test_get_tampered_copy_is_dropped_and_refetched(tmp_path, bundles) -> None:
    source = Source(bundles)
    cache = BundleCache(tmp_path / "cache", max_bytes=10**6, fetch=source)
    cache.get("bafyaaa")
    (tmp_path / "cache" / "bafyaaa" / "config.json").write_text('{"labels": ["x", "y"]}')
    bundle = cache.get("bafyaaa")
    assert source.calls == ["bafyaaa", "bafyaaa"]
    assert bundle.manifest_sha256 == bundles["bafyaaa"].manifest_sha256


def test_get_tampered_copy_without_fetcher_raises_missing(tmp_path, bundles) -> None:
    cache = BundleCache(tmp_path / "cache", max_bytes=10**6)
    cache.put("bafyaaa", bundles["bafyaaa"].path)
    (tmp_path / "cache" / "bafyaaa" / "model.safetensors").write_bytes(b"evil")
    with pytest.raises(BundleFileMissing, match="not cached"):
        cache.get("bafyaaa")
    assert "bafyaaa" not in cache


def test_get_uncached_without_fetcher_raises_missing(tmp_path) -> None:
    with pytest.raises(BundleFileMissing):
        BundleCache(tmp_path, max_bytes=100).get("bafyaaa")


def test_put_bundle_larger_than_cache_raises(tmp_path, bundles) -> None:
    cache = BundleCache(tmp_path / "cache", max_bytes=bundles["bafyaaa"].size - 1)
    with pytest.raises(BundleTooLarge):
        cache.put("bafyaaa", bundles["bafyaaa"].path)
    assert cache.entries() == []


def test_put_invalid_bundle_raises_and_caches_nothing(tmp_path, bundles) -> None:
    (bundles["bafyaaa"].path / "stray.txt").write_text("not listed")
    cache = BundleCache(tmp_path / "cache", max_bytes=10**6)
    with pytest.raises(ManifestError):
        cache.put("bafyaaa", bundles["bafyaaa"].path)
    assert cache.entries() == []
    assert not [p for p in (tmp_path / "cache").iterdir() if p.is_dir()]


def test_get_with_wrong_expected_manifest_hash_raises(tmp_path, bundles) -> None:
    cache = BundleCache(tmp_path / "cache", max_bytes=10**6, fetch=Source(bundles))
    with pytest.raises(BundleHashMismatch):
        cache.get("bafyaaa", expected_manifest_sha256="1" * 64)
    assert "bafyaaa" not in cache


def test_get_fetcher_writing_a_broken_bundle_raises_and_leaves_nothing(tmp_path, bundles) -> None:
    def broken(cid: str, dest: Path) -> None:
        shutil.copytree(bundles[cid].path, dest)
        (dest / "model.safetensors").unlink()

    cache = BundleCache(tmp_path / "cache", max_bytes=10**6, fetch=broken)
    with pytest.raises(BundleFileMissing, match=r"model\.safetensors"):
        cache.get("bafyaaa")
    assert "bafyaaa" not in cache
    assert not [p for p in (tmp_path / "cache").iterdir() if p.is_dir()]


def test_get_fetched_bundle_too_large_raises(tmp_path, bundles) -> None:
    size = bundles["bafyaaa"].size
    cache = BundleCache(tmp_path / "cache", max_bytes=size - 1, fetch=Source(bundles))
    with pytest.raises(BundleTooLarge):
        cache.get("bafyaaa")
    assert cache.entries() == []


def test_evict_removes_files_and_reports(tmp_path, bundles) -> None:
    cache = BundleCache(tmp_path / "cache", max_bytes=10**6)
    cache.put("bafyaaa", bundles["bafyaaa"].path)
    assert cache.evict("bafyaaa") is True
    assert cache.evict("bafyaaa") is False
    assert not (tmp_path / "cache" / "bafyaaa").exists()


def test_start_removes_directories_missing_from_index(tmp_path) -> None:
    (tmp_path / "orphan").mkdir()
    BundleCache(tmp_path, max_bytes=100)
    assert not (tmp_path / "orphan").exists()


@pytest.mark.parametrize("key", ["", "../etc", "a/b", "bafy aaa", "x" * 129])
def test_invalid_cache_key_raises(tmp_path, key: str) -> None:
    with pytest.raises(ValueError, match="cache key"):
        BundleCache(tmp_path, max_bytes=100).get(key)


def test_non_positive_budget_raises(tmp_path) -> None:
    with pytest.raises(ValueError):
        BundleCache(tmp_path, max_bytes=0)
