"""Demo builders: reproducible bytes, working bundles; committed bundles and corpus are sound."""

from __future__ import annotations

import re

import pytest
import torch

from inferchain.bundle import load_bundle
from inferchain.bundle.demos import DEMO_NAMES, demo_bundle_path
from inferchain.bundle.demos.corpus import CORPUS_PATH, load_corpus
from inferchain.bundle.demos.digits import build_digits
from inferchain.bundle.demos.sentiment import build_sentiment
from inferchain.bundle.demos.tiny_gpt import build_gpt
from inferchain.bundle.demos.tiny_llama import build_llama, chats
from inferchain.worker.runtimes import load_runtime


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.mark.parametrize("name", DEMO_NAMES)
def test_committed_demo_bundle_validates(name: str) -> None:
    bundle = load_bundle(demo_bundle_path(name))
    assert bundle.manifest.name == name
    assert bundle.size < 3_000_000
    accuracy = bundle.manifest.metadata.get("held_out_accuracy")
    assert accuracy is None or accuracy >= 0.95


def test_build_digits_twice_gives_identical_bundle(tmp_path) -> None:
    first = build_digits(tmp_path / "a", epochs=2)
    second = build_digits(tmp_path / "b", epochs=2)
    assert first.manifest_sha256 == second.manifest_sha256
    assert first.manifest.metadata["held_out_accuracy"] > 0.5


def test_build_sentiment_twice_gives_identical_bundle(tmp_path) -> None:
    first = build_sentiment(tmp_path / "a", epochs=1)
    second = build_sentiment(tmp_path / "b", epochs=1)
    assert first.manifest_sha256 == second.manifest_sha256


def test_build_tiny_gpt_few_steps_generates(tmp_path) -> None:
    kwargs = {"steps": 3, "context_length": 32, "d_model": 32, "n_head": 2, "vocab_size": 300}
    first = build_gpt(tmp_path / "a", **kwargs)
    assert first.manifest_sha256 == build_gpt(tmp_path / "b", **kwargs).manifest_sha256
    runtime = load_runtime(first, "cpu")
    output = runtime.run([runtime.prepare({"prompt": "Hope", "max_new_tokens": 5})])[0]
    assert 1 <= output.result["completion_tokens"] <= 5


def test_build_tiny_llama_few_steps_is_an_hf_bundle_that_generates_and_chats(tmp_path) -> None:
    kwargs = {"steps": 3, "context_length": 32, "hidden_size": 32, "intermediate_size": 64,
              "n_head": 2, "n_kv_head": 1, "vocab_size": 300}  # fmt: skip
    first = build_llama(tmp_path / "a", **kwargs)
    assert first.manifest_sha256 == build_llama(tmp_path / "b", **kwargs).manifest_sha256
    manifest = first.manifest
    assert (manifest.name, manifest.runtime, manifest.task) == (
        "tiny-llama",
        "hf-transformers",
        "text-generation",
    )
    assert manifest.metadata["architecture"] == "LlamaForCausalLM"
    assert manifest.metadata["steps"] == 3
    assert {"chat_template.jinja", "generation_config.json"} <= set(manifest.files)
    assert first.config()["limits"]["context_length"] == 32
    runtime = load_runtime(first, "cpu")
    chat = {"messages": [{"role": "user", "content": "Who wrote Ozymandias?"}]}
    for job in ({"prompt": "Hope", "max_new_tokens": 5}, {**chat, "max_new_tokens": 5}):
        output = runtime.run([runtime.prepare(job)])[0]
        assert output.runtime["name"] == "hf-transformers"
        assert output.result["prompt_tokens"] > 1 and output.result["completion_tokens"] <= 5
    prompt_only = runtime.prepare({"prompt": "Hope", "max_new_tokens": 5})
    chatted = runtime.prepare({**chat, "max_new_tokens": 5})
    start = runtime.tokenizer.bos_token_id
    assert prompt_only.prompt_ids[0] == start and chatted.prompt_ids[0] == start
    assert chatted.prompt_ids[1:].count(start) == 0  # the template's start token, once


def test_committed_tiny_llama_recites_its_corpus_and_answers_its_chats() -> None:
    """Greedy, through the hf-transformers runtime: corpus openings continue as written, and
    most trained chats are answered as trained (random weights would score ~0 on both)."""
    runtime = load_runtime(load_bundle(demo_bundle_path("tiny-llama")), "cpu")
    documents = load_corpus()
    continued = answered = 0
    for doc in documents:
        words = list(re.finditer(r"\S+", doc.text))
        prompt = doc.text[: words[5].end()]  # six words, line breaks kept
        job = runtime.prepare({"prompt": prompt, "max_new_tokens": 16})
        text = runtime.run([job])[0].result["text"]
        continued += text.split()[:3] == [w.group() for w in words[6:9]]
        question, answer = list(chats(doc))[1]  # "Who wrote <title>?"
        job = runtime.prepare({"messages": [question], "max_new_tokens": 24})
        answered += runtime.run([job])[0].result["text"].strip() == answer["content"]
    assert continued >= 0.6 * len(documents)
    assert answered >= 0.5 * len(documents)


def test_build_refuses_to_overwrite_a_non_bundle_directory(tmp_path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        build_digits(tmp_path, epochs=1)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_build_replaces_an_old_bundle(tmp_path) -> None:
    build_sentiment(tmp_path / "s", epochs=1)
    assert build_sentiment(tmp_path / "s", epochs=1).path == tmp_path / "s"


def test_corpus_is_small_attributed_public_domain_text() -> None:
    documents = load_corpus()
    assert len(documents) >= 40
    assert CORPUS_PATH.stat().st_size < 300_000
    for doc in documents:
        assert doc.title and doc.author and doc.text
        assert min(int(y) for y in doc.year.replace(" and ", " ").split()) < 1929
