"""ZK demo: a 1,210-parameter MLP for scikit-learn's 8x8 digits, small enough to prove with EZKL.

Its job input is the ZK tier's input file (see :mod:`inferchain.zk.binding`): 64 bytes, one
pixel per byte in 0..16 (the digits' own intensity scale), row-major. At input scale 2^4 the
circuit quantizes pixel / 16 to the pixel itself, so the proof's public inputs are exactly the
input file's bytes. The graph itself takes pixels / 16 in [0, 1], as the CNN demo does.
Writes weights, config, the ONNX graph EZKL compiles, and a manifest with a ``zk`` section
(runtime ``inferchain-mlp``); ``inferchain model publish`` builds the circuit into the bundle.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from scripts.demo_models._common import save_weights, seeded, train_classifier, write_json
from scripts.demo_models.digits import LABELS, digits_split

NAME = "digits-mlp"
PIXELS = 64
HIDDEN = 16
PIXEL_MAX = 16
ONNX_NAME = "model.onnx"
WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


class DigitsMLP(nn.Module):
    """64 -> 16 -> ReLU -> 10 logits."""

    def __init__(self, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.hidden = nn.Linear(PIXELS, hidden)
        self.out = nn.Linear(hidden, len(LABELS))

    def forward(self, pixels: Tensor) -> Tensor:
        """Logits [batch, 10] for pixels / 16, [batch, 64] in [0, 1]."""
        return self.out(F.relu(self.hidden(pixels)))


@dataclass(frozen=True)
class BuiltMLP:
    root: Path
    accuracy: float
    test_size: int
    parameters: int

    @property
    def onnx(self) -> Path:
        return self.root / ONNX_NAME


def held_out_pixels(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(pixels uint8 [N, 64] in 0..16, labels) of the held-out split the accuracy is measured on."""
    _, x_test, _, y_test = digits_split(seed)
    return _to_pixels(x_test), y_test


def build_digits_mlp(
    out: str | Path, *, epochs: int = 60, seed: int = 0, threads: int = 1
) -> BuiltMLP:
    """Train, evaluate and write weights, config and ONNX into ``out``; ~1 s of training."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    x_train, x_test, y_train, y_test = digits_split(seed)
    xs = torch.from_numpy(x_train.reshape(len(x_train), PIXELS))
    ys = torch.from_numpy(y_train).long()
    with seeded(seed, threads) as generator:
        model = DigitsMLP()
        train_classifier(model, xs, ys, epochs=epochs, learning_rate=1e-2, generator=generator)
        with torch.no_grad():
            predicted = model(torch.from_numpy(x_test.reshape(len(x_test), PIXELS)))
            predicted = predicted.argmax(dim=1).numpy()
        _export_onnx(model, root / ONNX_NAME)
    accuracy = float((predicted == y_test).mean())
    parameters = sum(p.numel() for p in model.parameters())
    save_weights(model, root / WEIGHTS_NAME)
    write_json(
        root / CONFIG_NAME,
        {
            "model": {"inputs": PIXELS, "hidden": HIDDEN, "classes": len(LABELS)},
            "labels": LABELS,
            "input": {
                "format": "64 bytes, row-major 8x8, one pixel per byte, 0 (background) to 16",
                "pixel_max": PIXEL_MAX,
            },
            "metadata": {
                "dataset": "sklearn.datasets.load_digits, 75/25 stratified split",
                "held_out_accuracy": round(accuracy, 4),
                "held_out_size": len(y_test),
                "parameters": parameters,
                "seed": seed,
                "epochs": epochs,
            },
        },
    )
    return BuiltMLP(root, accuracy, len(y_test), parameters)


def write_manifest(root: str | Path) -> None:
    """The bundle manifest: runtime ``inferchain-mlp``, ZK input/output files, a ``zk`` section
    without circuit or verifier (publish adds both)."""
    from inferchain.bundle.builder import finalize_bundle

    metadata = read_metadata(root)
    finalize_bundle(
        root,
        name=NAME,
        version="1.0.0",
        task="image-classification",
        runtime="inferchain-mlp",
        license="CC-BY-4.0",
        dtype="float32",
        description=(
            "Hand-written digit classifier (0-9) small enough to prove with EZKL (the ZK tier): "
            "64 -> 16 -> ReLU -> 10. Trained on the UCI Optical Recognition of Handwritten "
            "Digits data as bundled with scikit-learn (CC BY 4.0, Alpaydin and Kaynak)."
        ),
        input_schema={
            "description": (
                "64 bytes, row-major 8x8, one pixel per byte, 0 (background) to 16: the ZK "
                "tier's input file, whose bytes are the proof's public inputs."
            ),
            "type": "string",
            "contentMediaType": "application/octet-stream",
            "maxBytes": PIXELS,
        },
        output_schema={
            "description": (
                "320 bytes: ten big-endian int256 logits x 2^7, as the circuit computes them "
                "(abi.encode(int256[10])); the label is their argmax."
            ),
            "type": "string",
            "contentMediaType": "application/octet-stream",
        },
        metadata=metadata,
        zk={"onnx": ONNX_NAME, "max_input": PIXEL_MAX},
    )


def read_metadata(root: str | Path) -> dict[str, object]:
    """The training facts written beside the weights (accuracy, size, seed)."""
    return json.loads((Path(root) / CONFIG_NAME).read_text(encoding="utf-8"))["metadata"]


def _to_pixels(images: np.ndarray) -> np.ndarray:
    """digits_split's [N, 1, 8, 8] floats in [0, 1] back to the data's integer 0..16 pixels."""
    return np.rint(images.reshape(len(images), PIXELS) * PIXEL_MAX).astype(np.uint8)


def _export_onnx(model: nn.Module, path: Path) -> None:
    # dynamo=False: the TorchScript exporter gives the plain Gemm/Relu graph EZKL compiles;
    # torch warns that it is legacy, which is the point here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (torch.zeros(1, PIXELS),),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=["pixels"],
            output_names=["logits"],
        )
