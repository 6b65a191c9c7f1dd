#!/usr/bin/env python3
"""Inference throughput of the demo runtimes on whatever device is present.

    python scripts/bench_inference.py                 # CUDA if present, else CPU
    python scripts/bench_inference.py --threads 2 --json

Text generation: greedy, 64 new tokens per prompt, prompts of 5-15 tokens, KV cache on;
tokens/s counts generated tokens only, at batch 1, 4 and 16. Image classification: the
digits CNN on prepared 8x8 inputs (decoding excluded), images/s at batch 1 and 64.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
import torch

from inferchain.bundle import load_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.worker.runtimes import load_runtime

PROMPTS = [
    "Once upon a midnight dreary",
    "We hold these truths to be self-evident",
    "Shall I compare thee to a summer's day",
    "It was the best of times",
    "Four score and seven years ago",
    "Tyger Tyger, burning bright",
    "Call me Ishmael. Some years ago",
    "Half a league, half a league",
]


def _timed(work: Callable[[], int], min_seconds: float) -> float:
    """Units per second of ``work`` (which returns units done), repeated for ``min_seconds``."""
    work()  # warm-up: allocator, kernels, caches
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < min_seconds or done == 0:
        done += work()
    return done / elapsed


def bench_text(device: str | None, min_seconds: float) -> dict[str, float]:
    runtime = load_runtime(load_bundle(demo_bundle_path("tiny-gpt")), device)
    results = {}
    for batch in (1, 4, 16):
        requests = [
            runtime.prepare({"prompt": PROMPTS[i % len(PROMPTS)], "max_new_tokens": 64})
            for i in range(batch)
        ]

        def work(requests=requests) -> int:
            return sum(o.result["completion_tokens"] for o in runtime.run(requests))

        results[f"tokens_per_s_batch_{batch}"] = _timed(work, min_seconds)
    return results


def bench_images(device: str | None, min_seconds: float) -> dict[str, float]:
    runtime = load_runtime(load_bundle(demo_bundle_path("digits-cnn")), device)
    pixels = np.random.default_rng(0).random((64, 8, 8))
    results = {}
    for batch in (1, 64):
        requests = [runtime.prepare(pixels[i]) for i in range(batch)]

        def work(requests=requests) -> int:
            return len(runtime.run(requests))

        results[f"images_per_s_batch_{batch}"] = _timed(work, min_seconds)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: auto)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum time per figure")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    figures = {**bench_text(args.device, args.seconds), **bench_images(args.device, args.seconds)}
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    info = {"device": device, "threads": torch.get_num_threads(), "torch": torch.__version__}
    figures["batch_16_over_batch_1"] = (
        figures["tokens_per_s_batch_16"] / figures["tokens_per_s_batch_1"]
    )
    if args.json:
        print(json.dumps({**info, **{k: round(v, 1) for k, v in figures.items()}}, sort_keys=True))
        return
    print(f"device {device}, {info['threads']} threads, torch {info['torch']}")
    for key, value in figures.items():
        print(f"  {key:28} {value:12.1f}")


if __name__ == "__main__":
    main()
