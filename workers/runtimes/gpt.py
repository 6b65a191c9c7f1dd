"""A small GPT-style decoder with a preallocated KV cache and left-padding-aware attention.

Batches of prompts of different lengths are left-padded. Positions are counted from each
row's first real token and padded keys are masked out, so a row's tokens see exactly what
they would see alone: batched greedy output equals per-prompt greedy output. Attention is
written out (not ``scaled_dot_product_attention``) because fully masked pad rows must give
finite values, and they do with ``masked_fill(finfo.min)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int
    context_length: int
    d_model: int
    n_layer: int
    n_head: int
    bos_token_id: int
    eos_token_id: int

    def __post_init__(self) -> None:
        if min(self.vocab_size, self.context_length, self.d_model, self.n_layer, self.n_head) < 1:
            raise ValueError("sizes must be positive")
        if self.d_model % self.n_head:
            raise ValueError("d_model must be a multiple of n_head")
        if not (
            0 <= self.bos_token_id < self.vocab_size and 0 <= self.eos_token_id < self.vocab_size
        ):
            raise ValueError("bos/eos token ids must lie inside the vocabulary")


class KVCache:
    """Per-layer key/value buffers of shape [batch, heads, capacity, head_dim]."""

    def __init__(
        self, config: GPTConfig, batch: int, capacity: int, device: torch.device, dtype: torch.dtype
    ) -> None:
        head_dim = config.d_model // config.n_head
        shape = (batch, config.n_head, capacity, head_dim)
        self.keys = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.n_layer)]
        self.values = [
            torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.n_layer)
        ]


class _Attention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)

    def forward(
        self, x: Tensor, mask: Tensor | None, cache: tuple[Tensor, Tensor] | None, start: int
    ) -> Tensor:
        batch, steps, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=2)
        q, k, v = (t.view(batch, steps, self.n_head, -1).transpose(1, 2) for t in (q, k, v))
        if cache is None and mask is None:  # training: no padding, fused causal kernel
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).reshape(batch, steps, width))
        if cache is not None:
            cache_k, cache_v = cache
            cache_k[:, :, start : start + steps] = k
            cache_v[:, :, start : start + steps] = v
            k, v = cache_k[:, :, : start + steps], cache_v[:, :, : start + steps]
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        y = F.softmax(scores, dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(batch, steps, width))


class _Block(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model)
        self.attn = _Attention(config)
        self.ln2 = nn.LayerNorm(config.d_model)
        self.mlp = nn.Sequential(
            nn.Linear(config.d_model, 4 * config.d_model),
            nn.GELU(),
            nn.Linear(4 * config.d_model, config.d_model),
        )

    def forward(
        self, x: Tensor, mask: Tensor | None, cache: tuple[Tensor, Tensor] | None, start: int
    ) -> Tensor:
        x = x + self.attn(self.ln1(x), mask, cache, start)
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """Decoder-only transformer; the output projection is tied to the token embedding."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
        self.pos_emb = nn.Embedding(config.context_length, config.d_model)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.d_model)
        for module in self.modules():  # GPT-2 init: small weights keep tied logits near zero
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward(
        self,
        tokens: Tensor,
        *,
        key_valid: Tensor | None = None,
        cache: KVCache | None = None,
        start: int = 0,
    ) -> Tensor:
        """Logits for ``tokens`` [batch, steps] placed at columns ``start..start+steps``.

        ``key_valid`` [batch, start+steps] marks real (not padding) columns; None means all
        real, and without a cache too the fused causal kernel is used (training). With a
        cache, columns before ``start`` come from earlier calls. Columns may
        outnumber the context length (rows padded for others); each row's own real tokens
        may not, which the caller checks.
        """
        batch, steps = tokens.shape
        total = start + steps
        columns = torch.arange(total, device=tokens.device)
        mask: Tensor | None = None
        if key_valid is None and cache is None:
            positions = columns[None, :]
        else:
            if key_valid is None:
                key_valid = torch.ones(batch, total, dtype=torch.bool, device=tokens.device)
            # position = number of real tokens before this column in its row
            positions = (key_valid.long().cumsum(dim=1) - 1).clamp(min=0)[:, start:total]
            causal = columns[None, :] <= columns[start:total, None]  # [steps, total]
            mask = causal[None, None] & key_valid[:, None, None, :]  # [batch, 1, steps, total]
        x = self.tok_emb(tokens) + self.pos_emb(positions)
        for i, block in enumerate(self.blocks):
            layer_cache = (cache.keys[i], cache.values[i]) if cache is not None else None
            x = block(x, mask, layer_cache, start)
        return self.ln_f(x) @ self.tok_emb.weight.T
