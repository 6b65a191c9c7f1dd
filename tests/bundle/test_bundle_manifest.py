"""Bundle validation: a good bundle loads; every defect raises its own typed error."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from inferchain.bundle import (
    BundleError,
    BundleFileMissing,
    BundleHashMismatch,
    InvalidInput,
    ManifestError,
    TensorMismatch,
    UnknownRuntime,
    finalize_bundle,
    load_bundle,
)
from inferchain.errors import InferchainError
from tests.bundle.helpers import MakeBundle, rewrite_manifest


def test_load_bundle_valid_returns_manifest_and_hash(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    loaded = load_bundle(bundle.path)
    raw = (bundle.path / "manifest.json").read_bytes()
    assert loaded.manifest_sha256 == hashlib.sha256(raw).hexdigest()
    assert loaded.manifest.runtime == "inferchain-cnn"
    assert set(loaded.manifest.files) == {"config.json", "model.safetensors"}
    assert loaded.manifest.tensors["head.weight"].shape == (64, 4)
    assert loaded.config() == {"labels": ["a", "b"]}
    assert loaded.size == sum(p.stat().st_size for p in bundle.path.iterdir())


def test_finalize_bundle_same_files_give_same_manifest_bytes(make_bundle: MakeBundle) -> None:
    first, second = make_bundle(), make_bundle()
    assert first.manifest_sha256 == second.manifest_sha256


def test_load_bundle_expected_manifest_hash_mismatch_raises(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    assert load_bundle(bundle.path, expected_manifest_sha256=bundle.manifest_sha256.upper())
    with pytest.raises(BundleHashMismatch):
        load_bundle(bundle.path, expected_manifest_sha256="0" * 64)


def test_load_bundle_without_manifest_raises_missing(tmp_path) -> None:
    with pytest.raises(BundleFileMissing):
        load_bundle(tmp_path)


def test_load_bundle_manifest_not_json_raises(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    (bundle.path / "manifest.json").write_bytes(b"\xff{not json")
    with pytest.raises(ManifestError, match="not valid JSON"):
        load_bundle(bundle.path)


def test_load_bundle_manifest_array_raises(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    (bundle.path / "manifest.json").write_text("[]")
    with pytest.raises(ManifestError, match="JSON object"):
        load_bundle(bundle.path)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"name": None}, "name"),
        ({"format": "inferchain-bundle/9"}, "format"),
        ({"task": "speech"}, "task"),
        ({"dtype": "int8"}, "dtype"),
        ({"surprise": 1}, "surprise"),
        ({"name": "Bad Name!"}, "name"),
        ({"files": {"../escape": {"sha256": "0" * 64, "size": 1}}}, "plain relative path"),
        ({"files": {"model.safetensors": {"sha256": "xyz", "size": 1}}}, "sha256"),
    ],
)
def test_load_bundle_invalid_manifest_field_raises(
    make_bundle: MakeBundle, changes: dict, fragment: str
) -> None:
    bundle = make_bundle()
    rewrite_manifest(bundle, **changes)
    with pytest.raises(ManifestError, match=fragment):
        load_bundle(bundle.path)


def test_load_bundle_unknown_runtime_raises(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    rewrite_manifest(bundle, runtime="onnx-magic")
    with pytest.raises(UnknownRuntime, match="onnx-magic"):
        load_bundle(bundle.path)


def test_load_bundle_runtime_for_other_task_raises(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    rewrite_manifest(bundle, runtime="inferchain-gpt")
    with pytest.raises(UnknownRuntime, match="text-generation"):
        load_bundle(bundle.path)


def test_load_bundle_referenced_file_not_listed_raises(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    rewrite_manifest(bundle, tokenizer="tokenizer.json")
    with pytest.raises(ManifestError, match=r"tokenizer\.json"):
        load_bundle(bundle.path)


def test_load_bundle_listed_file_missing_raises(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    (bundle.path / "config.json").unlink()
    with pytest.raises(BundleFileMissing, match=r"config\.json"):
        load_bundle(bundle.path)


def test_load_bundle_tampered_file_same_size_raises_hash_mismatch(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    path = bundle.path / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BundleHashMismatch, match="sha256") as caught:
        load_bundle(bundle.path)
    assert caught.value.path == "model.safetensors"


def test_load_bundle_resized_file_raises_hash_mismatch(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    (bundle.path / "config.json").write_text('{"labels": ["a", "b", "c"]}')
    with pytest.raises(BundleHashMismatch, match="bytes"):
        load_bundle(bundle.path)


def test_load_bundle_unlisted_file_raises(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    (bundle.path / "extra.bin").write_bytes(b"x")
    with pytest.raises(ManifestError, match=r"extra\.bin"):
        load_bundle(bundle.path)


def test_load_bundle_wrong_dtype_raises_tensor_mismatch(make_bundle: MakeBundle) -> None:
    with pytest.raises(TensorMismatch, match="F32"):
        make_bundle(dtype="float16")  # weights are F32, manifest claims float16


def test_load_bundle_wrong_shape_raises_tensor_mismatch(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    tensors = json.loads((bundle.path / "manifest.json").read_text())["tensors"]
    tensors["head.weight"]["shape"] = [4, 64]
    rewrite_manifest(bundle, tensors=tensors)
    with pytest.raises(TensorMismatch, match=r"head\.weight"):
        load_bundle(bundle.path)


def test_load_bundle_missing_tensor_raises_tensor_mismatch(make_bundle: MakeBundle) -> None:
    bundle = make_bundle()
    tensors = json.loads((bundle.path / "manifest.json").read_text())["tensors"]
    tensors["head.extra"] = {"dtype": "F32", "shape": [1]}
    rewrite_manifest(bundle, tensors=tensors)
    with pytest.raises(TensorMismatch, match=r"head\.extra"):
        load_bundle(bundle.path)


def test_finalize_bundle_garbage_weights_raises_tensor_mismatch(tmp_path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not-json")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(TensorMismatch):
        finalize_bundle(
            tmp_path,
            name="x",
            version="1",
            task="image-classification",
            runtime="inferchain-cnn",
            license="MIT",
            dtype="float32",
            input_schema={},
            output_schema={},
        )


def test_load_bundle_config_not_json_object_raises(make_bundle: MakeBundle, tmp_path) -> None:
    bundle = make_bundle()
    (bundle.path / "config.json").write_text("[1, 2]")
    manifest = json.loads((bundle.path / "manifest.json").read_text())
    manifest.pop("files")
    with pytest.raises(ManifestError, match=r"config\.json"):
        finalize_bundle(bundle.path, **{k: manifest[k] for k in _FINALIZE_KEYS})


_FINALIZE_KEYS = (
    "name",
    "version",
    "task",
    "runtime",
    "license",
    "dtype",
    "input_schema",
    "output_schema",
)


def test_errors_subclass_root_and_builtin() -> None:
    assert issubclass(BundleError, InferchainError)
    assert issubclass(BundleFileMissing, FileNotFoundError)
    for cls in (ManifestError, BundleHashMismatch, UnknownRuntime, TensorMismatch, InvalidInput):
        assert issubclass(cls, BundleError)
        assert issubclass(cls, ValueError)


def test_invalid_input_reason_and_evidence() -> None:
    error = InvalidInput("oversize", "too big")
    assert error.evidence() == {
        "error": "invalid_input",
        "reason": "oversize",
        "message": "oversize: too big",
    }
    with pytest.raises(ValueError, match="unknown InvalidInput reason"):
        InvalidInput("bad-day", "nope")


def test_bundle_package_does_not_import_torch() -> None:
    code = "import sys, inferchain.bundle; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
