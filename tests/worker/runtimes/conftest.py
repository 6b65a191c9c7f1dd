"""Runtimes loaded from the committed demo bundles, on CPU, one thread (tiny models run faster)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from inferchain.bundle import load_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.worker.runtimes import load_runtime
from inferchain.worker.runtimes.image_classification import ImageClassificationRuntime
from inferchain.worker.runtimes.text_classification import TextClassificationRuntime
from inferchain.worker.runtimes.text_generation import TextGenerationRuntime


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def gpt(_one_thread: None) -> TextGenerationRuntime:
    runtime = load_runtime(load_bundle(demo_bundle_path("tiny-gpt")), "cpu")
    assert isinstance(runtime, TextGenerationRuntime)
    return runtime


@pytest.fixture(scope="session")
def digits(_one_thread: None) -> ImageClassificationRuntime:
    runtime = load_runtime(load_bundle(demo_bundle_path("digits-cnn")), "cpu")
    assert isinstance(runtime, ImageClassificationRuntime)
    return runtime


@pytest.fixture(scope="session")
def sentiment(_one_thread: None) -> TextClassificationRuntime:
    runtime = load_runtime(load_bundle(demo_bundle_path("sentiment-bow")), "cpu")
    assert isinstance(runtime, TextClassificationRuntime)
    return runtime
