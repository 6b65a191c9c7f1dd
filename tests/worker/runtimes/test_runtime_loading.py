"""Loading bundles into runtimes: registry, device choice, config and weights that do not fit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from inferchain.bundle import (
    RUNTIME_TASKS,
    Bundle,
    InferenceFailed,
    ManifestError,
    TensorMismatch,
    finalize_bundle,
    load_bundle,
)
from inferchain.bundle.demos import demo_bundle_path
from inferchain.worker.runtimes import RUNTIMES, Runtime, load_runtime, pick_device


def _copy_with_config(tmp_path: Path, name: str, edit) -> Bundle:
    """A copy of a demo bundle whose config.json was changed by ``edit`` and re-hashed."""
    root = tmp_path / name
    shutil.copytree(demo_bundle_path(name), root)
    manifest = json.loads((root / "manifest.json").read_text())
    config = json.loads((root / "config.json").read_text())
    edit(config)
    (root / "config.json").write_text(json.dumps(config))
    keep = (
        "name",
        "version",
        "task",
        "runtime",
        "license",
        "dtype",
        "input_schema",
        "output_schema",
        "description",
        "tokenizer",
        "metadata",
    )
    return finalize_bundle(root, **{k: manifest[k] for k in keep})


def test_registry_implements_every_known_runtime() -> None:
    assert set(RUNTIMES) == set(RUNTIME_TASKS)


def test_pick_device_auto_is_cpu_without_cuda() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device().type == expected
    assert pick_device("auto").type == expected
    assert pick_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name", ["digits-cnn", "tiny-gpt", "sentiment-bow"])
def test_load_runtime_every_demo_bundle(name: str) -> None:
    runtime = load_runtime(load_bundle(demo_bundle_path(name)), "cpu")
    assert isinstance(runtime, Runtime)
    assert runtime.name == load_bundle(demo_bundle_path(name)).manifest.runtime


def test_load_runtime_weights_not_fitting_config_raise(tmp_path) -> None:
    bundle = _copy_with_config(tmp_path, "digits-cnn", lambda c: c["model"].update(hidden=32))
    with pytest.raises(TensorMismatch, match="does not fit"):
        load_runtime(bundle, "cpu")


def test_load_runtime_gpt_vocab_mismatch_raises(tmp_path) -> None:
    bundle = _copy_with_config(tmp_path, "tiny-gpt", lambda c: c["model"].update(vocab_size=100))
    with pytest.raises(ManifestError, match="tokenizer"):
        load_runtime(bundle, "cpu")


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda c: c["model"].pop("hidden"), "missing keys"),
        (lambda c: c["model"].update(depth=3), "unknown keys"),
        (lambda c: c["model"].update(hidden="64"), "must be int"),
        (lambda c: c["model"].update(height=7), "even"),
        (lambda c: c.update(labels=["0", "1"]), "labels"),
        (lambda c: c.update(limits={"max_pixels": 1.5}), "max_pixels"),
        (lambda c: c.update(model=[1]), "JSON object"),
    ],
)
def test_load_runtime_bad_config_raises_manifest_error(tmp_path, edit, fragment) -> None:
    bundle = _copy_with_config(tmp_path, "digits-cnn", edit)
    with pytest.raises(ManifestError, match=fragment):
        load_runtime(bundle, "cpu")


def test_load_runtime_gpt_bad_head_count_raises(tmp_path) -> None:
    bundle = _copy_with_config(tmp_path, "tiny-gpt", lambda c: c["model"].update(n_head=3))
    with pytest.raises(ManifestError, match="multiple of n_head"):
        load_runtime(bundle, "cpu")


@pytest.mark.parametrize(
    ("name", "raw"),
    [("digits-cnn", [[0.0] * 8] * 8), ("tiny-gpt", "Hope"), ("sentiment-bow", "ok")],
)
def test_run_device_failure_raises_inference_failed(name: str, raw: object) -> None:
    # the "meta" device holds no data: every real computation on it fails inside torch
    runtime = load_runtime(load_bundle(demo_bundle_path(name)), "meta")
    with pytest.raises(InferenceFailed, match="meta"):
        runtime.run([runtime.prepare(raw)])
