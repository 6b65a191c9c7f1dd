"""Demo models built offline and reproducibly, plus the committed bundles they produce.

``bundles/<name>/`` holds the bundles built by ``scripts/build_demo_models.py`` on the
reference machine; rebuilding with the same seed and thread count on the same CPU gives
the same bytes (floating-point sums may differ on other CPUs, hence the committed copies).
Importing the builders needs torch (scikit-learn for the digits, transformers for the Llama).
"""

from __future__ import annotations

from pathlib import Path

BUNDLES_DIR = Path(__file__).parent / "bundles"
DEMO_NAMES = ("digits-cnn", "tiny-gpt", "sentiment-bow", "tiny-llama")


def demo_bundle_path(name: str) -> Path:
    """Directory of a committed demo bundle (not yet verified: pass it to ``load_bundle``)."""
    if name not in DEMO_NAMES:
        raise KeyError(f"no demo bundle {name!r}; known: {', '.join(DEMO_NAMES)}")
    return BUNDLES_DIR / name


__all__ = ["BUNDLES_DIR", "DEMO_NAMES", "demo_bundle_path"]
