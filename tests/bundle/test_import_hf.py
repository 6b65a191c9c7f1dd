"""`inferchain model import-hf`: save_pretrained directories into hf-transformers bundles,
and the bad ones refused with errors that name the problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from inferchain.bundle import (
    BundleFileMissing,
    ManifestError,
    TensorMismatch,
    load_bundle,
)
from inferchain.bundle.hf_import import import_hf, infer_task
from inferchain.cli.model import app as model_app
from inferchain.worker.runtimes import infer, load_runtime
from tests.worker.runtimes.hf_tiny import CONTEXT, edit_config, save_model


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf-src")
    return {kind: save_model(root / kind, kind) for kind in ("llama", "gpt2", "bert-cls", "bert")}


@pytest.fixture
def llama_copy(sources: dict[str, Path], tmp_path: Path) -> Path:
    return Path(shutil.copytree(sources["llama"], tmp_path / "llama"))


def test_import_writes_manifest_with_task_limits_and_every_file(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    bundle = import_hf(sources["llama"], tmp_path / "out", name="tiny-llama")
    manifest = bundle.manifest
    assert (manifest.runtime, manifest.task, manifest.dtype) == (
        "hf-transformers",
        "text-generation",
        "float32",
    )
    assert manifest.tokenizer == "tokenizer.json"
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "generation_config.json", "chat_template.jinja"} <= set(manifest.files)  # fmt: skip
    limits = bundle.config()["limits"]
    assert limits["context_length"] == CONTEXT
    assert limits["max_new_tokens"] == CONTEXT - 1
    assert load_bundle(bundle.path).manifest_sha256 == bundle.manifest_sha256


@pytest.mark.parametrize(
    ("kind", "task"),
    [("gpt2", "text-generation"), ("bert-cls", "text-classification"), ("bert", "embeddings")],
)
def test_import_infers_task_from_architectures(
    sources: dict[str, Path], kind: str, task: str
) -> None:
    architectures = json.loads((sources[kind] / "config.json").read_text())["architectures"]
    assert infer_task(architectures) == task


def test_import_task_flag_overrides_the_architecture(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    bundle = import_hf(sources["bert-cls"], tmp_path / "out", task="embeddings")
    assert bundle.manifest.task == "embeddings"
    (output,) = infer(load_runtime(bundle, "cpu"), ["hello"])
    assert output.result["dims"] == 32


def test_import_merges_shards_and_converts_dtype(llama_copy: Path, tmp_path: Path) -> None:
    weights = load_file(llama_copy / "model.safetensors")
    names = sorted(weights)
    half = len(names) // 2
    (llama_copy / "model.safetensors").unlink()
    shards = {"model-00001-of-00002.safetensors": names[:half],
              "model-00002-of-00002.safetensors": names[half:]}  # fmt: skip
    for file, keys in shards.items():
        save_file({k: weights[k] for k in keys}, llama_copy / file)
    index = {"metadata": {}, "weight_map": {k: f for f, ks in shards.items() for k in ks}}
    (llama_copy / "model.safetensors.index.json").write_text(json.dumps(index))

    bundle = import_hf(llama_copy, tmp_path / "out", dtype="bfloat16")
    assert bundle.manifest.dtype == "bfloat16"
    assert set(bundle.manifest.tensors) == set(names)
    assert {t.dtype for t in bundle.manifest.tensors.values()} == {"BF16"}
    merged = load_file(bundle.path / "model.safetensors")
    assert torch.equal(merged[names[0]], weights[names[0]].to(torch.bfloat16))
    runtime = load_runtime(bundle, "cpu")
    (output,) = infer(runtime, [{"prompt": "hi", "max_new_tokens": 3}])
    assert output.runtime["dtype"] == "float32"  # half precision runs as float32 on CPU


def test_import_refuses_pickle_files_naming_them(llama_copy: Path, tmp_path: Path) -> None:
    (llama_copy / "pytorch_model.bin").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ManifestError, match=r"refusing pytorch_model\.bin: pickle"):
        import_hf(llama_copy, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_import_refuses_unknown_architecture(llama_copy: Path, tmp_path: Path) -> None:
    edit_config(llama_copy, model_type="made-up-llm", architectures=["MadeUpForCausalLM"])
    with pytest.raises(ManifestError, match="unknown architecture: model_type 'made-up-llm'"):
        import_hf(llama_copy, tmp_path / "out")


def test_import_refuses_missing_tokenizer(llama_copy: Path, tmp_path: Path) -> None:
    (llama_copy / "tokenizer.json").unlink()
    with pytest.raises(BundleFileMissing, match=r"no tokenizer\.json"):
        import_hf(llama_copy, tmp_path / "out")


def test_import_refuses_config_that_lies_about_shapes(llama_copy: Path, tmp_path: Path) -> None:
    edit_config(llama_copy, intermediate_size=96)
    with pytest.raises(TensorMismatch, match=r"mlp\.\w+_proj\.weight.* config\.json makes it"):
        import_hf(llama_copy, tmp_path / "out")


def test_import_refuses_a_non_empty_destination(sources: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(ManifestError, match="not empty"):
        import_hf(sources["llama"], tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_runtime_refuses_a_bundle_missing_weights(llama_copy: Path, tmp_path: Path) -> None:
    bundle = import_hf(llama_copy, tmp_path / "out")
    weights = load_file(bundle.path / "model.safetensors")
    dropped = sorted(k for k in weights if "layers.1." in k)
    save_file(
        {k: v for k, v in weights.items() if k not in dropped}, llama_copy / "model.safetensors"
    )
    partial = import_hf(llama_copy, tmp_path / "partial")  # shapes that exist still agree
    with pytest.raises(TensorMismatch, match="missing_keys"):
        load_runtime(partial, "cpu")


def test_cli_import_hf_prints_the_bundle_and_refuses_clearly(
    sources: dict[str, Path], llama_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cli-out"
    result = CliRunner().invoke(
        model_app, ["import-hf", str(sources["bert-cls"]), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["task"], data["runtime"], data["context_length"]) == (
        "text-classification",
        "hf-transformers",
        CONTEXT,
    )
    assert data["manifest_sha256"] == load_bundle(out).manifest_sha256
    (llama_copy / "model.ckpt").write_bytes(b"x")
    bad = CliRunner().invoke(
        model_app, ["import-hf", str(llama_copy), "--out", str(tmp_path / "b")]
    )
    assert isinstance(bad.exception, ManifestError)
    assert "model.ckpt" in str(bad.exception)


def test_import_failing_late_leaves_no_half_bundle(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(ManifestError, match="name"):
        import_hf(sources["llama"], tmp_path / "out", name="Not A Valid Name")
    assert not (tmp_path / "out").exists()
