"""inferchain-cnn: held-out accuracy through every input form, determinism, every bad input."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from inferchain.bundle import InvalidInput
from inferchain.worker.runtimes import outputs_agree
from inferchain.worker.runtimes.image_classification import ImageClassificationRuntime
from scripts.demo_models.digits import digits_split


@pytest.fixture(scope="module")
def held_out() -> tuple[np.ndarray, np.ndarray]:
    _, x_test, _, y_test = digits_split(seed=0)  # the split the demo bundle was trained on
    return x_test, y_test


def _encode(pixels: np.ndarray, fmt: str = "PNG", size: int = 8) -> bytes:
    image = Image.fromarray(np.round(pixels * 255).astype(np.uint8), "L")
    if size != 8:
        image = image.resize((size, size), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def _accuracy(runtime: ImageClassificationRuntime, inputs: list, labels: np.ndarray) -> float:
    outputs = runtime.run([runtime.prepare(x) for x in inputs])
    return float(
        np.mean([o.result["label"] == str(y) for o, y in zip(outputs, labels, strict=True)])
    )


def test_classify_arrays_held_out_accuracy_at_least_95(digits, held_out) -> None:
    x_test, y_test = held_out
    assert len(y_test) >= 400
    assert _accuracy(digits, [x[0] for x in x_test], y_test) >= 0.95


def test_classify_png_bytes_held_out_accuracy_at_least_95(digits, held_out) -> None:
    x_test, y_test = held_out
    assert _accuracy(digits, [_encode(x[0]) for x in x_test], y_test) >= 0.95


def test_classify_larger_jpeg_is_resized(digits, held_out) -> None:
    x_test, y_test = held_out
    accuracy = _accuracy(digits, [_encode(x[0], "JPEG", 32) for x in x_test[:100]], y_test[:100])
    assert accuracy >= 0.85  # JPEG blurs 8x8 strokes; still far above chance


def test_classify_json_forms_equal_raw_png(digits, held_out) -> None:
    pixels = held_out[0][0][0]
    png = _encode(pixels)
    forms = [
        png,
        json.dumps({"image": base64.b64encode(png).decode()}).encode(),
        {"array": (np.round(pixels * 255) / 255).tolist()},
        np.round(pixels * 255)[None] / 255,
    ]
    results = [o.result for o in digits.run([digits.prepare(f) for f in forms])]
    assert all(r["label"] == results[0]["label"] for r in results)
    assert all(
        outputs_agree(*(o.to_bytes() for o in digits.run([digits.prepare(f)] * 2))) for f in forms
    )


def test_classify_twice_gives_identical_bytes(digits, held_out) -> None:
    inputs = [x[0] for x in held_out[0][:64]]
    first = [o.to_bytes() for o in digits.run([digits.prepare(x) for x in inputs])]
    second = [o.to_bytes() for o in digits.run([digits.prepare(x) for x in inputs])]
    assert first == second


def test_classify_batched_agrees_with_single(digits, held_out) -> None:
    requests = [digits.prepare(x[0]) for x in held_out[0][:32]]
    batched = digits.run(requests)
    for request, output in zip(requests, batched, strict=True):
        alone = digits.run([request])[0]
        assert alone.result["label"] == output.result["label"]
        assert outputs_agree(alone.to_bytes(), output.to_bytes())


def test_classify_top_k_sorted_and_rounded(digits, held_out) -> None:
    output = digits.run([digits.prepare({"array": held_out[0][0][0].tolist(), "top_k": 10})])[0]
    predictions = output.result["predictions"]
    assert len(predictions) == 10
    probabilities = [p["probability"] for p in predictions]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(round(p, 6) == p for p in probabilities)
    assert abs(sum(probabilities) - 1) < 1e-4
    assert output.result["label"] == predictions[0]["label"]
    assert output.runtime["name"] == "inferchain-cnn"


def _huge_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (3000, 3000)).save(buffer, "PNG")  # 9 Mpixels, a few KB compressed
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "undecodable"),
        (b"\xff\xd8\xff" + b"garbage" * 10, "undecodable"),
        (b"GIF89a not supported", "undecodable"),
        (json.dumps({"image": "***not base64***"}).encode(), "undecodable"),
        (json.dumps({"image": base64.b64encode(b"plain text").decode()}).encode(), "undecodable"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024), "oversize"),
        (_huge_png(), "oversize"),
        ({"array": [[0.5] * 80] * 8000}, "oversize"),
        (12, "wrong_type"),
        ("a string", "wrong_type"),
        (b"[1, 2, 3]", "wrong_type"),
        ({"array": [[0.1] * 7] * 8}, "wrong_type"),
        ({"array": [["a"] * 8] * 8}, "wrong_type"),
        ({"array": [[0.1] * 8, [0.1] * 7]}, "wrong_type"),
        (np.zeros((3, 8, 8)), "wrong_type"),
        ({"image": 5}, "wrong_type"),
        ({}, "wrong_type"),
        ({"image": "", "array": [[0.0] * 8] * 8}, "wrong_type"),
        ({"array": [[2.0] * 8] * 8}, "invalid_param"),
        ({"array": [[float("nan")] * 8] * 8}, "invalid_param"),
        ({"array": [[0.0] * 8] * 8, "top_k": 0}, "invalid_param"),
        ({"array": [[0.0] * 8] * 8, "top_k": 11}, "invalid_param"),
        ({"array": [[0.0] * 8] * 8, "colour": "red"}, "invalid_param"),
    ],
)
def test_prepare_bad_input_raises_invalid_input(digits, raw, reason) -> None:
    with pytest.raises(InvalidInput) as caught:
        digits.prepare(raw)
    assert caught.value.reason == reason
