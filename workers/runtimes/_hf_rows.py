"""Row-wise KV cache and attention: batched steps, but each request attends to its own keys.

Why not a padded batch: attention over a left-padded cache sums a row's scores over a
length set by its neighbours, so the float result (and, on a near tie, a greedy token)
depends on who shares the batch. Here every request keeps its keys and values in its own
buffer (:class:`RowKV`, sized prompt + max new tokens, written in place), and the attention
function registered as :data:`ATTENTION` runs ``sdpa`` once per row over exactly that
row's history, the same shapes as when the request runs alone. The projections and the MLP
run batched, where each output row depends on its input row alone, as long as every row's
product takes the same kernel path: see :func:`padded_rows` and :func:`per_row_products`.

A model switched to :data:`ATTENTION` behaves like ``sdpa`` (and its linear layers like
plain ones) in any call that does not pass a :class:`RowsCache`: ``model.generate`` still
works on it, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

import torch
from torch import Tensor

ATTENTION = "inferchain_rows"
#: The forward keyword that carries the :class:`RowsCache` down to the attention function.
ROWS_KWARG = "inferchain_rows"

#: Set while a CPU decode step runs: linear layers then multiply each row on its own.
_PER_ROW: ContextVar[bool] = ContextVar("inferchain_per_row", default=False)


def padded_rows(count: int, device: torch.device, max_rows: int) -> int:
    """Rows a decode step runs with, so that a row's matmul result never depends on ``count``.

    On CPU exactly ``count``: the step runs under :func:`per_row_products`, where no
    product spans rows. Elsewhere (cuBLAS picks kernels and split-K by shape) always
    ``max_rows``, which costs a GPU next to nothing at decode.
    """
    if device.type == "cpu":
        return count
    return max(max_rows, count)


@contextmanager
def per_row_products() -> Iterator[None]:
    """Within this block (this thread only), linear layers of a :func:`use_rows` model
    multiply every row as a product of its own: one ``bmm`` over ``[rows, 1, in]``.

    Why: MKL's sgemm rounds a row differently by how many rows share the product, and the
    row counts that share one kernel path depend on the CPU and the thread count (an
    AVX-512 Xeon: 2-16 rows alike, 1 apart; an AVX2 EPYC without AVX-512: 1-3 and 4-16, see
    docs/benchmarks.md), so no padding rule holds on every machine. A one-row product
    in a batched call is the same whatever the batch count, on any CPU, and a job alone
    pays a gemv, as ``generate`` does, not a padded gemm.
    """
    token = _PER_ROW.set(True)
    try:
        yield
    finally:
        _PER_ROW.reset(token)


def _per_row(x: Tensor, weight_in_out: Tensor, bias: Tensor | None) -> Tensor:
    """``x @ weight_in_out + bias`` with each row of ``x`` multiplied on its own."""
    if x.dim() == 3 and x.shape[1] == 1:  # a decode step's [rows, 1, in]: bmm's own shape
        out = torch.bmm(x, weight_in_out.expand(x.shape[0], -1, -1))
    else:
        rows = x.reshape(-1, 1, x.shape[-1])
        out = torch.bmm(rows, weight_in_out.expand(rows.shape[0], -1, -1))
        out = out.view(*x.shape[:-1], weight_in_out.shape[-1])
    return out if bias is None else out + bias


class _RowsLinear(torch.nn.Linear):
    """``nn.Linear`` that multiplies per row under :func:`per_row_products`."""

    def forward(self, input: Tensor) -> Tensor:
        if _PER_ROW.get():
            return _per_row(input, self.weight.t(), self.bias)
        return super().forward(input)


@cache
def _rows_conv1d() -> type:
    """transformers' ``Conv1D`` (GPT-2's projections, weight ``[in, out]``), made per-row."""
    from transformers.pytorch_utils import Conv1D

    class _RowsConv1D(Conv1D):
        def forward(self, x: Tensor) -> Tensor:
            if _PER_ROW.get():
                return _per_row(x, self.weight, self.bias)
            return super().forward(x)

    return _RowsConv1D


def unsupported(model: Any, context_length: int) -> str | None:
    """Why ``model`` cannot decode row-wise (then each job decodes alone), or None."""
    config = model.config
    if model.device.type == "cpu":
        # a subclass (quantized, LoRA, ...) would multiply across rows: see per_row_products
        from transformers.pytorch_utils import Conv1D

        plain = (torch.nn.Linear, _RowsLinear, Conv1D, _rows_conv1d())
        other = {
            type(m).__name__
            for m in model.modules()
            if isinstance(m, (torch.nn.Linear, Conv1D)) and type(m) not in plain
        }
        if other:
            return f"layers {sorted(other)} cannot multiply per row on CPU"
    if config._attn_implementation not in ("sdpa", ATTENTION):
        return f"attention implementation {config._attn_implementation!r} is not sdpa"
    kinds = set(getattr(config, "layer_types", None) or ["full_attention"])
    if kinds != {"full_attention"}:
        return f"layer types {sorted(kinds)} are not all full attention"
    window = getattr(config, "sliding_window", None)
    if (
        window is not None
        and getattr(config, "use_sliding_window", True)
        and window < context_length
    ):
        return f"sliding window {window} is shorter than the context"
    if getattr(config, "is_encoder_decoder", False):
        return "encoder-decoder models keep a cross-attention cache"
    return None


def use_rows(model: Any) -> None:
    """Switch ``model`` to row-wise attention (registering it with transformers once), and
    its linear layers to ones that can multiply per row (:func:`per_row_products`).

    The layers change class, not weights or behaviour outside that block.
    """
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(ATTENTION, rows_attention)
    AttentionMaskInterface.register(ATTENTION, sdpa_mask)
    model.set_attn_implementation(ATTENTION)
    per_row_layers(model)


def per_row_layers(module: torch.nn.Module) -> None:
    """Make ``module``'s ``nn.Linear`` and ``Conv1D`` layers (itself included) able to
    multiply per row under :func:`per_row_products`; same weights, same results elsewhere."""
    from transformers.pytorch_utils import Conv1D

    for layer in module.modules():
        if type(layer) is torch.nn.Linear:
            layer.__class__ = _RowsLinear
        elif type(layer) is Conv1D:
            layer.__class__ = _rows_conv1d()


class RowKV:
    """One request's keys and values per layer: ``[1, kv_heads, capacity, head_dim]`` each."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.length = 0  # tokens whose keys are stored
        self._keys: dict[int, Tensor] = {}
        self._values: dict[int, Tensor] = {}

    def write(self, layer: int, keys: Tensor, values: Tensor) -> None:
        end = self.length + keys.shape[2]
        if end > self.capacity:
            raise RuntimeError(f"KV cache row holds {self.capacity} tokens, {end} asked")
        if layer not in self._keys:
            shape = (1, keys.shape[1], self.capacity, keys.shape[3])
            self._keys[layer] = keys.new_empty(shape)
            self._values[layer] = values.new_empty(shape)
        self._keys[layer][:, :, self.length : end] = keys
        self._values[layer][:, :, self.length : end] = values

    def history(self, layer: int, new: int) -> tuple[Tensor, Tensor]:
        end = self.length + new
        return self._keys[layer][:, :, :end], self._values[layer][:, :, :end]

    def release(self) -> None:
        self._keys.clear()
        self._values.clear()


class RowsCache:
    """The ``cache`` of one forward pass: rows in batch order (None: a padding row).

    ``update`` stores each row's new keys in its :class:`RowKV`; :func:`rows_attention` reads
    them back. :meth:`commit` after the pass makes the new tokens part of each history.
    """

    is_compileable = False

    def __init__(self, rows: Sequence[RowKV | None], new_tokens: int) -> None:
        self.rows, self.new_tokens = list(rows), new_tokens

    def update(self, keys: Tensor, values: Tensor, layer_idx: int, *args: Any, **kwargs: Any):
        for i, row in enumerate(self.rows):
            if row is not None:
                row.write(layer_idx, keys[i : i + 1], values[i : i + 1])
        return keys, values

    # what transformers' mask helpers ask of a cache; the row-wise attention needs no mask
    def get_query_offset(self, layer_idx: int = 0) -> int:
        return 0

    def get_mask_sizes(self, query_length: int, layer_idx: int = 0) -> tuple[int, int]:
        return query_length, 0

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return 0

    def commit(self) -> None:
        for row in self.rows:
            if row is not None:
                row.length += self.new_tokens


def rows_attention(
    module: Any,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attention_mask: Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[Tensor, None]:
    """``sdpa`` per row over that row's own history; plain ``sdpa`` without a RowsCache."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    rows: RowsCache | None = kwargs.pop(ROWS_KWARG, None)
    if rows is None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    batch, heads, length, dim = query.shape
    out = query.new_zeros(batch, length, heads, dim)  # padding rows stay zero
    for i, row in enumerate(rows.rows):
        if row is None:
            continue
        keys, values = row.history(module.layer_idx, rows.new_tokens)
        out[i : i + 1] = sdpa_attention_forward(
            module, query[i : i + 1], keys, values, None, dropout=0.0, scaling=scaling, **kwargs
        )[0]
    return out, None
