"""The bundle manifest: what a bundle holds and how to run it, hashed file by file.

A bundle is a directory published to IPFS as one UnixFS directory::

    manifest.json        this schema (format "inferchain-bundle/1")
    model.safetensors    weights, in the dtype the manifest names
    config.json          architecture and limits, read by the runtime
    tokenizer.json       for text tasks (Hugging Face `tokenizers` format)

Every file except manifest.json is listed under ``files`` with its size and sha-256, so
the manifest hash alone pins the whole bundle. The bundle CID pins it too, but a manifest
hash can be checked without IPFS.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inferchain import untrusted_json
from inferchain.bundle.errors import ManifestError, UnknownRuntime

FORMAT = "inferchain-bundle/1"
MANIFEST_NAME = "manifest.json"

Task = Literal["text-generation", "image-classification", "text-classification", "embeddings"]
Dtype = Literal["float32", "float16", "bfloat16"]

#: Runtime name -> the tasks it serves. The worker's registry must implement exactly these.
RUNTIME_TASKS: dict[str, tuple[str, ...]] = {
    "inferchain-gpt": ("text-generation",),
    "inferchain-cnn": ("image-classification",),
    "inferchain-bow": ("text-classification",),
    "hf-transformers": ("text-generation", "text-classification", "embeddings"),
    "inferchain-mlp": ("image-classification",),
}

#: safetensors dtype codes for each manifest dtype.
SAFETENSORS_DTYPES: dict[str, str] = {"float32": "F32", "float16": "F16", "bfloat16": "BF16"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileEntry(_Strict):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class TensorSpec(_Strict):
    dtype: str = Field(pattern=r"^[A-Z0-9]{1,8}$")
    shape: tuple[int, ...]

    @field_validator("shape")
    @classmethod
    def _non_negative(cls, shape: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 0 for d in shape):
            raise ValueError("dimensions must be >= 0")
        return shape


class ZkCircuit(_Strict):
    """The EZKL circuit files in the bundle (``inferchain model publish`` writes them)."""

    settings: str = "zk/settings.json"
    compiled: str = "zk/model.compiled"
    vk: str = "zk/vk.key"
    srs: str = "zk/kzg.srs"
    srs_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    num_inputs: int = Field(ge=1, le=65_535)
    num_outputs: int = Field(ge=1, le=65_535)
    input_scale: int
    output_scale: int


class ZkVerifierRecord(_Strict):
    """The EZKL verifier deployed for the circuit, and the gas it is given per proof."""

    chain_id: int = Field(ge=1)
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    verify_gas: int = Field(ge=1, lt=2**32)


class ZkSection(_Strict):
    """How the model is proven (the ZK tier): the ONNX graph EZKL compiles, the input byte
    range, and, once built, the circuit and its verifier (docs/verification.md)."""

    onnx: str = "model.onnx"
    max_input: int = Field(ge=0, le=255)
    circuit: ZkCircuit | None = None
    verifier: ZkVerifierRecord | None = None


class Manifest(_Strict):
    """manifest.json, validated. Construct with :func:`parse_manifest` for typed errors."""

    format: Literal["inferchain-bundle/1"]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    version: str = Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$")
    task: Task
    runtime: str = Field(min_length=1, max_length=64)
    license: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=2000)
    dtype: Dtype
    weights: str = "model.safetensors"
    config: str = "config.json"
    tokenizer: str | None = None
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    tensors: dict[str, TensorSpec]
    files: dict[str, FileEntry]
    metadata: dict[str, Any] = Field(default_factory=dict)
    zk: ZkSection | None = None

    @field_validator("files")
    @classmethod
    def _safe_paths(cls, files: dict[str, FileEntry]) -> dict[str, FileEntry]:
        for path in files:
            parts = path.split("/")
            if (
                not path
                or path.startswith("/")
                or "\\" in path
                or any(p in ("", ".", "..") or p.startswith(".") for p in parts)
                or path == MANIFEST_NAME
            ):
                raise ValueError(f"file path {path!r} is not a plain relative path")
        return files

    def referenced_files(self) -> list[str]:
        """The files the runtime opens by name; each must also appear in ``files``."""
        paths = [self.weights, self.config, self.tokenizer]
        if self.zk is not None:
            paths.append(self.zk.onnx)
            circuit = self.zk.circuit
            if circuit is not None:
                paths += [circuit.settings, circuit.compiled, circuit.vk, circuit.srs]
        return [p for p in paths if p is not None]

    def to_json_bytes(self) -> bytes:
        """Canonical manifest bytes: sorted keys, two-space indent, trailing newline."""
        data = self.model_dump(mode="json")
        if data["zk"] is None:
            del data["zk"]  # manifests without the ZK tier keep their bytes (and hashes)
        return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def parse_manifest(raw: bytes) -> Manifest:
    """Parse and check manifest bytes; raises ManifestError or UnknownRuntime."""
    try:
        data = untrusted_json.loads(raw, source="manifest.json")
    except untrusted_json.UntrustedJsonError as exc:
        raise ManifestError(
            f"manifest.json is not valid JSON ({exc.reason}): {exc.detail}"
        ) from exc
    if not isinstance(data, dict):
        raise ManifestError("manifest.json must hold a JSON object")
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()
        )
        raise ManifestError(f"manifest.json is invalid: {problems}") from exc
    tasks = RUNTIME_TASKS.get(manifest.runtime)
    if tasks is None:
        raise UnknownRuntime(
            f"unknown runtime {manifest.runtime!r}; known: {', '.join(sorted(RUNTIME_TASKS))}"
        )
    if manifest.task not in tasks:
        raise UnknownRuntime(
            f"runtime {manifest.runtime!r} serves {', '.join(tasks)}, not {manifest.task!r}"
        )
    missing = [p for p in manifest.referenced_files() if p not in manifest.files]
    if missing:
        raise ManifestError(f"files referenced but not listed under 'files': {missing}")
    return manifest
