"""RuntimePool with ``hf-transformers`` models: bounded by loaded bytes, not by count."""

from __future__ import annotations

import shutil
from pathlib import Path

from inferchain.bundle import BundleCache
from inferchain.bundle.hf_import import import_hf
from inferchain.worker.runtimes import RuntimePool
from inferchain.worker.runtimes.hf_generation import HfGenerationRuntime
from inferchain.worker.settings import WorkerSettings
from tests.worker.runtimes.hf_tiny import save_model


def _cache(tmp_path: Path) -> tuple[BundleCache, list[str]]:
    """A disk cache whose 'IPFS' is three imported bundles of different architectures."""
    bundles = {
        f"bafy{kind}": import_hf(save_model(tmp_path / kind, kind), tmp_path / f"{kind}-b").path
        for kind in ("llama", "qwen2", "gpt2")
    }
    fetched: list[str] = []

    def fetch(cid: str, dest: Path) -> None:
        fetched.append(cid)
        shutil.copytree(bundles[cid], dest)

    return BundleCache(tmp_path / "cache", max_bytes=64 << 20, fetch=fetch), fetched


def test_third_model_over_budget_evicts_least_recently_used(tmp_path: Path) -> None:
    cache, fetched = _cache(tmp_path)
    probe = RuntimePool(cache, max_bytes=1 << 30, device="cpu")
    sizes = {cid: probe.get(cid).memory_bytes for cid in ("bafyllama", "bafyqwen2", "bafygpt2")}
    # room for the two largest, not for all three
    budget = sum(sizes.values()) - min(sizes.values()) + 1
    assert budget < sum(sizes.values())

    pool = RuntimePool(cache, max_bytes=budget, device="cpu")
    llama = pool.get("bafyllama")
    pool.get("bafyqwen2")
    assert pool.get("bafyllama") is llama  # llama is now the most recently used
    gpt2 = pool.get("bafygpt2")
    assert isinstance(gpt2, HfGenerationRuntime)
    assert pool.loaded() == ["bafyllama", "bafygpt2"]
    assert pool.used_bytes == sizes["bafyllama"] + sizes["bafygpt2"] <= budget
    # a model dropped from memory loads again from the disk cache, not from IPFS
    before = len(fetched)
    pool.get("bafyqwen2")
    assert len(fetched) == before
    assert pool.loaded()[-1] == "bafyqwen2" and pool.used_bytes <= budget


def test_worker_setting_bounds_loaded_model_bytes(monkeypatch) -> None:
    assert WorkerSettings().model_memory_bytes == 8 << 30
    monkeypatch.setenv("INFERCHAIN_WORKER_MODEL_MEMORY_BYTES", str(3 << 30))
    assert WorkerSettings().model_memory_bytes == 3 << 30
