"""Publish demo bundles to a real IPFS node, fetch them by CID into an empty cache, run them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from inferchain.bundle import (
    BundleCache,
    BundleFileMissing,
    BundleHashMismatch,
    BundleTooLarge,
    ManifestError,
    fetch_bundle,
    ipfs_fetcher,
    load_bundle,
    publish_bundle,
)
from inferchain.bundle.demos import DEMO_NAMES, demo_bundle_path
from inferchain.cli.model import app as model_app
from inferchain.ipfs import IpfsClient
from inferchain.worker.runtimes import load_runtime
from scripts.demo_models.digits import digits_split


@pytest.fixture(scope="module")
def ipfs(ipfs_api_url: str) -> Iterator[IpfsClient]:
    with IpfsClient(ipfs_api_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def published(ipfs: IpfsClient) -> dict[str, str]:
    """Demo name -> bundle CID."""
    return {name: publish_bundle(ipfs, demo_bundle_path(name)).cid for name in DEMO_NAMES}


@pytest.fixture
def cache(tmp_path: Path, ipfs: IpfsClient) -> BundleCache:
    return BundleCache(tmp_path / "cache", max_bytes=50 << 20, fetch=ipfs_fetcher(ipfs, timeout=30))


def test_publish_pins_bundle_and_reports_manifest_hash(ipfs, published) -> None:
    for name, cid in published.items():
        assert ipfs.is_pinned(cid)
        manifest = json.loads(ipfs.cat_path(cid, "manifest.json"))
        assert manifest["name"] == name
    again = publish_bundle(ipfs, demo_bundle_path("digits-cnn"))
    assert again.cid == published["digits-cnn"]
    assert again.manifest_sha256 == load_bundle(demo_bundle_path("digits-cnn")).manifest_sha256


def test_digits_from_ipfs_classify_held_out_at_least_95(cache, published) -> None:
    torch.set_num_threads(1)
    bundle = cache.get(published["digits-cnn"])
    assert bundle.path.parent == cache.root
    runtime = load_runtime(bundle, "cpu")
    _, x_test, _, y_test = digits_split(seed=0)
    outputs = runtime.run([runtime.prepare(x[0]) for x in x_test])
    accuracy = np.mean([o.result["label"] == str(y) for o, y in zip(outputs, y_test, strict=True)])
    assert accuracy >= 0.95


def test_gpt_from_ipfs_greedy_identical_across_runs_and_to_local(cache, published) -> None:
    torch.set_num_threads(1)
    prompt = {"prompt": "Tyger Tyger, burning bright", "max_new_tokens": 24}
    remote = load_runtime(cache.get(published["tiny-gpt"]), "cpu")
    first = remote.run([remote.prepare(prompt)])[0].to_bytes()
    second = remote.run([remote.prepare(prompt)])[0].to_bytes()
    local = load_runtime(load_bundle(demo_bundle_path("tiny-gpt")), "cpu")
    assert first == second == local.run([local.prepare(prompt)])[0].to_bytes()


def test_sentiment_from_ipfs_labels(cache, published) -> None:
    runtime = load_runtime(cache.get(published["sentiment-bow"]), "cpu")
    texts = ["The staff was lovely. Five stars.", "The room was noisy and dull. Never again."]
    assert [o.result["label"] for o in runtime.run([runtime.prepare(t) for t in texts])] == [
        "positive",
        "negative",
    ]


def test_cache_second_get_needs_no_node(tmp_path, ipfs, published) -> None:
    root = tmp_path / "cache"
    BundleCache(root, max_bytes=50 << 20, fetch=ipfs_fetcher(ipfs)).get(published["digits-cnn"])
    offline = BundleCache(root, max_bytes=50 << 20)  # no fetcher at all
    assert offline.get(published["digits-cnn"]).manifest.name == "digits-cnn"


def test_fetch_bundle_over_budget_raises_before_download(tmp_path, ipfs, published) -> None:
    with pytest.raises(BundleTooLarge):
        fetch_bundle(ipfs, published["tiny-gpt"], tmp_path / "b", max_bytes=100_000)
    assert not (tmp_path / "b").exists()


def test_fetch_directory_without_manifest_raises(tmp_path, ipfs) -> None:
    cid = ipfs.add_tree({"readme.txt": b"not a bundle"})
    with pytest.raises(BundleFileMissing, match="manifest"):
        fetch_bundle(ipfs, str(cid), tmp_path / "b", timeout=10)


def test_fetch_directory_missing_listed_file_raises(tmp_path, ipfs) -> None:
    source = demo_bundle_path("sentiment-bow")
    tree = {"manifest.json": (source / "manifest.json").read_bytes(), "config.json": b"{}"}
    cid = ipfs.add_tree(tree)
    with pytest.raises(BundleFileMissing, match="absent"):
        fetch_bundle(ipfs, str(cid), tmp_path / "b", timeout=10)


def test_fetch_directory_with_swapped_file_raises(tmp_path, ipfs) -> None:
    source = demo_bundle_path("sentiment-bow")
    tree = {p.name: p.read_bytes() for p in source.iterdir()}
    tree["config.json"] = tree["config.json"].replace(b"positive", b"POSITIVE")
    cid = ipfs.add_tree(tree)
    with pytest.raises(BundleHashMismatch, match=r"config\.json"):
        fetch_bundle(ipfs, str(cid), tmp_path / "b", timeout=10)


def test_publish_invalid_bundle_raises_before_upload(tmp_path, ipfs) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(demo_bundle_path("digits-cnn"), broken)
    (broken / "notes.txt").write_text("unlisted")
    with pytest.raises(ManifestError, match=r"notes\.txt"):
        publish_bundle(ipfs, broken)


def test_cli_model_publish_prints_cid_and_manifest_hash(ipfs_api_url, published) -> None:
    directory = str(demo_bundle_path("sentiment-bow"))
    result = CliRunner().invoke(
        model_app, ["publish", directory, "--ipfs-api", ipfs_api_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["cid"] == published["sentiment-bow"]
    assert data["manifest_sha256"] == load_bundle(directory).manifest_sha256
    human = CliRunner().invoke(model_app, ["publish", directory, "--ipfs-api", ipfs_api_url])
    assert f"bundle cid:      {data['cid']}" in human.output


def test_cli_model_validate_and_bad_directory(tmp_path) -> None:
    ok = CliRunner().invoke(model_app, ["validate", str(demo_bundle_path("digits-cnn"))])
    assert ok.exit_code == 0 and ok.output.startswith("ok: digits-cnn 1.0.0")
    bad = CliRunner().invoke(model_app, ["validate", str(tmp_path)])
    assert isinstance(bad.exception, BundleFileMissing)
