"""Small synthetic bundles for the format and cache tests (numpy weights, no training)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from inferchain.bundle import Bundle, finalize_bundle
from tests.bundle.helpers import MakeBundle


@pytest.fixture
def make_bundle(tmp_path: Path) -> MakeBundle:
    """Build a tiny image-classification bundle; ``fill`` varies the weights (and hashes)."""
    counter = iter(range(1_000_000))

    def make(
        *, fill: float = 0.5, size: int = 64, dtype: str = "float32", name: str = "tiny"
    ) -> Bundle:
        root = tmp_path / f"bundle-{next(counter)}"
        root.mkdir()
        weights = {
            "head.weight": np.full((size, 4), fill, dtype=np.float32),
            "head.bias": np.zeros(size, dtype=np.float32),
        }
        save_file(weights, str(root / "model.safetensors"))
        (root / "config.json").write_text(json.dumps({"labels": ["a", "b"]}))
        return finalize_bundle(
            root,
            name=name,
            version="1.0.0",
            task="image-classification",
            runtime="inferchain-cnn",
            license="MIT",
            dtype=dtype,
            input_schema={"type": "object"},
            output_schema={"type": "object"},
        )

    return make
