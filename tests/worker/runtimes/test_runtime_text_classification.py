"""inferchain-bow: labels with probabilities, determinism, every bad input."""

from __future__ import annotations

import json

import pytest

from inferchain.bundle import InvalidInput
from inferchain.worker.runtimes import outputs_agree
from inferchain.worker.runtimes.text_classification import TextClassificationRuntime
from scripts.demo_models.sentiment import sentiment_split


def test_classify_held_out_reviews_accuracy(sentiment: TextClassificationRuntime) -> None:
    _, held_out = sentiment_split(seed=0)
    outputs = sentiment.run([sentiment.prepare(text) for text, _ in held_out])
    labels = ["negative", "positive"]
    correct = sum(
        o.result["label"] == labels[y] for o, (_, y) in zip(outputs, held_out, strict=True)
    )
    assert correct / len(held_out) >= 0.95


def test_classify_obvious_reviews(sentiment: TextClassificationRuntime) -> None:
    texts = ["The concert was wonderful. Five stars.", "The soup was awful and cold. Never again."]
    labels = [o.result["label"] for o in sentiment.run([sentiment.prepare(t) for t in texts])]
    assert labels == ["positive", "negative"]


def test_classify_twice_gives_identical_bytes(sentiment: TextClassificationRuntime) -> None:
    requests = [sentiment.prepare(t) for t in ("great", "dull", "a perfect evening")]
    first = [o.to_bytes() for o in sentiment.run(requests)]
    assert first == [o.to_bytes() for o in sentiment.run(requests)]
    alone = [sentiment.run([r])[0].to_bytes() for r in requests]
    assert all(outputs_agree(a, b) for a, b in zip(first, alone, strict=True))


def test_classify_top_k_and_forms(sentiment: TextClassificationRuntime) -> None:
    from_bytes = sentiment.prepare(json.dumps({"text": "lovely staff", "top_k": 1}).encode())
    output = sentiment.run([from_bytes])[0]
    assert len(output.result["predictions"]) == 1
    full = sentiment.run([sentiment.prepare({"text": "lovely staff"})])[0].result
    assert full["predictions"][0]["label"] == output.result["label"]
    assert abs(sum(p["probability"] for p in full["predictions"]) - 1) < 1e-5


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"text": ""}, "invalid_param"),
        ({"text": "x" * 9000}, "oversize"),
        (b"y" * 20000, "oversize"),
        ({"text": "ok", "top_k": 3}, "invalid_param"),
        ({"text": "ok", "top_k": "1"}, "invalid_param"),
        ({"text": "ok", "lang": "en"}, "invalid_param"),
        ({"text": ["a"]}, "wrong_type"),
        (3.5, "wrong_type"),
        (b"\xc3\x28", "undecodable"),
        (b"not json", "undecodable"),
    ],
)
def test_prepare_bad_input_raises_invalid_input(sentiment, raw, reason) -> None:
    with pytest.raises(InvalidInput) as caught:
        sentiment.prepare(raw)
    assert caught.value.reason == reason
