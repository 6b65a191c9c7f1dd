"""Runtime ``hf-transformers`` on tiny random-weight models built here: Llama, Qwen2, GPT-2
(generation) and BERT (classification, embeddings), imported as bundles, run on CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from inferchain.bundle import InvalidInput, load_bundle
from inferchain.bundle.hf_import import import_hf
from inferchain.bundle.limits import runtime_limits
from inferchain.bundle.precheck import ModelLimits
from inferchain.worker.runtimes import RuntimePool, infer, load_runtime, outputs_agree
from inferchain.worker.runtimes.hf_encoders import HfClassificationRuntime, HfEmbeddingRuntime
from inferchain.worker.runtimes.hf_generation import HfGenerationRuntime
from tests.worker.runtimes.hf_tiny import CONTEXT, save_model

KINDS = ("llama", "qwen2", "gpt2", "bert-cls", "bert")


@pytest.fixture(scope="module")
def runtimes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("hf")
    loaded = {}
    for kind in KINDS:
        bundle = import_hf(save_model(root / kind, kind), root / f"{kind}-bundle")
        loaded[kind] = load_runtime(bundle, "cpu")
    return loaded


@pytest.fixture(scope="module")
def llama(runtimes: dict[str, object]) -> HfGenerationRuntime:
    runtime = runtimes["llama"]
    assert isinstance(runtime, HfGenerationRuntime)
    return runtime


def _result(runtime: object, raw: object) -> dict:
    (output,) = infer(runtime, [raw])  # type: ignore[arg-type]
    assert not isinstance(output, InvalidInput), output
    return json.loads(output.to_bytes())["result"]


def _bytes(runtime: object, inputs: list[object]) -> list[bytes]:
    return [o.to_bytes() for o in infer(runtime, inputs)]  # type: ignore[arg-type, union-attr]


@pytest.mark.parametrize("kind", ["llama", "qwen2", "gpt2"])
def test_generate_runs_for_each_causal_architecture(runtimes: dict, kind: str) -> None:
    (output,) = infer(runtimes[kind], [{"prompt": "hello world", "max_new_tokens": 6}])
    doc = json.loads(output.to_bytes())
    result = doc["result"]
    assert doc["task"] == "text-generation"
    assert result["prompt_tokens"] == len(runtimes[kind].prepare("hello world").prompt_ids)
    assert result["completion_tokens"] == len(result["tokens"]) <= 6
    assert result["finish_reason"] in ("length", "eos")
    assert doc["runtime"]["name"] == "hf-transformers"
    assert doc["runtime"]["transformers"].startswith("5.")
    assert (doc["runtime"]["device"], doc["runtime"]["dtype"]) == ("cpu", "float32")


def test_classify_returns_label_and_probabilities(runtimes: dict) -> None:
    runtime = runtimes["bert-cls"]
    assert isinstance(runtime, HfClassificationRuntime)
    result = _result(runtime, {"text": "a wonderful film", "top_k": 2})
    assert len(result["predictions"]) == 2
    assert result["label"] == result["predictions"][0]["label"]
    assert result["label"] in ("label0", "label1", "label2")
    assert 0 < result["predictions"][0]["probability"] <= 1


def test_embed_returns_unit_vector(runtimes: dict) -> None:
    runtime = runtimes["bert"]
    assert isinstance(runtime, HfEmbeddingRuntime)
    result = _result(runtime, "hello world")
    assert result["dims"] == len(result["embedding"]) == 32
    assert sum(x * x for x in result["embedding"]) == pytest.approx(1.0, abs=1e-4)
    assert result["prompt_tokens"] == len(runtime.prepare("hello world").token_ids)


def test_greedy_generation_repeats_identical_bytes(llama: HfGenerationRuntime) -> None:
    raw = {"prompt": "the quick brown", "max_new_tokens": 12}
    assert _bytes(llama, [raw]) == _bytes(llama, [raw])


def test_seeded_sampling_repeats_per_seed_and_differs_across_seeds(
    llama: HfGenerationRuntime,
) -> None:
    def sample(seed: int) -> dict:
        return _result(
            llama, {"prompt": "hello", "temperature": 1.0, "top_p": 0.9, "seed": seed,
                    "max_new_tokens": 12},
        )  # fmt: skip

    assert sample(7) == sample(7)
    assert sample(7)["tokens"] != sample(8)["tokens"]


@pytest.mark.parametrize("kind", KINDS)
def test_output_bytes_do_not_depend_on_batch_neighbours(runtimes: dict, kind: str) -> None:
    runtime = runtimes[kind]
    key = "prompt" if isinstance(runtime, HfGenerationRuntime) else "text"
    mine = {key: "hello world, how are you"}
    short, long = {key: "a"}, {key: "the quick brown fox jumps over the lazy dog " * 2}
    if key == "prompt":
        mine |= {"temperature": 0.7, "seed": 5, "max_new_tokens": 8}
        short |= {"max_new_tokens": 3}
        long |= {"max_new_tokens": 12}
    alone = _bytes(runtime, [mine])[0]
    assert _bytes(runtime, [short, mine, long])[1] == alone
    assert _bytes(runtime, [long, long, mine])[2] == alone


def _greedy_text(runtime: HfGenerationRuntime, prompt: str) -> str:
    return str(_result(runtime, {"prompt": prompt, "max_new_tokens": 16})["text"])


def test_stop_string_ends_text_before_it(runtimes: dict) -> None:
    runtime = runtimes["gpt2"]
    full = _greedy_text(runtime, "hello")
    stop = next(full[i : i + 2] for i in range(1, len(full) - 1) if "\ufffd" not in full[i : i + 2])
    result = _result(runtime, {"prompt": "hello", "max_new_tokens": 16, "stop": [stop]})
    assert result["finish_reason"] == "stop"
    assert result["text"] == full[: full.find(stop)]
    assert stop not in result["text"]


@pytest.mark.parametrize("with_stop", [False, True])
def test_stream_pieces_join_to_the_output_text(llama: HfGenerationRuntime, with_stop: bool) -> None:
    raw: dict = {"prompt": "hello", "max_new_tokens": 16}
    if with_stop:
        full = _greedy_text(llama, "hello")
        raw["stop"] = [next(full[i : i + 2] for i in range(2, len(full) - 1)
                            if "\ufffd" not in full[i : i + 2])]  # fmt: skip
    request = llama.prepare(raw)
    stream = llama.generate_stream(request)
    pieces = []
    while True:
        try:
            pieces.append(next(stream))
        except StopIteration as done:
            output = done.value
            break
    assert "".join(pieces) == output.result["text"]
    assert output.to_bytes() == llama.run([request])[0].to_bytes()
    assert all(pieces)


def test_messages_go_through_the_chat_template(llama: HfGenerationRuntime) -> None:
    chat = llama.prepare({"messages": [{"role": "user", "content": "hi there"}]})
    parts = llama.prepare(
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi there"}]}]}
    )
    templated = llama.tokenizer("<s>user: hi there\n<s>assistant:")["input_ids"]
    assert list(chat.prompt_ids) == list(parts.prompt_ids) == list(templated)
    assert list(chat.prompt_ids) != list(llama.prepare("hi there").prompt_ids)


def test_context_overflow_is_refused_naming_the_limit(llama: HfGenerationRuntime) -> None:
    prompt = "the quick brown fox jumps over the lazy dog"
    tokens = len(llama.tokenizer(prompt)["input_ids"])
    llama.prepare({"prompt": prompt, "max_new_tokens": CONTEXT - tokens})  # fits exactly
    with pytest.raises(InvalidInput) as caught:
        llama.prepare({"prompt": prompt, "max_new_tokens": CONTEXT - tokens + 1})
    assert caught.value.reason == "context_overflow"
    assert f"context_length) holds {CONTEXT}" in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"prompt": "hi", "top_p": 0}, "invalid_param"),
        ({"prompt": "hi", "max_new_tokens": CONTEXT}, "invalid_param"),
        ({"prompt": "hi", "messages": [{"role": "user", "content": "hi"}]}, "wrong_type"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "invalid_param"),
        ({"messages": [{"role": "user", "content": [{"type": "image"}]}]}, "wrong_type"),
        ({"messages": []}, "wrong_type"),
        ({"prompt": "hi", "beam_width": 4}, "invalid_param"),
        (b"{not json", "undecodable"),
    ],
)
def test_bad_generation_input_is_refused(
    llama: HfGenerationRuntime, raw: object, reason: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        llama.prepare(raw)
    assert caught.value.reason == reason


def test_precheck_refuses_what_the_runtime_refuses(llama: HfGenerationRuntime) -> None:
    bundle = llama.bundle
    limits = ModelLimits(
        "hf-transformers",
        runtime_limits("hf-transformers", bundle.config()),
        CONTEXT,
        Tokenizer.from_file(str(bundle.file("tokenizer.json"))),
        "text-generation",
    )
    prompt = "the quick brown fox jumps over the lazy dog"
    tokens = len(llama.tokenizer(prompt)["input_ids"])
    fits = json.dumps({"prompt": prompt, "max_new_tokens": CONTEXT - tokens}).encode()
    limits.check(fits, model="model 1")
    llama.prepare(fits)
    too_long = json.dumps({"prompt": prompt * 3, "max_new_tokens": CONTEXT // 2}).encode()
    for refuse in (
        lambda: limits.check(too_long, model="model 1"),
        lambda: llama.prepare(too_long),
    ):
        with pytest.raises(InvalidInput) as caught:
            refuse()
        assert caught.value.reason == "context_overflow"
    chat = {"messages": [{"role": "user", "content": prompt * 3}], "max_new_tokens": 32}
    with pytest.raises(InvalidInput, match="context holds"):
        limits.check(json.dumps(chat).encode(), model="model 1")


def test_embeddings_agree_within_tolerance_only(runtimes: dict) -> None:
    (output,) = infer(runtimes["bert"], ["hello world"])
    doc = json.loads(output.to_bytes())
    nudged = json.loads(output.to_bytes())
    nudged["result"]["embedding"][0] += 5e-5
    moved = json.loads(output.to_bytes())
    moved["result"]["embedding"][0] += 1e-2
    assert outputs_agree(output.to_bytes(), json.dumps(nudged).encode())
    assert not outputs_agree(output.to_bytes(), json.dumps(moved).encode())
    assert doc["task"] == "embeddings"


def test_pool_accounts_parameter_bytes(llama: HfGenerationRuntime, tmp_path: Path) -> None:
    expected = sum(p.numel() * p.element_size() for p in llama.model.parameters())
    assert llama.memory_bytes >= expected > 0

    class _Cache:  # the pool's one call into the disk cache
        def get(self, cid: str, *, expected_manifest_sha256: str | None = None) -> object:
            return load_bundle(llama.bundle.path)

    pool = RuntimePool(_Cache(), max_bytes=llama.memory_bytes * 10, device="cpu")  # type: ignore[arg-type]
    pool.get("bafy-one")
    assert pool.used_bytes == llama.memory_bytes
