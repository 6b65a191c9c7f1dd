"""The committed demo bundles and the corpus they were trained on; no training code.

``bundles/<name>/`` holds the bundles built by ``scripts/build_demo_models.py`` (and
``scripts/build_zk_demo.py`` for ``digits-mlp``) on the reference machine; rebuilding with
the same seed and thread count on the same CPU gives the same bytes (floating-point sums
may differ on other CPUs, hence the committed copies). The builders live in
``scripts/demo_models/``: they need torch, scikit-learn, transformers and the worker's
model classes, none of which this shared package may import.
"""

from __future__ import annotations

from pathlib import Path

BUNDLES_DIR = Path(__file__).parent / "bundles"
DEMO_NAMES = ("digits-cnn", "tiny-gpt", "sentiment-bow", "tiny-llama", "digits-mlp")


def demo_bundle_path(name: str) -> Path:
    """Directory of a committed demo bundle (not yet verified: pass it to ``load_bundle``)."""
    if name not in DEMO_NAMES:
        raise KeyError(f"no demo bundle {name!r}; known: {', '.join(DEMO_NAMES)}")
    return BUNDLES_DIR / name


__all__ = ["BUNDLES_DIR", "DEMO_NAMES", "demo_bundle_path"]
