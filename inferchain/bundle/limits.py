"""Each runtime's input limits, read from a bundle's ``config.json`` without torch.

One definition, read in two places: the runtimes (``inferchain.worker.runtimes``) refuse
an input past these limits with ``InvalidInput`` once a job is paid for, and the gateway
and ``inferchain job submit`` check the same values before it is (see
:mod:`inferchain.bundle.precheck`). A bundle's ``config.json`` may override any default
in its ``limits`` section. :func:`from_dict` is how every runtime reads a config section.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

from inferchain.bundle.errors import ManifestError, UnknownRuntime

T = TypeVar("T")


@dataclass(frozen=True)
class GenerationLimits:
    """``inferchain-gpt``; the context length is the model's own (``config.model``)."""

    max_input_bytes: int = 16384
    max_prompt_bytes: int = 8192
    max_new_tokens: int = 256
    default_new_tokens: int = 32
    max_batch_size: int = 32
    max_stop: int = 4
    max_stop_bytes: int = 64


@dataclass(frozen=True)
class ImageLimits:
    """``inferchain-cnn``."""

    max_input_bytes: int = 4 * 1024 * 1024
    max_pixels: int = 4096 * 4096
    max_batch_size: int = 256
    default_top_k: int = 3


@dataclass(frozen=True)
class TextLimits:
    """``inferchain-bow``."""

    max_input_bytes: int = 16384
    max_text_bytes: int = 8192
    max_tokens: int = 2048
    max_batch_size: int = 256


@dataclass(frozen=True)
class HfLimits:
    """``hf-transformers``, every task. ``inferchain model import-hf`` writes ``context_length``
    (and ``max_new_tokens``, bounded by it) from the model's own config.

    Text generation: prompt tokens (special and chat-template tokens included) +
    ``max_new_tokens`` must fit in ``context_length``. Classification and embeddings: the
    text's tokens must.
    """

    context_length: int
    max_new_tokens: int = 256
    default_new_tokens: int = 32
    max_input_bytes: int = 65536
    max_prompt_bytes: int = 32768
    max_messages: int = 64
    max_stop: int = 4
    max_stop_bytes: int = 64

    def __post_init__(self) -> None:
        if not 1 <= self.default_new_tokens <= self.max_new_tokens < self.context_length:
            raise ValueError(
                "need 1 <= default_new_tokens <= max_new_tokens < context_length, got "
                f"{self.default_new_tokens}, {self.max_new_tokens}, {self.context_length}"
            )


@dataclass(frozen=True)
class MlpLimits:
    """``inferchain-mlp`` (the ZK tier): the input file's exact shape is the circuit's,
    from the manifest's ``zk`` section (``ModelLimits.zk_input``)."""

    max_input_bytes: int = 65535
    max_batch_size: int = 256


RuntimeLimits = GenerationLimits | ImageLimits | TextLimits | HfLimits | MlpLimits

#: Runtime name -> its limits (``inferchain.bundle.RUNTIME_TASKS`` names the same runtimes).
RUNTIME_LIMITS: dict[str, type[RuntimeLimits]] = {
    "inferchain-gpt": GenerationLimits,
    "inferchain-cnn": ImageLimits,
    "inferchain-bow": TextLimits,
    "hf-transformers": HfLimits,
    "inferchain-mlp": MlpLimits,
}


def runtime_limits(runtime: str, config: dict[str, Any]) -> RuntimeLimits:
    """The limits ``runtime`` applies under ``config`` (config.json as a dict)."""
    kind = RUNTIME_LIMITS.get(runtime)
    if kind is None:
        raise UnknownRuntime(f"no limits are known for runtime {runtime!r}")
    return from_dict(kind, config.get("limits", {}), "config.limits")


def from_dict(cls: type[T], data: Any, where: str) -> T:
    """Build dataclass ``cls`` from ``data``: every required field, no unknown ones."""
    if not isinstance(data, dict):
        raise ManifestError(f"{where} must be a JSON object")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ManifestError(f"{where}: unknown keys {unknown}")
    required = {
        n
        for n, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    missing = sorted(required - set(data))
    if missing:
        raise ManifestError(f"{where}: missing keys {missing}")
    values = {}
    for name, value in data.items():
        kind = fields[name].type
        kind = kind.__name__ if isinstance(kind, type) else str(kind)
        values[name] = tuple(value) if isinstance(value, list) else value
        expected = {"int": int, "float": (int, float), "str": str, "bool": bool}.get(str(kind))
        if expected is not None and (
            not isinstance(value, expected) or (expected is int and isinstance(value, bool))
        ):
            raise ManifestError(f"{where}.{name} must be {kind}, got {value!r}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{where}: {exc}") from exc
