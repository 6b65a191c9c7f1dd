"""Continuous batching of ``hf-transformers`` generation: shared decode steps, same bytes.

Determinism is checked where it is decided: the logits a request's tokens are picked from
must be bit-identical alone and beside any neighbours (joining before it, mid-decode, or
leaving early), with one or two CPU threads, for each causal architecture.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from torch import Tensor
from transformers import AutoModelForCausalLM
from transformers.pytorch_utils import Conv1D

from inferchain.bundle.hf_import import import_hf
from inferchain.worker.runtimes import load_runtime
from inferchain.worker.runtimes._hf_rows import (
    per_row_layers,
    per_row_products,
    unsupported,
    use_rows,
)
from inferchain.worker.runtimes.hf_generation import (
    MAX_ROWS,
    HfGenerationRequest,
    HfGenerationRuntime,
)
from inferchain.worker.runtimes.hf_scheduler import DecodeScheduler
from tests.worker.runtimes.hf_tiny import CONTEXT, causal_config, edit_config, save_model

CAUSAL = ("llama", "qwen2", "gpt2")


@pytest.fixture(scope="module")
def runtimes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, HfGenerationRuntime]:
    root = tmp_path_factory.mktemp("hf-batching")
    loaded = {}
    for kind in CAUSAL:
        runtime = load_runtime(import_hf(save_model(root / kind, kind), root / f"{kind}-b"), "cpu")
        assert isinstance(runtime, HfGenerationRuntime)
        loaded[kind] = runtime
    return loaded


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def threads(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(previous)


def _request(runtime: HfGenerationRuntime, prompt: str, **params: object) -> HfGenerationRequest:
    return runtime.prepare({"prompt": prompt, **params})


def _drain(stream: Iterator[str]) -> bytes:
    while True:
        try:
            next(stream)
        except StopIteration as done:
            return done.value.to_bytes()


class _Recorder:
    """The runtime's own token choice, keeping the logits each pick was made from."""

    def __init__(self, choose: object) -> None:
        self.choose, self.logits = choose, {}  # type: ignore[var-annotated]

    def __call__(self, logits: Tensor, request: object, generator: torch.Generator) -> int:
        self.logits.setdefault(id(request), []).append(logits.clone())
        return self.choose(logits, request, generator)  # type: ignore[operator]


def _scheduler(runtime: HfGenerationRuntime, max_rows: int = 16) -> DecodeScheduler:
    from inferchain.worker.runtimes.hf_generation import _choose

    return DecodeScheduler(
        runtime.model, runtime.device, _Recorder(_choose), runtime.eos_ids, max_rows=max_rows
    )


def _tokens(scheduler: DecodeScheduler, tickets: list) -> list[list[int]]:
    """Read every ticket in turn, as ``run(batch)`` does, until all have ended."""
    out: list[list[int]] = [[] for _ in tickets]
    live = set(range(len(tickets)))
    while live:
        for i in sorted(live):
            got = scheduler.take(tickets[i])
            out[i] += got
            if not got:
                live.discard(i)
    return out


@pytest.mark.parametrize("kind", CAUSAL)
def test_logits_are_bit_identical_whatever_shares_the_batch(
    runtimes: dict[str, HfGenerationRuntime], kind: str, threads: int
) -> None:
    runtime = runtimes[kind]
    mine = _request(runtime, "hello world, how are you", max_new_tokens=10)
    others = [
        _request(runtime, "a", max_new_tokens=3),
        _request(runtime, "the quick brown fox jumps over the lazy dog", max_new_tokens=12),
        _request(runtime, "thank you", temperature=0.9, seed=3, max_new_tokens=7),
        _request(runtime, "hello", max_new_tokens=1),
        _request(runtime, "a model on the chain", max_new_tokens=9),
    ]

    def logits_with(before: list, during: list) -> list[Tensor]:
        scheduler = _scheduler(runtime)
        first = [scheduler.submit(r) for r in before]
        watched = scheduler.submit(mine)
        tokens = scheduler.take(watched) + scheduler.take(watched)  # two steps alone-ish
        later = [scheduler.submit(r) for r in during]  # join mid-decode
        rest = _tokens(scheduler, [watched, *first, *later])[0]
        assert len(tokens + rest) == mine.max_new_tokens or runtime.eos_ids & set(rest)
        return scheduler._choose.logits[id(mine)]  # type: ignore[attr-defined]

    alone = logits_with([], [])
    for before, during in ([others[:1], []], [others[:3], others[3:]], [[], others]):
        beside = logits_with(before, during)
        assert len(beside) == len(alone)
        for step, (a, b) in enumerate(zip(alone, beside, strict=True)):
            assert torch.equal(a, b), f"{kind}, step {step}: max |diff| {(a - b).abs().max()}"


@pytest.mark.parametrize("conv1d", [False, True], ids=["linear", "conv1d"])
@pytest.mark.parametrize("shape", [(32, 64), (64, 32), (320, 32), (1536, 512), (512, 1536)])
def test_per_row_layer_gives_a_row_the_same_bits_at_any_row_count_and_place(
    shape: tuple[int, int], conv1d: bool, threads: int
) -> None:
    """The claim a CPU decode step rests on, at the tests' and the benchmark's sizes."""
    out_features, in_features = shape
    torch.manual_seed(0)
    layer = (
        Conv1D(out_features, in_features) if conv1d else torch.nn.Linear(in_features, out_features)
    )
    torch.nn.init.normal_(layer.bias)
    per_row_layers(layer)
    x = torch.randn(MAX_ROWS, 1, in_features)  # a decode step's input: [rows, 1 token, in]
    with torch.inference_mode():
        plain = layer(x)
        with per_row_products():
            alone = [layer(x[i : i + 1])[0] for i in range(MAX_ROWS)]
            for count in range(2, MAX_ROWS + 1):
                for order in (range(count), range(count - 1, -1, -1)):  # every place in the step
                    rows = layer(x[list(order)])
                    for place, i in enumerate(order):
                        assert torch.equal(rows[place], alone[i]), f"row {i} of {count} differs"
        # outside the block the layer is the plain one, bit for bit
        if conv1d:
            reference = torch.addmm(layer.bias, x[:, 0], layer.weight)[:, None]
        else:
            reference = torch.nn.functional.linear(x, layer.weight, layer.bias)
        assert torch.equal(plain, reference)
        assert torch.allclose(torch.stack(alone), plain, atol=1e-5)


@pytest.mark.parametrize("kind", CAUSAL)
def test_output_bytes_match_alone_when_neighbours_join_mid_stream(
    runtimes: dict[str, HfGenerationRuntime], kind: str, threads: int
) -> None:
    runtime = runtimes[kind]
    for params in ({}, {"temperature": 0.8, "top_p": 0.9, "seed": 11}):
        mine = _request(runtime, "the quick brown", max_new_tokens=14, **params)
        alone = _drain(runtime.generate_stream(mine))
        stream = runtime.generate_stream(mine)
        next(stream)
        neighbours = [
            runtime.generate_stream(_request(runtime, p, max_new_tokens=n))
            for p, n in (("hello", 5), ("a model on the chain answers", 20), ("x", 2))
        ]
        for other in neighbours:
            next(other)  # each joins the running batch here, mid-way through mine
        assert _drain(stream) == alone
        for other in neighbours:
            other.close()


def test_batched_jobs_share_decode_steps(runtimes: dict[str, HfGenerationRuntime]) -> None:
    runtime = runtimes["llama"]
    assert runtime.scheduler is not None and runtime.per_job_reason is None
    requests = [_request(runtime, p, max_new_tokens=8) for p in ("a", "hello", "thank you")]
    before = runtime.scheduler.steps
    outputs = runtime.run(requests)
    made = sum(o.result["completion_tokens"] for o in outputs)
    # one prefill per job makes its first token; the rest came from shared decode steps
    assert made > 3
    assert (
        runtime.scheduler.steps - before == max(o.result["completion_tokens"] for o in outputs) - 1
    )
    assert runtime.scheduler.running == 0


def test_jobs_over_max_rows_wait_for_a_free_row(runtimes: dict[str, HfGenerationRuntime]) -> None:
    runtime = runtimes["qwen2"]
    requests = [_request(runtime, f"hello {i}", max_new_tokens=2 + i) for i in range(5)]
    alone = []
    for request in requests:
        scheduler = _scheduler(runtime)
        alone += _tokens(scheduler, [scheduler.submit(request)])
    narrow = _scheduler(runtime, max_rows=2)
    tickets = [narrow.submit(r) for r in requests]
    seen = []
    out: list[list[int]] = [[] for _ in tickets]
    while any(not t.finished or t.pending for t in tickets):
        for i, ticket in enumerate(tickets):
            out[i] += narrow.take(ticket)
            seen.append(narrow.running)
    assert max(seen) <= 2
    assert out == alone


def test_a_stopped_job_leaves_the_batch(runtimes: dict[str, HfGenerationRuntime]) -> None:
    runtime = runtimes["gpt2"]
    scheduler = runtime.scheduler
    assert scheduler is not None
    # "hello" makes settled text at once on this model, so each next() takes one token
    long = runtime.generate_stream(_request(runtime, "hello", max_new_tokens=30))
    short = runtime.generate_stream(_request(runtime, "hello", max_new_tokens=29))
    next(long), next(short)
    assert scheduler.running == 2
    short.close()  # what a stop string does
    assert scheduler.running == 1
    next(long)
    long.close()
    assert scheduler.running == 0


def test_sliding_window_model_decodes_each_job_alone(tmp_path: Path) -> None:
    source = save_model(tmp_path / "mistral-like", "qwen2")
    edit_config(source, use_sliding_window=True, sliding_window=8, max_window_layers=0)
    runtime = load_runtime(import_hf(source, tmp_path / "bundle"), "cpu")
    assert isinstance(runtime, HfGenerationRuntime)
    assert runtime.scheduler is None
    assert "sliding" in str(runtime.per_job_reason)
    mine = _request(runtime, "hello world", max_new_tokens=6)
    (output,) = runtime.run([mine])
    assert output.result["completion_tokens"] == len(output.result["tokens"]) > 0
    assert runtime.run([_request(runtime, "a", max_new_tokens=4), mine])[1] == output


def test_a_linear_subclass_makes_cpu_jobs_decode_alone() -> None:
    """A layer type the per-row switch does not know (quantized, LoRA) would mix rows."""
    model = AutoModelForCausalLM.from_config(causal_config("llama"), attn_implementation="sdpa")
    assert unsupported(model, CONTEXT) is None
    use_rows(model)
    assert unsupported(model, CONTEXT) is None  # its own per-row layers are fine

    class LoraLinear(torch.nn.Linear):
        pass

    model.model.layers[0].mlp.up_proj.__class__ = LoraLinear
    assert unsupported(model, CONTEXT) == "layers ['LoraLinear'] cannot multiply per row on CPU"


def test_streams_read_from_threads_share_steps_and_keep_their_bytes(
    runtimes: dict[str, HfGenerationRuntime],
) -> None:
    runtime = runtimes["llama"]
    scheduler = runtime.scheduler
    assert scheduler is not None
    requests = [
        _request(runtime, p, max_new_tokens=24, temperature=0.5 * i, seed=i)
        for i, p in enumerate(("hello", "the quick brown fox", "thank you", "a model"))
    ]
    alone = [_drain(runtime.generate_stream(r)) for r in requests]
    got: list[bytes] = [b""] * len(requests)
    before = scheduler.steps
    start = threading.Barrier(len(requests))

    def client(i: int) -> None:
        start.wait()
        got[i] = _drain(runtime.generate_stream(requests[i]))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert got == alone
    # alone, the four took up to 4 x 23 decode steps; together they shared them
    assert scheduler.steps - before < 2 * 23
    assert scheduler.running == 0
