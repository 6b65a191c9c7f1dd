"""Turn a Hugging Face ``save_pretrained`` directory into a bundle for ``hf-transformers``.

What a bundle takes from the directory: ``config.json`` (plus the runtime's ``limits``,
read from the config's context window), the weights as one ``model.safetensors`` in the
bundle dtype (shards of a ``model.safetensors.index.json`` are merged, since a manifest
names one weights file), ``tokenizer.json`` with its config and special-tokens map,
``generation_config.json`` and the chat template. Nothing that unpickles is read or
copied: a ``*.bin``/``*.pt``/``*.pkl``… file anywhere in the directory refuses the import,
as does an architecture transformers does not know without remote code, a missing
tokenizer, or weights whose shapes the config does not produce (checked on the meta device,
so no weights are materialised twice).

torch and transformers are imported only when an import runs: this module sits in
``inferchain.bundle``, which the gateway imports.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from inferchain.bundle.builder import finalize_bundle
from inferchain.bundle.bundle import Bundle, read_json_object
from inferchain.bundle.errors import BundleFileMissing, ManifestError, TensorMismatch
from inferchain.bundle.limits import HfLimits

__all__ = ["HF_RUNTIME", "PICKLE_SUFFIXES", "import_hf", "infer_task"]

HF_RUNTIME = "hf-transformers"
#: Files that unpickle (run code) when loaded; their presence refuses an import.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy", ".npz")
#: Copied when present, besides config.json, tokenizer.json and the weights.
OPTIONAL_FILES = (
    "tokenizer_config.json",
    "special_tokens_map.json",
    "generation_config.json",
    "chat_template.jinja",
    "chat_template.json",
)
#: Config keys that name the context window, most specific first.
CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "n_ctx")
MAX_NEW_TOKENS = 2048
_DTYPES = ("float32", "bfloat16", "float16")


def infer_task(architectures: list[str]) -> str:
    """A causal LM generates text, a sequence classifier classifies, anything else embeds."""
    from transformers.models.auto import modeling_auto

    arch = architectures[0] if architectures else ""
    if arch in modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values():
        return "text-generation"
    if arch in modeling_auto.MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES.values():
        return "text-classification"
    return "embeddings"


def import_hf(
    source: str | Path,
    out: str | Path,
    *,
    task: str | None = None,
    dtype: str | None = None,
    name: str | None = None,
    version: str = "1.0.0",
    license: str = "other",
    description: str = "",
    metadata: dict[str, Any] | None = None,
) -> Bundle:
    """Build bundle ``out`` (created; must not exist or be empty) from ``source``.

    ``metadata`` joins the manifest's (e.g. how a model was trained)."""
    src, dest = Path(source), Path(out)
    _refuse_pickles(src)
    config = _read_json(src / "config.json")
    architectures = config.get("architectures") or []
    if not isinstance(architectures, list) or not all(isinstance(a, str) for a in architectures):
        raise ManifestError("config.json: 'architectures' must be a list of class names")
    task = task or infer_task(architectures)
    auto_class = _auto_class(config, architectures, task)
    if not (src / "tokenizer.json").is_file():
        raise BundleFileMissing(
            f"{src} has no tokenizer.json: save a fast tokenizer with tokenizer.save_pretrained"
        )
    context = _context_length(config)
    max_new = min(MAX_NEW_TOKENS, context - 1)
    limits = HfLimits(context, max_new_tokens=max_new, default_new_tokens=min(32, max_new))
    tensors = _read_weights(src)
    dtype = dtype or _default_dtype(config, tensors)
    if dtype not in _DTYPES:
        raise ManifestError(f"dtype must be one of {', '.join(_DTYPES)}, not {dtype!r}")
    _check_shapes(auto_class, src, tensors)

    if dest.exists() and any(dest.iterdir()):
        raise ManifestError(f"{dest} exists and is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    try:
        _write_files(src, dest, tensors, {**config, "dtype": dtype, "limits": asdict(limits)})
        return finalize_bundle(
            dest,
            name=name or _bundle_name(src),
            version=version,
            task=task,
            runtime=HF_RUNTIME,
            license=license,
            dtype=dtype,
            description=description,
            tokenizer="tokenizer.json",
            input_schema=_input_schema(task),
            output_schema={"type": "object"},
            metadata={
                "architecture": architectures[0] if architectures else "",
                **(metadata or {}),
            },
        )
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)  # never leave half a bundle behind
        raise


def _write_files(src: Path, dest: Path, tensors: dict[str, Any], config: dict[str, Any]) -> None:
    """Weights in the bundle dtype, the config with its limits, the tokenizer and the rest."""
    import torch
    from safetensors.torch import save_file

    target = getattr(torch, config["dtype"])
    converted = {
        k: (t.to(target) if t.is_floating_point() else t).contiguous() for k, t in tensors.items()
    }
    save_file(converted, dest / "model.safetensors", metadata={"format": "pt"})
    config.pop("torch_dtype", None)  # the older name of "dtype"
    (dest / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    for file in ("tokenizer.json", *OPTIONAL_FILES):
        if (src / file).is_file():
            shutil.copyfile(src / file, dest / file)


def _refuse_pickles(src: Path) -> None:
    if not src.is_dir():
        raise BundleFileMissing(f"{src} is not a directory")
    for path in sorted(src.rglob("*")):
        if path.is_file() and path.name.lower().endswith(PICKLE_SUFFIXES):
            raise ManifestError(
                f"refusing {path.relative_to(src)}: pickle files run code when loaded; "
                "only safetensors weights are accepted (save with safe_serialization)"
            )


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BundleFileMissing(f"{path.parent} has no {path.name}")
    return read_json_object(path)


def _auto_class(config: dict[str, Any], architectures: list[str], task: str) -> Any:
    """The transformers Auto class for ``task``, once the architecture is known to it."""
    from transformers import (
        CONFIG_MAPPING,
        AutoModel,
        AutoModelForCausalLM,
        AutoModelForSequenceClassification,
    )
    from transformers.models.auto import modeling_auto

    mappings = {
        "text-generation": (AutoModelForCausalLM, modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES),
        "text-classification": (
            AutoModelForSequenceClassification,
            modeling_auto.MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES,
        ),
        "embeddings": (AutoModel, modeling_auto.MODEL_MAPPING_NAMES),
    }
    if task not in mappings:
        raise ManifestError(f"task must be one of {', '.join(mappings)}, not {task!r}")
    auto_class, names = mappings[task]
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or model_type not in CONFIG_MAPPING:
        raise ManifestError(
            f"unknown architecture: model_type {model_type!r} is not one transformers knows "
            "(remote code is never run)"
        )
    if model_type not in names:
        raise ManifestError(f"model_type {model_type!r} has no {task} model in transformers")
    return auto_class


def _context_length(config: dict[str, Any]) -> int:
    for key in CONTEXT_KEYS:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 2:
            return value
    raise ManifestError(f"config.json names no context window (one of {', '.join(CONTEXT_KEYS)})")


def _read_weights(src: Path) -> dict[str, Any]:
    """Every tensor of the safetensors weights, shards merged (read without unpickling)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    index = src / "model.safetensors.index.json"
    if index.is_file():
        weight_map = _read_json(index).get("weight_map")
        if not isinstance(weight_map, dict) or not all(
            isinstance(v, str) and "/" not in v for v in weight_map.values()
        ):
            raise ManifestError(f"{index.name}: 'weight_map' must map tensors to shard files")
        files = sorted(set(weight_map.values()))
    elif (src / "model.safetensors").is_file():
        files = ["model.safetensors"]
    else:
        raise BundleFileMissing(f"{src} has no model.safetensors nor model.safetensors.index.json")
    tensors: dict[str, Any] = {}
    for file in files:
        if not (src / file).is_file():
            raise BundleFileMissing(f"{src} has no {file} (named by the shard index)")
        try:
            tensors.update(load_file(src / file))
        except (SafetensorError, OSError) as exc:
            raise TensorMismatch(f"{file}: not readable safetensors ({exc})") from exc
    return tensors


def _default_dtype(config: dict[str, Any], tensors: dict[str, Any]) -> str:
    declared = config.get("dtype") or config.get("torch_dtype")
    if declared in _DTYPES:
        return str(declared)
    floating = [
        str(t.dtype).removeprefix("torch.") for t in tensors.values() if t.is_floating_point()
    ]
    return floating[0] if floating and floating[0] in _DTYPES else "float32"


def _check_shapes(auto_class: Any, src: Path, tensors: dict[str, Any]) -> None:
    """Build the model from the config on the meta device and compare every shape."""
    import torch
    from transformers import AutoConfig

    try:
        hf_config = AutoConfig.from_pretrained(src, local_files_only=True, trust_remote_code=False)
        with torch.device("meta"):
            model = auto_class.from_config(hf_config, trust_remote_code=False)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise ManifestError(f"config.json does not build a model: {exc}") from exc
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    prefix = getattr(model, "base_model_prefix", "") or ""
    matched = 0
    for key, tensor in sorted(tensors.items()):
        for candidate in (key, f"{prefix}.{key}", key.removeprefix(f"{prefix}.")):
            if candidate in expected:
                break
        else:
            continue
        matched += 1
        if tuple(tensor.shape) != expected[candidate]:
            raise TensorMismatch(
                f"tensor {key!r} is {list(tensor.shape)} but config.json makes it "
                f"{list(expected[candidate])}: the config does not describe these weights"
            )
    if matched == 0:
        raise TensorMismatch(f"no tensor in the weights belongs to a {type(model).__name__}")


def _bundle_name(src: Path) -> str:
    name = re.sub(r"[^a-z0-9._-]+", "-", src.resolve().name.lower()).strip("-._")
    return (name or "hf-model")[:64]


def _input_schema(task: str) -> dict[str, Any]:
    if task == "text-generation":
        return {
            "type": "object",
            "properties": {
                "prompt": {"type": "string"},
                "messages": {"type": "array"},
                "max_new_tokens": {"type": "integer", "minimum": 1},
                "temperature": {"type": "number", "minimum": 0},
                "top_p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "seed": {"type": "integer", "minimum": 0},
                "stop": {"type": "array", "items": {"type": "string"}},
            },
        }
    return {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
