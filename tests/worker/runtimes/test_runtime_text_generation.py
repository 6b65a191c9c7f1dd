"""inferchain-gpt: determinism, batching, KV cache, sampling, stops, and every bad input."""

from __future__ import annotations

import json

import pytest

from inferchain.bundle import InvalidInput
from inferchain.worker.runtimes import Output, infer
from inferchain.worker.runtimes.text_generation import TextGenerationRuntime

PROMPTS = [
    "",
    "Once upon a midnight dreary",
    "We hold these truths to be self-evident, that all men are created equal, that they",
    "Shall I compare thee",
]


def _requests(gpt: TextGenerationRuntime, max_new_tokens: int = 24, **params):
    return [gpt.prepare({"prompt": p, "max_new_tokens": max_new_tokens, **params}) for p in PROMPTS]


def test_generate_greedy_twice_gives_identical_bytes(gpt: TextGenerationRuntime) -> None:
    first = [o.to_bytes() for o in gpt.run(_requests(gpt))]
    second = [o.to_bytes() for o in gpt.run(_requests(gpt))]
    assert first == second
    result = json.loads(first[1])["result"]
    assert result["completion_tokens"] == len(result["tokens"]) > 0
    assert result["finish_reason"] in {"length", "eos", "stop"}


def test_generate_batched_equals_one_prompt_at_a_time(gpt: TextGenerationRuntime) -> None:
    requests = _requests(gpt)
    assert len({len(r.prompt_ids) for r in requests}) == len(requests)  # different lengths
    batched = gpt.run(requests)
    alone = [gpt.run([r])[0] for r in requests]
    assert [o.to_bytes() for o in batched] == [o.to_bytes() for o in alone]


def test_generate_kv_cache_equals_full_recompute(gpt: TextGenerationRuntime) -> None:
    requests = _requests(gpt, max_new_tokens=16)
    cached = gpt.run(requests)
    recomputed = gpt.run(requests, use_cache=False)
    assert [o.result for o in cached] == [o.result for o in recomputed]


def test_generate_seeded_sampling_repeats_per_seed(gpt: TextGenerationRuntime) -> None:
    def sample(seed: int) -> list[int]:
        request = gpt.prepare(
            {"prompt": "The", "temperature": 1.0, "seed": seed, "max_new_tokens": 24}
        )
        return gpt.run([request])[0].result["tokens"]

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)


def test_generate_sampling_in_batch_equals_alone(gpt: TextGenerationRuntime) -> None:
    requests = _requests(gpt, temperature=0.8, top_k=40, seed=11)
    batched = gpt.run(requests)
    alone = [gpt.run([r])[0] for r in requests]
    assert [o.result for o in batched] == [o.result for o in alone]


def test_generate_stop_sequence_truncates_text(gpt: TextGenerationRuntime) -> None:
    prompt = {"prompt": "Once upon a midnight dreary", "max_new_tokens": 40}
    full = gpt.run([gpt.prepare(prompt)])[0].result["text"]
    stop = full[10:14]
    assert stop and stop not in full[:10]
    stopped = gpt.run([gpt.prepare({**prompt, "stop": [stop, "never-seen-stop"]})])[0].result
    assert stopped["finish_reason"] == "stop"
    assert stopped["text"] == full[: full.index(stop)]
    assert stopped["completion_tokens"] < 40


def test_generate_respects_max_new_tokens(gpt: TextGenerationRuntime) -> None:
    results = [o.result for o in gpt.run(_requests(gpt, max_new_tokens=5))]
    for result in results:
        assert result["completion_tokens"] <= 5
        assert result["finish_reason"] in {"length", "eos"}


def test_generate_bare_string_and_bytes_inputs_match(gpt: TextGenerationRuntime) -> None:
    from_str = gpt.prepare("Tyger Tyger")
    from_bytes = gpt.prepare(json.dumps({"prompt": "Tyger Tyger"}).encode())
    assert from_str == from_bytes
    assert from_str.max_new_tokens == 32 and from_str.temperature == 0.0


def test_generate_output_records_runtime_and_model(gpt: TextGenerationRuntime) -> None:
    output = gpt.run([gpt.prepare("Four score")])[0]
    document = json.loads(output.to_bytes())
    assert document["runtime"]["name"] == "inferchain-gpt"
    assert document["runtime"]["device"] == "cpu"
    assert document["runtime"]["dtype"] == "float32"
    assert document["model"]["name"] == "tiny-gpt"
    assert document["model"]["manifest_sha256"] == gpt.bundle.manifest_sha256
    assert (
        output.to_bytes()
        == json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )


def test_infer_reports_bad_inputs_in_place(gpt: TextGenerationRuntime) -> None:
    results = infer(gpt, ["Tyger", {"prompt": 3}, b"\xff", "Ozymandias"])
    assert isinstance(results[0], Output) and isinstance(results[3], Output)
    assert isinstance(results[1], InvalidInput) and results[1].reason == "wrong_type"
    assert isinstance(results[2], InvalidInput) and results[2].reason == "undecodable"


def _long_prompt(gpt: TextGenerationRuntime) -> str:
    return "Nevermore, " * gpt.config.context_length


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"x" * 20000, "oversize"),
        ({"prompt": "y" * 9000}, "oversize"),
        (b"\xff\xfe", "undecodable"),
        (b"{not json", "undecodable"),
        (b"[1, 2]", "wrong_type"),
        (42, "wrong_type"),
        (["prompt"], "wrong_type"),
        ({"prompt": 7}, "wrong_type"),
        ({}, "wrong_type"),
        ({"prompt": "\ud800"}, "undecodable"),
        ({"prompt": "a", "max_new_tokens": 0}, "invalid_param"),
        ({"prompt": "a", "max_new_tokens": 10_000}, "invalid_param"),
        ({"prompt": "a", "max_new_tokens": True}, "invalid_param"),
        ({"prompt": "a", "max_new_tokens": "5"}, "invalid_param"),
        ({"prompt": "a", "max_new_tokens": 2.5}, "invalid_param"),
        ({"prompt": "a", "temperature": -0.1}, "invalid_param"),
        ({"prompt": "a", "temperature": float("inf")}, "invalid_param"),
        ({"prompt": "a", "temperature": "hot"}, "invalid_param"),
        ({"prompt": "a", "top_k": -1}, "invalid_param"),
        ({"prompt": "a", "seed": -5}, "invalid_param"),
        ({"prompt": "a", "stop": ["", "x"]}, "invalid_param"),
        ({"prompt": "a", "stop": ["a", "b", "c", "d", "e"]}, "invalid_param"),
        ({"prompt": "a", "stop": [3]}, "invalid_param"),
        ({"prompt": "a", "stop": "z" * 100}, "invalid_param"),
        ({"prompt": "a", "beam_width": 4}, "invalid_param"),
    ],
)
def test_prepare_bad_input_raises_invalid_input(gpt: TextGenerationRuntime, raw, reason) -> None:
    with pytest.raises(InvalidInput) as caught:
        gpt.prepare(raw)
    assert caught.value.reason == reason


def test_prepare_prompt_beyond_context_raises_context_overflow(gpt: TextGenerationRuntime) -> None:
    with pytest.raises(InvalidInput) as caught:
        gpt.prepare({"prompt": _long_prompt(gpt)[:8000], "max_new_tokens": 1})
    assert caught.value.reason == "context_overflow"


def test_prepare_prompt_plus_new_tokens_beyond_context_raises(gpt: TextGenerationRuntime) -> None:
    context = gpt.config.context_length
    prompt = "Nevermore " * 20
    used = len(gpt.prepare({"prompt": prompt, "max_new_tokens": 1}).prompt_ids)
    assert gpt.prepare({"prompt": prompt, "max_new_tokens": context - used}).max_new_tokens
    with pytest.raises(InvalidInput) as caught:
        gpt.prepare({"prompt": prompt, "max_new_tokens": context - used + 1})
    assert caught.value.reason == "context_overflow"


def test_generate_fills_context_exactly(gpt: TextGenerationRuntime) -> None:
    context = gpt.config.context_length
    room = context - len(gpt.prepare("Hope").prompt_ids)
    short = gpt.prepare({"prompt": "Hope", "max_new_tokens": min(gpt.limits.max_new_tokens, room)})
    long_prompt = "Nevermore " * 40
    used = len(gpt.prepare(long_prompt).prompt_ids)
    long = gpt.prepare({"prompt": long_prompt, "max_new_tokens": context - used})
    outputs = gpt.run([short, long])  # padded columns exceed the context; each row fits
    assert [o.result for o in outputs] == [gpt.run([short])[0].result, gpt.run([long])[0].result]
