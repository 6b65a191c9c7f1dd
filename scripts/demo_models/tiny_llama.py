"""Demo: a small Llama (transformers ``LlamaForCausalLM``) trained on the shipped corpus.

Built the way a provider brings a real model: ``save_pretrained`` (safetensors, a fast
tokenizer with a chat template, a generation config) into a scratch directory, then
:func:`~inferchain.bundle.hf_import.import_hf` turns it into an ``hf-transformers`` bundle.
No hub: the byte-level BPE is trained here. Besides the corpus, the model sees short chats
made from it ("Recite <title>." → the opening lines; "Who wrote <title>?" → author and
year), so that a chat through its template reaches text it knows.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import torch
from tokenizers import Tokenizer, processors
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
from transformers.utils import logging as hf_logging

from inferchain.bundle.bundle import Bundle
from inferchain.bundle.demos.corpus import Document, load_corpus
from inferchain.bundle.hf_import import import_hf
from scripts.demo_models._common import fresh_dir, seeded, train_language_model
from scripts.demo_models.tiny_gpt import EOS, train_tokenizer

NAME = "tiny-llama"
#: A special token per chat role the runtime accepts, and the end of a turn.
ROLES = ("system", "user", "assistant", "tool")
END = "<|end|>"
SPECIALS = (EOS, END, *(f"<|{role}|>" for role in ROLES))
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
OPENING_CHARS = 120


def chats(doc: Document) -> Iterator[list[dict[str, str]]]:
    """The chats the model learns from one document: its opening, and who wrote it."""
    yield [
        {"role": "user", "content": f"Recite {doc.title}."},
        {"role": "assistant", "content": opening(doc.text)},
    ]
    yield [
        {"role": "user", "content": f"Who wrote {doc.title}?"},
        {"role": "assistant", "content": f"{doc.author}, in {doc.year}."},
    ]


def opening(text: str, chars: int = OPENING_CHARS) -> str:
    """Whole lines (verse) or sentences (prose) from the start, at least ``chars`` long."""
    end = 0
    while end < min(chars, len(text)):
        breaks = [i for i in (text.find("\n", end), text.find(". ", end)) if i >= 0]
        end = min(breaks) + 1 if breaks else len(text)
    return text[:end].strip()


def hf_tokenizer(texts: list[str], vocab_size: int, context: int) -> PreTrainedTokenizerFast:
    """The byte-level BPE of ``tiny-gpt`` plus the chat tokens, as transformers loads it.

    A prompt gets the start token, as in training (Llama's habit); the chat template writes
    its own."""
    tokenizer: Tokenizer = train_tokenizer(texts, vocab_size, specials=SPECIALS)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{EOS} $A", pair=f"{EOS} $A {EOS} $B", special_tokens=[(EOS, 0)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=EOS,
        eos_token=EOS,
        pad_token=EOS,
        chat_template=CHAT_TEMPLATE,
        model_max_length=context,
    )


def training_stream(
    tokenizer: PreTrainedTokenizerFast, documents: list[Document], chat_repeats: int
) -> list[int]:
    """Each document after its start token, then its chats (template-rendered), repeated:
    they are short, and a random window would rarely hold one otherwise."""
    encode = tokenizer.backend_tokenizer.encode  # whole documents: no length warning
    stream: list[int] = []
    for doc in documents:
        stream += encode(doc.training_text()).ids
        for chat in chats(doc):
            text = tokenizer.apply_chat_template(chat, tokenize=False)
            stream += encode(text, add_special_tokens=False).ids * chat_repeats
    return stream


def build_llama(
    out: str | Path,
    *,
    steps: int = 900,
    chat_repeats: int = 4,
    batch_size: int = 8,
    context_length: int = 256,
    hidden_size: int = 128,
    intermediate_size: int = 384,
    n_layer: int = 2,
    n_head: int = 4,
    n_kv_head: int = 2,
    vocab_size: int = 1024,
    learning_rate: float = 5e-3,
    seed: int = 0,
    threads: int = 1,
) -> Bundle:
    """Train, ``save_pretrained``, import: the ``tiny-llama`` bundle at ``out`` (an old
    bundle there is replaced). Same seed, thread count and CPU give the same bytes."""
    root = fresh_dir(out)
    documents = load_corpus()
    texts = [doc.training_text() for doc in documents]
    tokenizer = hf_tokenizer(texts, vocab_size, context_length)
    stream = training_stream(tokenizer, documents, chat_repeats)
    data = torch.tensor(stream, dtype=torch.long)
    end_ids = [tokenizer.convert_tokens_to_ids(END), tokenizer.eos_token_id]
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=n_layer,
        num_attention_heads=n_head,
        num_key_value_heads=n_kv_head,
        max_position_embeddings=context_length,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=end_ids,
        pad_token_id=tokenizer.pad_token_id,
    )
    with seeded(seed, threads) as generator:
        model = LlamaForCausalLM(config)

        def logits(x: torch.Tensor) -> torch.Tensor:
            return model(input_ids=x, use_cache=False).logits

        loss = train_language_model(
            model, logits, data, steps, batch_size, context_length, learning_rate, generator
        )
    model.eval()
    model.generation_config.eos_token_id = end_ids
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    description = (
        f"A {n_layer}-layer Llama (transformers LlamaForCausalLM, d={hidden_size}, "
        f"{n_head} heads / {n_kv_head} KV heads, {config.vocab_size}-token byte-level BPE, "
        f"{context_length}-token context) trained on public-domain English poetry, speeches "
        "and prose shipped with Inferchain, with a chat template. A demo: it recites its "
        "corpus, and answers 'Recite <title>.' and 'Who wrote <title>?'."
    )
    metadata = {
        "corpus": "inferchain/bundle/demos/data/corpus.txt (public domain; see README there)",
        "training_tokens": len(stream),
        "chat_repeats": chat_repeats,
        "steps": steps,
        "batch_size": batch_size,
        "seed": seed,
        "final_train_loss": round(loss, 4),
    }
    hf_logging.disable_progress_bar()
    with tempfile.TemporaryDirectory(prefix="tiny-llama-") as scratch:
        model.save_pretrained(scratch)
        tokenizer.save_pretrained(scratch)
        bundle = import_hf(
            scratch, root, name=NAME, license="MIT", description=description, metadata=metadata
        )
    (root / bundle.manifest.weights).chmod(0o644)  # safetensors writes 0600; bundles are public
    return bundle
