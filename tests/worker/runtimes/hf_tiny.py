"""Tiny random-weight Hugging Face models, saved with ``save_pretrained``: no hub, no network.

A byte-level BPE tokenizer is trained on a few sentences (well under a second) and saved
beside each model with a small chat template. Seeded, so every build gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    BertConfig,
    GPT2Config,
    LlamaConfig,
    PretrainedConfig,
    PreTrainedTokenizerFast,
    Qwen2Config,
)

VOCAB = 320
CONTEXT = 64
CHAT_TEMPLATE = (
    "{% for m in messages %}<s>{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<s>assistant:{% endif %}"
)
_CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "hello world, how are you today? I am fine, thank you.",
    "a model on the chain answers every question with a verified result",
] * 20


def tokenizer() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB,
        special_tokens=["<s>", "</s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def causal_config(arch: str, **sizes: int) -> PretrainedConfig:
    """A tiny config of ``arch``; ``sizes`` (Llama only) override its fields, for benchmarks."""
    ids = {"bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 2, "vocab_size": VOCAB}
    if arch == "llama":
        fields = dict(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=CONTEXT,
        )  # fmt: skip
        return LlamaConfig(**(fields | sizes), **ids)
    if arch == "qwen2":
        return Qwen2Config(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=CONTEXT, **ids,
        )  # fmt: skip
    if sizes:
        raise ValueError(f"sizes are for llama, not {arch}")
    if arch == "gpt2":
        return GPT2Config(n_embd=32, n_layer=2, n_head=4, n_positions=CONTEXT, **ids)
    raise ValueError(arch)


def bert_config(num_labels: int = 3) -> BertConfig:
    return BertConfig(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=CONTEXT, pad_token_id=2,
        num_labels=num_labels, id2label={i: f"label{i}" for i in range(num_labels)},
        label2id={f"label{i}": i for i in range(num_labels)},
    )  # fmt: skip


def save_model(out: Path, kind: str, *, seed: int = 0, **sizes: int) -> Path:
    """``kind``: llama, qwen2, gpt2 (causal LM), bert-cls (classifier) or bert (encoder).

    ``sizes`` override the Llama config's fields (``scripts/bench_inference.py``)."""
    torch.manual_seed(seed)
    if kind == "bert-cls":
        model = AutoModelForSequenceClassification.from_config(bert_config())
    elif kind == "bert":
        model = AutoModel.from_config(bert_config())
    else:
        model = AutoModelForCausalLM.from_config(causal_config(kind, **sizes))
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer().save_pretrained(out)
    return out


def edit_config(directory: Path, **changes: object) -> None:
    path = directory / "config.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


def tiny_runtimes(root: Path) -> dict[str, object]:
    """One CPU runtime per ``hf-transformers`` task, keyed ``hf-transformers:<task>``."""
    from inferchain.bundle.hf_import import import_hf
    from inferchain.worker.runtimes import load_runtime

    loaded = {}
    for kind in ("llama", "bert-cls", "bert"):
        bundle = import_hf(save_model(root / kind, kind), root / f"{kind}-bundle")
        loaded[f"{bundle.manifest.runtime}:{bundle.manifest.task}"] = load_runtime(bundle, "cpu")
    return loaded
