"""The committed digits MLP, its EZKL circuit (built once per session: ~10 s) and one real proof."""

from __future__ import annotations

import pytest

from inferchain.bundle.demos import BUNDLES_DIR
from inferchain.zk import Circuit, Proof, Statement, build_circuit, prove
from scripts.demo_models.digits_mlp import NAME, ONNX_NAME, PIXEL_MAX, held_out_pixels

MODEL_DIR = BUNDLES_DIR / NAME


@pytest.fixture(scope="session")
def circuit(tmp_path_factory: pytest.TempPathFactory) -> Circuit:
    return build_circuit(MODEL_DIR / ONNX_NAME, tmp_path_factory.mktemp("zk") / "circuit")


@pytest.fixture(scope="session")
def digit_inputs() -> list[tuple[bytes, int]]:
    """Held-out digits as ZK input files, with their true labels."""
    pixels, labels = held_out_pixels()
    return [(bytes(row), int(label)) for row, label in zip(pixels, labels, strict=True)]


@pytest.fixture(scope="session")
def proved(circuit: Circuit, digit_inputs: list[tuple[bytes, int]]) -> tuple[Proof, Statement]:
    input_file, _ = digit_inputs[0]
    return prove(circuit, input_file, PIXEL_MAX)
