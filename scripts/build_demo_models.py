#!/usr/bin/env python3
"""Build the demo model bundles offline, seeded and deterministic.

    python scripts/build_demo_models.py                     # all four, into the package
    python scripts/build_demo_models.py digits --out /tmp/x # one, elsewhere
    python scripts/build_demo_models.py gpt --gpt-steps 50  # a quick, poor GPT
    python scripts/build_demo_models.py llama               # the transformers Llama only

Same seed, thread count and CPU give the same bytes. Times on one core: digits ~5-8 s,
sentiment ~2 s, GPT ~2 min (800 steps), Llama ~2.7 min (900 steps).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from inferchain.bundle.demos import BUNDLES_DIR

BUILDERS = {
    "digits": "digits-cnn",
    "gpt": "tiny-gpt",
    "sentiment": "sentiment-bow",
    "llama": "tiny-llama",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("models", nargs="*", help=f"any of {', '.join(BUILDERS)} (default: all)")
    parser.add_argument("--out", type=Path, default=BUNDLES_DIR, help="parent directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gpt-steps", type=int, default=800)
    parser.add_argument("--llama-steps", type=int, default=900)
    args = parser.parse_args()
    unknown = sorted(set(args.models) - set(BUILDERS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {', '.join(BUILDERS)}")

    for key in args.models or list(BUILDERS):
        target = args.out / BUILDERS[key]
        started = time.perf_counter()
        if key == "digits":
            from inferchain.bundle.demos.digits import build_digits

            bundle = build_digits(target, seed=args.seed)
        elif key == "gpt":
            from inferchain.bundle.demos.tiny_gpt import build_gpt

            bundle = build_gpt(target, steps=args.gpt_steps, seed=args.seed)
        elif key == "llama":
            from inferchain.bundle.demos.tiny_llama import build_llama

            bundle = build_llama(target, steps=args.llama_steps, seed=args.seed)
        else:
            from inferchain.bundle.demos.sentiment import build_sentiment

            bundle = build_sentiment(target, seed=args.seed)
        elapsed = time.perf_counter() - started
        facts = {
            k: v for k, v in bundle.manifest.metadata.items() if "accuracy" in k or "loss" in k
        }
        print(
            f"{bundle.manifest.name:14} {bundle.size / 1e6:6.2f} MB  {elapsed:6.1f} s  "
            f"manifest sha256 {bundle.manifest_sha256}  {facts}"
        )


if __name__ == "__main__":
    main()
