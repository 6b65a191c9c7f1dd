"""Demo: a CNN for scikit-learn's 8x8 hand-written digits (UCI data, CC BY 4.0)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from inferchain.bundle.builder import finalize_bundle
from inferchain.bundle.bundle import Bundle
from inferchain.worker.runtimes.cnn import CNN, CNNConfig
from scripts.demo_models._common import (
    classification_output_schema,
    fresh_dir,
    save_weights,
    seeded,
    train_classifier,
    write_json,
)

LABELS = [str(d) for d in range(10)]


def digits_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, x_test, y_train, y_test); images float32 [N, 1, 8, 8] scaled to [0, 1]."""
    from sklearn.datasets import load_digits  # dev extra: only builders and tests need it
    from sklearn.model_selection import train_test_split

    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)[:, None]
    return train_test_split(
        images, data.target, test_size=0.25, random_state=seed, stratify=data.target
    )


def build_digits(out: str | Path, *, epochs: int = 40, seed: int = 0, threads: int = 1) -> Bundle:
    """Train and write the bundle; about 2 s on one CPU core."""
    root = fresh_dir(out)
    x_train, x_test, y_train, y_test = digits_split(seed)
    config = CNNConfig(
        in_channels=1, height=8, width=8, channels=(16, 32), hidden=64, num_classes=10
    )
    with seeded(seed, threads) as generator:
        model = CNN(config)
        xs, ys = torch.from_numpy(x_train), torch.from_numpy(y_train).long()
        train_classifier(model, xs, ys, epochs=epochs, learning_rate=2e-3, generator=generator)
        with torch.no_grad():
            predicted = model(torch.from_numpy(x_test)).argmax(dim=1).numpy()
    accuracy = float((predicted == y_test).mean())
    save_weights(model, root / "model.safetensors")
    write_json(
        root / "config.json",
        {
            "model": asdict(config),
            "labels": LABELS,
            "limits": {"max_input_bytes": 1048576, "max_pixels": 4194304, "default_top_k": 3},
        },
    )
    return finalize_bundle(
        root,
        name="digits-cnn",
        version="1.0.0",
        task="image-classification",
        runtime="inferchain-cnn",
        license="CC-BY-4.0",
        dtype="float32",
        description=(
            "Hand-written digit classifier (0-9) for 8x8 grayscale images, light ink on a dark "
            "background. Trained on the UCI Optical Recognition of Handwritten Digits data as "
            "bundled with scikit-learn (CC BY 4.0, Alpaydin and Kaynak)."
        ),
        input_schema={
            "description": (
                "The job input is a PNG or JPEG file (converted to grayscale, resized to 8x8), "
                "or a JSON object as below; 'array' is [8, 8] or [1, 8, 8] in [0, 1]."
            ),
            "anyOf": [
                {"type": "string", "contentMediaType": "image/png"},
                {"type": "string", "contentMediaType": "image/jpeg"},
                {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "contentEncoding": "base64"},
                        "array": {"type": "array"},
                        "top_k": {"type": "integer", "minimum": 1, "maximum": 10},
                    },
                    "additionalProperties": False,
                },
            ],
            "maxBytes": 1048576,
        },
        output_schema=classification_output_schema(LABELS),
        metadata={
            "dataset": "sklearn.datasets.load_digits, 75/25 stratified split",
            "held_out_accuracy": round(accuracy, 4),
            "held_out_size": len(y_test),
            "seed": seed,
            "epochs": epochs,
        },
    )
