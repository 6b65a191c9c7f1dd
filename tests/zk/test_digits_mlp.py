"""The ZK demo model: small enough to prove, accurate, and as accurate inside the circuit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from inferchain.zk import Circuit, decode_output, evaluate
from scripts.demo_models.digits_mlp import (
    PIXEL_MAX,
    WEIGHTS_NAME,
    DigitsMLP,
    build_digits_mlp,
    read_metadata,
)
from tests.zk.conftest import MODEL_DIR


def test_build_digits_mlp_is_small_and_accurate(tmp_path: Path) -> None:
    built = build_digits_mlp(tmp_path / "mlp")
    assert built.parameters <= 2000
    assert built.accuracy >= 0.9
    assert {p.name for p in built.root.iterdir()} == {
        "model.onnx",
        "model.safetensors",
        "config.json",
    }


def test_committed_model_records_its_accuracy() -> None:
    facts = read_metadata(MODEL_DIR)
    assert facts["parameters"] <= 2000
    assert facts["held_out_accuracy"] >= 0.9


def test_circuit_agrees_with_the_torch_model(
    circuit: Circuit, digit_inputs: list[tuple[bytes, int]]
) -> None:
    """In the circuit's fixed point the model gives torch's labels on the held-out split."""
    model = DigitsMLP()
    model.load_state_dict(load_file(str(MODEL_DIR / WEIGHTS_NAME)))
    pixels = np.array([list(data) for data, _ in digit_inputs], dtype=np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(pixels / PIXEL_MAX)).numpy()
    logits = (
        np.array(
            [
                decode_output(evaluate(circuit, data, PIXEL_MAX).output_file)
                for data, _ in digit_inputs
            ]
        )
        / 2**circuit.output_scale
    )
    labels = np.array([label for _, label in digit_inputs])
    assert np.abs(logits - expected).max() < 0.5
    assert float(np.mean(logits.argmax(axis=1) == expected.argmax(axis=1))) >= 0.99
    assert float(np.mean(logits.argmax(axis=1) == labels)) >= 0.9
