"""Hostile job inputs against every runtime's ``prepare``: it accepts or raises ``InvalidInput``
(the requester's fault: reported on-chain, no slash), never anything else (which the worker
would take for its own failure, retry and, at the deadline, be slashed for).

And ``outputs_agree`` on hostile output documents answers, never raises.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from inferchain.bundle import InvalidInput, load_bundle
from inferchain.bundle.demos import BUNDLES_DIR
from inferchain.worker.runtimes import RUNTIMES, Runtime, load_runtime, outputs_agree
from tests import hostile
from tests.worker.runtimes.hf_tiny import tiny_runtimes

EXAMPLES = 150

#: Every key some runtime reads, so that generated objects reach the parameter checks.
FIELDS = ["prompt", "max_new_tokens", "temperature", "top_k", "seed", "stop", "text", "image",
          "array", "task", "model", "result", "predictions", "index", "probability",
          "messages", "role", "content", "type", "top_p", "embedding"]  # fmt: skip
IMAGE_MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"]

values = hostile.json_values(FIELDS)
numbers = st.integers() | hostile.huge_ints | st.floats() | st.booleans() | st.none()
grids = st.lists(st.lists(numbers | st.floats(0, 1), min_size=1, max_size=9), max_size=9)
message = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "system", "x"]) | values,
        "content": st.text(max_size=32) | st.lists(values, max_size=3) | values,
    }
)
shaped = st.one_of(
    st.fixed_dictionaries(
        {"prompt": st.text(max_size=64)},
        optional={k: values | numbers for k in ("max_new_tokens", "temperature", "top_k", "seed")}
        | {"stop": values},
    ),
    st.fixed_dictionaries({"text": st.text(max_size=64)}, optional={"top_k": values | numbers}),
    st.fixed_dictionaries(
        {"messages": st.lists(message | values, max_size=4) | values},
        optional={"top_p": values | numbers, "prompt": values},
    ),
    st.fixed_dictionaries({"array": grids | values}, optional={"top_k": values | numbers}),
    st.fixed_dictionaries({"image": values | st.binary(max_size=64).map(lambda b: b.hex())}),
)
inputs = st.one_of(
    hostile.bodies(FIELDS),
    shaped.map(hostile.encode),
    st.tuples(st.sampled_from(IMAGE_MAGIC), st.binary(max_size=512)).map(lambda p: p[0] + p[1]),
)


@pytest.fixture(scope="module")
def mlp(tmp_path_factory) -> Runtime:  # type: ignore[no-untyped-def]
    """inferchain-mlp on digits-mlp, its circuit built as publish does (EZKL, ~10 s)."""
    from inferchain.zk.publish import prepare_bundle

    tmp = tmp_path_factory.mktemp("zk")
    root = Path(shutil.copytree(BUNDLES_DIR / "digits-mlp", tmp / "digits-mlp"))
    prepare_bundle(root, tmp / "work")
    return load_runtime(load_bundle(root), "cpu")


@pytest.fixture(scope="module")
def runtimes(gpt, digits, sentiment, mlp, tmp_path_factory) -> dict[str, Runtime]:  # type: ignore[no-untyped-def]
    loaded = {r.name: r for r in (gpt, digits, sentiment, mlp)}
    loaded |= tiny_runtimes(tmp_path_factory.mktemp("hf"))  # one per task
    # every runtime the worker can load is fuzzed
    assert {name.split(":")[0] for name in loaded} == set(RUNTIMES)
    return loaded


@settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
@given(raw=inputs)
@example(raw=hostile.DEEP)  # issue 11
@example(raw=b'{"array": [[' + b"9" * 400 + b"]]}")  # past a double: numpy overflowed
@example(raw=b'{"prompt": "x", "temperature": -' + b"9" * 400 + b"}")
@example(raw=b'{"text": "\\ud800"}')
def test_prepare_hostile_input_raises_only_invalid_input(runtimes, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    for name, runtime in runtimes.items():
        try:
            runtime.prepare(raw)
        except InvalidInput:
            pass
        except Exception as exc:  # the assertion names the runtime and the input
            raise AssertionError(f"{name}: {type(exc).__name__} on {raw[:200]!r}") from exc


@settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
@given(first=inputs, second=inputs)
def test_outputs_agree_hostile_documents_never_raise(first: bytes, second: bytes) -> None:
    assert outputs_agree(first, second) in (True, False)
    assert outputs_agree(first, first) in (True, False)
