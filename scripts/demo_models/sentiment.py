"""Demo: a bag-of-tokens sentiment classifier on short reviews generated from templates.

The reviews are written by this module (seeded), so the dataset needs no download and no
licence beyond the project's. It is a demo of the runtime, not a useful sentiment model.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from torch.nn import functional as F

from inferchain.bundle.builder import finalize_bundle
from inferchain.bundle.bundle import Bundle
from inferchain.worker.runtimes.bow import BagOfTokens, BowConfig
from scripts.demo_models._common import (
    classification_output_schema,
    fresh_dir,
    save_weights,
    seeded,
    write_json,
)

LABELS = ["negative", "positive"]

_SUBJECTS = [
    "the film",
    "the movie",
    "the food",
    "the service",
    "the hotel",
    "the book",
    "the concert",
    "the staff",
    "this phone",
    "the game",
    "the room",
    "the coffee",
    "the ending",
    "the acting",
    "the plot",
    "the music",
    "the delivery",
    "the app",
    "the show",
    "the restaurant",
    "the tour",
    "the camera",
    "the laptop",
    "the soup",
    "the museum",
    "the flight",
    "the lecture",
]
_WORDS = {
    "positive": {
        "adj": [
            "wonderful",
            "excellent",
            "delightful",
            "superb",
            "fantastic",
            "great",
            "lovely",
            "brilliant",
            "charming",
            "amazing",
            "enjoyable",
            "outstanding",
            "pleasant",
            "impressive",
            "perfect",
            "fresh",
            "friendly",
            "beautiful",
            "helpful",
            "memorable",
        ],
        "verb": ["loved", "enjoyed", "adored", "liked", "appreciated", "treasured"],
        "close": [
            "I would happily go back.",
            "Highly recommended.",
            "Worth every penny.",
            "I will tell my friends.",
            "Five stars.",
            "It made my day.",
        ],
    },
    "negative": {
        "adj": [
            "terrible",
            "awful",
            "dreadful",
            "boring",
            "horrible",
            "disappointing",
            "poor",
            "bland",
            "rude",
            "broken",
            "annoying",
            "mediocre",
            "painful",
            "dull",
            "ugly",
            "noisy",
            "stale",
            "slow",
            "useless",
            "forgettable",
        ],
        "verb": ["hated", "disliked", "regretted", "loathed", "endured", "resented"],
        "close": [
            "Never again.",
            "A waste of money.",
            "I want a refund.",
            "Avoid it.",
            "One star.",
            "It ruined my evening.",
        ],
    },
}
_ADVERBS = ["really", "truly", "very", "quite", "simply", "so", "rather", "incredibly"]
_TEMPLATES = [
    "{S} was {a}.",
    "I found {s} {a} and {b}.",
    "Honestly, {s} felt {v} {a}. {c}",
    "I {verb} {s}. {c}",
    "What a {a} experience, {s} was {v} {b}.",
    "{S} is {v} {a}, and the rest was {b} too.",
    "We {verb} {s}; it was {a}.",
    "My friends said {s} was {a}. {c}",
]


def make_reviews(count: int, seed: int) -> list[tuple[str, int]]:
    """``count`` (review, label index) pairs, half of each label, from a seeded generator."""
    rng = random.Random(seed)
    reviews = []
    for i in range(count):
        label = LABELS[i % 2]
        words = _WORDS[label]
        subject = rng.choice(_SUBJECTS)
        text = rng.choice(_TEMPLATES).format(
            S=subject.capitalize(),
            s=subject,
            a=rng.choice(words["adj"]),
            b=rng.choice(words["adj"]),
            v=rng.choice(_ADVERBS),
            verb=rng.choice(words["verb"]),
            c=rng.choice(words["close"]),
        )
        reviews.append((text, i % 2))
    rng.shuffle(reviews)
    return reviews


def train_tokenizer(texts: list[str], vocab_size: int) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def sentiment_split(seed: int = 0) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(train, held_out) reviews; held-out sentences never occur in the training set."""
    reviews = list(dict.fromkeys(make_reviews(3000, seed)))
    train, held_out = reviews[: int(len(reviews) * 0.8)], reviews[int(len(reviews) * 0.8) :]
    seen = {text for text, _ in train}
    return train, [r for r in held_out if r[0] not in seen]


def build_sentiment(out: str | Path, *, epochs: int = 8, seed: int = 0, threads: int = 1) -> Bundle:
    """Train and write the bundle; about a second on one CPU core."""
    root = fresh_dir(out)
    train, held_out = sentiment_split(seed)
    tokenizer = train_tokenizer([text for text, _ in train], vocab_size=600)
    config = BowConfig(vocab_size=tokenizer.get_vocab_size(), embed_dim=32, hidden=32, num_labels=2)

    def encode(rows: list[tuple[str, int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ids = [tokenizer.encode(text).ids for text, _ in rows]
        offsets = torch.tensor([0, *torch.tensor([len(i) for i in ids]).cumsum(0).tolist()[:-1]])
        flat = torch.tensor([t for row in ids for t in row])
        return flat, offsets, torch.tensor([label for _, label in rows])

    with seeded(seed, threads) as generator:
        model = BagOfTokens(config)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(epochs):
            order = torch.randperm(len(train), generator=generator).tolist()
            for start in range(0, len(order), 32):
                tokens, offsets, labels = encode([train[i] for i in order[start : start + 32]])
                loss = F.cross_entropy(model(tokens, offsets), labels)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        model.eval()
        with torch.no_grad():
            tokens, offsets, labels = encode(held_out)
            accuracy = float((model(tokens, offsets).argmax(1) == labels).float().mean())
    save_weights(model, root / "model.safetensors")
    tokenizer.save(str(root / "tokenizer.json"))
    write_json(root / "config.json", {"model": asdict(config), "labels": LABELS, "limits": {}})
    return finalize_bundle(
        root,
        name="sentiment-bow",
        version="1.0.0",
        task="text-classification",
        runtime="inferchain-bow",
        license="MIT",
        dtype="float32",
        tokenizer="tokenizer.json",
        description=(
            "Positive/negative sentiment of short English reviews; a bag-of-tokens demo "
            "trained on template-generated sentences."
        ),
        input_schema={
            "description": "A JSON object, or a bare string: the text.",
            "type": ["object", "string"],
            "properties": {
                "text": {"type": "string", "maxLength": 8192},
                "top_k": {"type": "integer", "minimum": 1, "maximum": len(LABELS)},
            },
            "required": ["text"],
            "additionalProperties": False,
        },
        output_schema=classification_output_schema(LABELS),
        metadata={
            # The builder's old module name, kept so a rebuild matches the committed bytes.
            "dataset": "template-generated reviews (inferchain.bundle.demos.sentiment)",
            "held_out_accuracy": round(accuracy, 4),
            "held_out_size": len(held_out),
            "seed": seed,
            "epochs": epochs,
        },
    )
