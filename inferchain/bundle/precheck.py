"""Refuse a job input its model would refuse, before the job is paid for.

A worker checks an input only after it claimed the job: the requester has paid by then,
and although ``reportFailure`` refunds the price, a session signer's cap stays spent and
the requester waited for nothing. :func:`fetch_model_limits` reads what a model accepts
from its bundle on IPFS (the manifest by the CID and hash the registry holds, then
``config.json`` and the tokenizer, each checked against the manifest), and
:meth:`ModelLimits.check` refuses, with the runtime's own ``InvalidInput``, what the
runtime would refuse for size: input and text bytes, new tokens, stop sequences, and
tokens against the context. Every other judgement on an input stays the worker's. The
limits themselves are :mod:`inferchain.bundle.limits`, which the runtimes apply.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokenizers import Tokenizer

from inferchain import untrusted_json
from inferchain.bundle.errors import (
    BundleFileMissing,
    BundleHashMismatch,
    BundleTooLarge,
    InvalidInput,
    ManifestError,
)
from inferchain.bundle.fetch import MAX_MANIFEST_BYTES
from inferchain.bundle.limits import (
    GenerationLimits,
    HfLimits,
    RuntimeLimits,
    TextLimits,
    runtime_limits,
)
from inferchain.bundle.manifest import MANIFEST_NAME, Manifest, parse_manifest
from inferchain.ipfs import Cid, IpfsClient, IpfsNotFound, IpfsTooLarge, UnsupportedDag

__all__ = ["ModelLimits", "fetch_model_limits"]

#: Largest config.json or tokenizer read to learn a model's limits.
MAX_LIMITS_FILE_BYTES = 64 << 20


@dataclass(frozen=True)
class ModelLimits:
    """What one bundle's runtime accepts; content-addressed, so it never goes stale."""

    runtime: str
    limits: RuntimeLimits
    #: Text generation: prompt tokens + 1 start token + new tokens must fit in it.
    context_length: int | None = None
    tokenizer: Tokenizer | None = None
    task: str | None = None
    #: ``hf-transformers`` embeddings: the vector's length (the config's hidden size).
    embedding_dims: int | None = None
    #: ZK tier (``inferchain-mlp``): (input bytes, largest byte value) of the circuit.
    zk_input: tuple[int, int] | None = None

    def check(self, data: bytes, *, model: str, names: Mapping[str, str] | None = None) -> None:
        """Raise ``InvalidInput`` naming the first limit the job input ``data`` passes.

        ``model`` names the model in messages (``"model 3"``); ``names`` renames input
        fields the way the caller's user wrote them (the OpenAI API's ``max_tokens``).
        """
        limit = self.limits.max_input_bytes
        if len(data) > limit:
            raise InvalidInput(
                "oversize", f"the input is {len(data)} bytes; {model}'s limit is {limit}"
            )
        rename = dict(names or {})
        if isinstance(self.limits, GenerationLimits):
            self._check_generation(self.limits, _json_object(data), model, rename)
        elif isinstance(self.limits, TextLimits):
            self._check_text(self.limits, _json_object(data), model, rename)
        elif isinstance(self.limits, HfLimits):
            self._check_hf(self.limits, _json_object(data), model, rename)
        elif self.zk_input is not None:
            _check_zk_input(data, *self.zk_input, model)

    def token_limits(self, data: bytes) -> tuple[int, int] | None:
        """(most prompt tokens, most new tokens) a text-generation input that passed
        ``check`` can use: what a metered request pays for. The ``inferchain-gpt`` prompt
        count is exact (start token excluded, as its output counts); ``hf-transformers``
        adds chat-template tokens this cannot count, so its bound is the rest of the
        context. None for other tasks."""
        if not isinstance(self.limits, GenerationLimits | HfLimits):
            return None
        if isinstance(self.limits, HfLimits) and self.task != "text-generation":
            return None
        doc = _json_object(data)
        new = _new_tokens_and_stop(self.limits, doc, "the model", "max_new_tokens")
        if isinstance(self.limits, HfLimits):
            return self.limits.context_length - new, new
        if self.tokenizer is None or self.context_length is None:
            return None
        prompt = _text(doc, "prompt", self.limits.max_prompt_bytes, "the model", {})
        return len(self.tokenizer.encode(prompt).ids), new

    def _check_generation(
        self, limits: GenerationLimits, doc: dict[str, Any], model: str, names: dict[str, str]
    ) -> None:
        prompt = _text(doc, "prompt", limits.max_prompt_bytes, model, names)
        key = names.get("max_new_tokens", "max_new_tokens")
        new = _new_tokens_and_stop(limits, doc, model, key)
        if self.tokenizer is None or self.context_length is None:
            return
        tokens = len(self.tokenizer.encode(prompt).ids)
        if tokens + 1 + new > self.context_length:
            raise InvalidInput(
                "context_overflow",
                f"the prompt is {tokens} tokens and {key} asks for {new} more; "
                f"{model}'s context holds {self.context_length} tokens, one of them the "
                "start token",
            )

    def _check_hf(
        self, limits: HfLimits, doc: dict[str, Any], model: str, names: dict[str, str]
    ) -> None:
        """Tokens are counted without special or chat-template tokens: a lower bound of the
        runtime's count, so this never refuses what the worker would accept."""
        context = limits.context_length
        if self.task != "text-generation":
            text = _text(doc, "text", limits.max_prompt_bytes, model, names)
            tokens = self._count(text)
            if tokens > context:
                raise InvalidInput(
                    "context_overflow",
                    f"the text is {tokens} tokens; {model}'s context holds {context}",
                )
            return
        if doc.get("messages") is not None:
            texts = _message_texts(doc["messages"])
            size = sum(len(_utf8(t)) for t in texts)
            if size > limits.max_prompt_bytes:
                raise InvalidInput(
                    "oversize",
                    f"the messages hold {size} bytes of text; "
                    f"{model}'s limit is {limits.max_prompt_bytes}",
                )
        else:
            texts = [_text(doc, "prompt", limits.max_prompt_bytes, model, names)]
        key = names.get("max_new_tokens", "max_new_tokens")
        new = _new_tokens_and_stop(limits, doc, model, key)
        tokens = sum(self._count(t) for t in texts)
        if tokens + new > context:
            raise InvalidInput(
                "context_overflow",
                f"the prompt is at least {tokens} tokens and {key} asks for {new} more; "
                f"{model}'s context holds {context} tokens",
            )

    def _count(self, text: str) -> int:
        if self.tokenizer is None:
            return 0
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def _check_text(
        self, limits: TextLimits, doc: dict[str, Any], model: str, names: dict[str, str]
    ) -> None:
        text = _text(doc, "text", limits.max_text_bytes, model, names)
        if self.tokenizer is None:
            return
        tokens = len(self.tokenizer.encode(text).ids)
        if tokens > limits.max_tokens:
            raise InvalidInput(
                "oversize", f"the text is {tokens} tokens; {model}'s limit is {limits.max_tokens}"
            )


def fetch_model_limits(
    ipfs: IpfsClient,
    bundle_cid: Cid | str,
    manifest_sha256: bytes | str,
    *,
    timeout: float | None = None,
) -> ModelLimits:
    """The limits of the bundle a model registered, read from IPFS and verified.

    ``manifest_sha256`` is the hash the registry holds: the manifest must match it, and
    every file read must match the manifest. Raises ``BundleError`` when the CID is not a
    usable bundle, ``IpfsError`` when IPFS cannot serve it (down, timed out, lying).
    """
    expected = manifest_sha256.hex() if isinstance(manifest_sha256, bytes) else manifest_sha256
    expected = expected.lower().removeprefix("0x")
    raw = _cat(ipfs, bundle_cid, MANIFEST_NAME, MAX_MANIFEST_BYTES, timeout)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected:
        raise BundleHashMismatch(MANIFEST_NAME, f"sha256 {expected} (registered)", digest)
    manifest = parse_manifest(raw)
    config_bytes = _listed_file(ipfs, bundle_cid, manifest, manifest.config, timeout)
    config = _json_object_of(config_bytes, manifest.config)
    limits = runtime_limits(manifest.runtime, config)
    tokenizer = None
    if manifest.tokenizer is not None and isinstance(
        limits, GenerationLimits | TextLimits | HfLimits
    ):
        text = _listed_file(ipfs, bundle_cid, manifest, manifest.tokenizer, timeout)
        try:
            tokenizer = Tokenizer.from_str(text.decode("utf-8"))
        except Exception as exc:  # the tokenizers library raises plain Exception
            raise ManifestError(f"{manifest.tokenizer} is not a tokenizer") from exc
    context = None
    if isinstance(limits, GenerationLimits):
        context = config.get("model", {}).get("context_length")
        if not isinstance(context, int) or isinstance(context, bool) or context < 1:
            raise ManifestError("config.model.context_length must be a positive integer")
    elif isinstance(limits, HfLimits):
        context = limits.context_length
    dims = _hidden_size(config) if manifest.task == "embeddings" else None
    zk = manifest.zk
    zk_input = (zk.circuit.num_inputs, zk.max_input) if zk and zk.circuit else None
    return ModelLimits(manifest.runtime, limits, context, tokenizer, manifest.task, dims, zk_input)


def _check_zk_input(data: bytes, count: int, max_value: int, model: str) -> None:
    """The ZK input file as the ``inferchain-mlp`` runtime reads it (``zk.parse_input``)."""
    if len(data) != count:
        reason = "oversize" if len(data) > count else "wrong_type"
        raise InvalidInput(
            reason, f"{model} takes a {count}-byte input file (one byte per input), got {len(data)}"
        )
    worst = max(data, default=0)
    if worst > max_value:
        raise InvalidInput(
            "wrong_type",
            f"{model}'s input bytes are 0..{max_value}; byte {data.index(worst)} is {worst}",
        )


def _hidden_size(config: dict[str, Any]) -> int | None:
    """The width of the last hidden state, under the names transformers configs use."""
    for key in ("hidden_size", "d_model", "dim", "n_embd"):
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _new_tokens_and_stop(
    limits: GenerationLimits | HfLimits, doc: dict[str, Any], model: str, key: str
) -> int:
    """The new tokens asked for, once they and the stop sequences are within the limits."""
    new = doc.get("max_new_tokens")
    new = limits.default_new_tokens if new is None else new
    if isinstance(new, float) and new.is_integer():
        new = int(new)
    if not isinstance(new, int) or isinstance(new, bool) or new < 1:
        raise InvalidInput("invalid_param", f"{key} must be a positive integer")
    if new > limits.max_new_tokens:
        raise InvalidInput(
            "invalid_param",
            f"{key} {new} exceeds {model}'s limit of {limits.max_new_tokens}",
        )
    stop = doc.get("stop") or []
    stop = [stop] if isinstance(stop, str) else stop
    if isinstance(stop, list) and len(stop) > limits.max_stop:
        raise InvalidInput(
            "invalid_param",
            f"{len(stop)} stop sequences exceed {model}'s limit of {limits.max_stop}",
        )
    for item in stop if isinstance(stop, list) else ():
        if isinstance(item, str) and len(_utf8(item)) > limits.max_stop_bytes:
            raise InvalidInput(
                "invalid_param",
                f"a stop sequence is {len(_utf8(item))} bytes; "
                f"{model}'s limit is {limits.max_stop_bytes}",
            )
    return new


def _message_texts(messages: object) -> list[str]:
    """The text of chat messages; shapes the runtime would refuse are left to it."""
    texts: list[str] = []
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        parts = content if isinstance(content, list) else [content]
        for part in parts:
            text = part.get("text") if isinstance(part, dict) else part
            if isinstance(text, str):
                texts.append(text)
    return texts


def _listed_file(
    ipfs: IpfsClient, root: Cid | str, manifest: Manifest, name: str, timeout: float | None
) -> bytes:
    entry = manifest.files[name]  # parse_manifest checked that referenced files are listed
    if entry.size > MAX_LIMITS_FILE_BYTES:
        raise BundleTooLarge(f"{name} is {entry.size} bytes; at most {MAX_LIMITS_FILE_BYTES}")
    data = _cat(ipfs, root, name, entry.size, timeout)
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise BundleHashMismatch(name, f"sha256 {entry.sha256}", f"sha256 {digest}")
    return data


def _cat(
    ipfs: IpfsClient, root: Cid | str, name: str, max_size: int, timeout: float | None
) -> bytes:
    """``name`` inside bundle ``root``; what IPFS says about the bundle's shape is its fault."""
    try:
        return ipfs.cat_path(root, name, max_size=max_size, timeout=timeout)
    except IpfsNotFound as exc:
        raise BundleFileMissing(f"{root} has no {name}: not a bundle ({exc})") from exc
    except IpfsTooLarge as exc:
        raise BundleTooLarge(f"{name} of {root} is larger than {max_size} bytes") from exc
    except UnsupportedDag as exc:
        raise ManifestError(f"{root} is a directory shape bundles do not use ({exc})") from exc


def _json_object_of(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = untrusted_json.loads(data, source=name)
    except untrusted_json.UntrustedJsonError as exc:
        raise ManifestError(f"{name} is not valid JSON ({exc.reason}): {exc.detail}") from exc
    if not isinstance(value, dict):
        raise ManifestError(f"{name} must hold a JSON object")
    return value


def _json_object(data: bytes) -> dict[str, Any]:
    """The input as the text runtimes read it: a JSON object, or their refusal."""
    try:
        value = untrusted_json.loads(data, source="the job input")
    except untrusted_json.UntrustedJsonError as exc:
        raise InvalidInput("undecodable", f"the input is not JSON ({exc.reason})") from exc
    if not isinstance(value, dict):
        raise InvalidInput("wrong_type", "the input must be a JSON object")
    return value


def _text(doc: dict[str, Any], key: str, limit: int, model: str, names: dict[str, str]) -> str:
    value = doc.get(key)
    name = names.get(key, key)
    if not isinstance(value, str):
        raise InvalidInput("wrong_type", f"{name} must be a string")
    size = len(_utf8(value))
    if size > limit:
        raise InvalidInput("oversize", f"{name} is {size} bytes; {model}'s limit is {limit}")
    return value


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")
