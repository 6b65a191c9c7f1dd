"""Demo: a 2-layer GPT (d=128) with a byte-level BPE, trained on the shipped public-domain corpus.

The default 800 steps take about two minutes on one CPU core and reproduce the corpus
closely (it is small enough to memorise); tests build a few-step model in seconds.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from inferchain.bundle.builder import finalize_bundle
from inferchain.bundle.bundle import Bundle
from inferchain.bundle.demos.corpus import load_corpus
from inferchain.worker.runtimes.gpt import GPT, GPTConfig
from scripts.demo_models._common import (
    fresh_dir,
    save_weights,
    seeded,
    train_language_model,
    write_json,
)

EOS = "<|endoftext|>"


def train_tokenizer(
    texts: list[str], vocab_size: int, specials: tuple[str, ...] = (EOS,)
) -> Tokenizer:
    """Byte-level BPE (GPT-2 style); ``specials`` take the first ids (``EOS``, id 0, is both
    BOS and EOS here)."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(specials),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def build_gpt(
    out: str | Path,
    *,
    steps: int = 800,
    batch_size: int = 8,
    context_length: int = 256,
    d_model: int = 128,
    n_layer: int = 2,
    n_head: int = 4,
    vocab_size: int = 1024,
    learning_rate: float = 3e-3,
    seed: int = 0,
    threads: int = 1,
) -> Bundle:
    root = fresh_dir(out)
    texts = [doc.training_text() for doc in load_corpus()]
    tokenizer = train_tokenizer(texts, vocab_size)
    eos = tokenizer.token_to_id(EOS)
    stream: list[int] = []
    for text in texts:
        stream += [eos, *tokenizer.encode(text).ids]
    data = torch.tensor(stream, dtype=torch.long)
    config = GPTConfig(
        vocab_size=tokenizer.get_vocab_size(),
        context_length=context_length,
        d_model=d_model,
        n_layer=n_layer,
        n_head=n_head,
        bos_token_id=eos,
        eos_token_id=eos,
    )
    with seeded(seed, threads) as generator:
        model = GPT(config)
        loss = train_language_model(
            model, model, data, steps, batch_size, context_length, learning_rate, generator
        )
    save_weights(model, root / "model.safetensors")
    tokenizer.save(str(root / "tokenizer.json"))
    write_json(
        root / "config.json",
        {
            "model": asdict(config),
            "limits": {"max_new_tokens": min(256, context_length - 1), "max_batch_size": 32},
        },
    )
    return finalize_bundle(
        root,
        name="tiny-gpt",
        version="1.0.0",
        task="text-generation",
        runtime="inferchain-gpt",
        license="MIT",
        dtype="float32",
        tokenizer="tokenizer.json",
        description=(
            f"A {n_layer}-layer GPT (d={d_model}, {config.vocab_size}-token byte-level BPE, "
            f"{context_length}-token context) trained on public-domain English poetry, speeches "
            "and prose shipped with Inferchain. A demo: it recites and remixes its corpus."
        ),
        input_schema=_input_schema(context_length),
        output_schema=_output_schema(),
        metadata={
            "corpus": "inferchain/bundle/demos/data/corpus.txt (public domain; see README there)",
            "corpus_tokens": len(stream),
            "steps": steps,
            "batch_size": batch_size,
            "seed": seed,
            "final_train_loss": round(loss, 4),
        },
    )


def _input_schema(context_length: int) -> dict[str, object]:
    return {
        "description": (
            "A JSON object (or a bare string: the prompt). Prompt tokens + 1 + max_new_tokens "
            f"must fit the {context_length}-token context. temperature 0 is greedy."
        ),
        "type": ["object", "string"],
        "properties": {
            "prompt": {"type": "string", "maxLength": 8192},
            "max_new_tokens": {"type": "integer", "minimum": 1, "default": 32},
            "temperature": {"type": "number", "minimum": 0, "maximum": 10, "default": 0},
            "top_k": {"type": "integer", "minimum": 0, "default": 0},
            "seed": {"type": "integer", "minimum": 0, "default": 0},
            "stop": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
        },
        "required": ["prompt"],
        "additionalProperties": False,
    }


def _output_schema() -> dict[str, object]:
    return {
        "type": "object",
        "description": "result field of the output document",
        "properties": {
            "text": {"type": "string"},
            "tokens": {"type": "array", "items": {"type": "integer"}},
            "finish_reason": {"enum": ["length", "stop", "eos"]},
            "prompt_tokens": {"type": "integer"},
            "completion_tokens": {"type": "integer"},
        },
        "required": ["text", "tokens", "finish_reason", "prompt_tokens", "completion_tokens"],
    }
