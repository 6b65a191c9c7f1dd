#!/usr/bin/env python3
"""Inference throughput of the demo runtimes on whatever device is present.

    python scripts/bench_inference.py                 # CUDA if present, else CPU
    python scripts/bench_inference.py --threads 2 --json

Text generation: greedy, 64 new tokens per prompt, prompts of 5-15 tokens, KV cache on;
tokens/s counts generated tokens only, at batch 1, 4 and 16. Image classification: the
digits CNN on prepared 8x8 inputs (decoding excluded), images/s at batch 1 and 64.

hf-transformers (``hf_*``): a random-weight Llama built here (~20M parameters, through
``inferchain model import-hf``), greedy, 64 new tokens: tokens/s of one request; that over
a plain ``model.generate`` loop on the same model; 16 requests arriving staggered over 1 s,
served with continuous batching, against serving them one at a time with ``generate``
(throughput over the whole run); the median time to a request's first streamed text; and,
for comparison, transformers' own ``generate_batch`` on 16 requests at once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from inferchain.bundle import load_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.bundle.hf_import import import_hf
from inferchain.worker.runtimes import load_runtime
from inferchain.worker.runtimes._hf_rows import ATTENTION
from inferchain.worker.runtimes.hf_generation import HfGenerationRuntime

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.worker.runtimes.hf_tiny import save_model  # the tests' model builder

#: ~20M parameters: big enough that a decode step is matmuls, not Python overhead.
HF_SIZES = {
    "hidden_size": 512, "intermediate_size": 1536, "num_hidden_layers": 6,
    "num_attention_heads": 8, "num_key_value_heads": 4, "max_position_embeddings": 512,
}  # fmt: skip
HF_NEW_TOKENS = 64

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


def bench_hf(device: str | None, min_seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        source = save_model(Path(tmp) / "llama", "llama", **HF_SIZES)
        runtime = load_runtime(import_hf(source, Path(tmp) / "bundle"), device)
    assert isinstance(runtime, HfGenerationRuntime)
    requests = [
        runtime.prepare({"prompt": PROMPTS[i % len(PROMPTS)] * 2, "max_new_tokens": HF_NEW_TOKENS})
        for i in range(16)
    ]
    ours, plain = _interleaved(
        lambda: runtime.run(requests[:1])[0].result["completion_tokens"],
        lambda: _generate(runtime, requests[0]),
        min_seconds,
    )
    continuous, ttft = _staggered(runtime, requests)
    sequential = _sequential(runtime, requests)
    return {
        "hf_params_millions": sum(p.numel() for p in runtime.model.parameters()) / 1e6,
        "hf_tokens_per_s_batch_1": ours,
        "hf_generate_tokens_per_s_batch_1": plain,
        "hf_vs_generate_batch_1": ours / plain,
        "hf_continuous_tokens_per_s": continuous,
        "hf_sequential_tokens_per_s": sequential,
        "hf_continuous_vs_sequential": continuous / sequential,
        "hf_ttft_p50_ms": ttft * 1000,
        "hf_batch_16_tokens_per_s": _timed(
            lambda: sum(o.result["completion_tokens"] for o in runtime.run(requests)), 0
        ),
        "hf_generate_batch_16_tokens_per_s": _generate_batch(runtime, requests),
    }


def _interleaved(
    first: Callable[[], int], second: Callable[[], int], min_seconds: float
) -> tuple[float, float]:
    """Median units/s of two workloads run in turn, so a busy machine slows both alike."""
    first(), second()  # warm-up
    rates: tuple[list[float], list[float]] = ([], [])
    started = time.perf_counter()
    while time.perf_counter() - started < 2 * min_seconds or len(rates[0]) < 3:
        for work, out in ((first, rates[0]), (second, rates[1])):
            began = time.perf_counter()
            out.append(work() / (time.perf_counter() - began))
    return statistics.median(rates[0]), statistics.median(rates[1])


def _generate(runtime: HfGenerationRuntime, request: object) -> int:
    """One plain ``model.generate`` call (greedy, KV cache); returns tokens generated."""
    ids = torch.tensor([request.prompt_ids], device=runtime.device)  # type: ignore[attr-defined]
    with torch.inference_mode():
        out = runtime.model.generate(
            ids, max_new_tokens=HF_NEW_TOKENS, do_sample=False,
            eos_token_id=sorted(runtime.eos_ids), pad_token_id=2,
        )  # fmt: skip
    return int(out.shape[1] - ids.shape[1])


def _arrivals(count: int) -> list[float]:
    return [i / (count - 1) for i in range(count)]  # staggered over 1 s


def _staggered(runtime: HfGenerationRuntime, requests: list) -> tuple[float, float]:
    """Tokens/s over the whole run, and the median time to first text, one stream per thread."""
    runtime.run(requests[:2])  # warm-up
    tokens, firsts = [0] * len(requests), [0.0] * len(requests)
    started = time.perf_counter()

    def client(i: int, at: float) -> None:
        time.sleep(max(0.0, started + at - time.perf_counter()))
        arrived = time.perf_counter()
        stream = runtime.generate_stream(requests[i])
        next(stream)
        firsts[i] = time.perf_counter() - arrived
        while True:
            try:
                next(stream)
            except StopIteration as done:
                tokens[i] = done.value.result["completion_tokens"]
                return

    threads = [
        threading.Thread(target=client, args=(i, at))
        for i, at in enumerate(_arrivals(len(requests)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(tokens) / (time.perf_counter() - started), statistics.median(firsts)


def _sequential(runtime: HfGenerationRuntime, requests: list) -> float:
    """The same arrivals served one at a time with ``generate``: tokens/s over the run."""
    done, clock = 0, 0.0
    for request, at in zip(requests, _arrivals(len(requests)), strict=True):
        clock = max(clock, at)
        started = time.perf_counter()
        done += _generate(runtime, request)
        clock += time.perf_counter() - started
    return done / clock


def _generate_batch(runtime: HfGenerationRuntime, requests: list) -> float:
    """transformers' continuous batching on all 16 at once, its paged cache sized to fit."""
    from transformers import GenerationConfig
    from transformers.generation.configuration_utils import ContinuousBatchingConfig

    config = ContinuousBatchingConfig(
        num_blocks=128, page_size=16, max_batch_tokens=512, max_requests_per_batch=16
    )
    generation = GenerationConfig(
        max_new_tokens=HF_NEW_TOKENS, do_sample=False,
        eos_token_id=sorted(runtime.eos_ids)[0], pad_token_id=2,
    )  # fmt: skip
    prompts = [list(r.prompt_ids) for r in requests]
    model = runtime.model
    model.set_attn_implementation("sdpa")  # it refuses other attention functions
    try:
        model.generate_batch(prompts[:2], generation, config, warmup=False)
        started = time.perf_counter()
        out = model.generate_batch(prompts, generation, config, warmup=False)
        elapsed = time.perf_counter() - started
    finally:
        model.set_attn_implementation(ATTENTION)
    return sum(len(o.generated_tokens) for o in out.values()) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: auto)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum time per figure")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--only", choices=["demo", "hf"], help="one group of figures")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    figures: dict[str, float] = {}
    if args.only != "hf":
        figures |= bench_text(args.device, args.seconds) | bench_images(args.device, args.seconds)
        figures["batch_16_over_batch_1"] = (
            figures["tokens_per_s_batch_16"] / figures["tokens_per_s_batch_1"]
        )
    if args.only != "demo":
        figures |= bench_hf(args.device, args.seconds)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    info = {"device": device, "threads": torch.get_num_threads(), "torch": torch.__version__}
    if args.json:
        print(json.dumps({**info, **{k: round(v, 2) for k, v in figures.items()}}, sort_keys=True))
        return
    print(f"device {device}, {info['threads']} threads, torch {info['torch']}")
    for key, value in figures.items():
        print(f"  {key:34} {value:12.2f}")


if __name__ == "__main__":
    main()
