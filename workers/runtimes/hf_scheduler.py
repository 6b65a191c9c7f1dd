"""Continuous batching for ``hf-transformers`` text generation: jobs join and leave per step.

A step admits the waiting requests that find a free row (each prefilled alone, which gives
its first token at once) or, when none is admitted, runs one batched decode forward for
every running request, over the row-wise KV cache of
:mod:`~inferchain.worker.runtimes._hf_rows`. A request leaves the batch at EOS, at its
``max_new_tokens`` or when its consumer cancels it (a stop string); the next waiting one
takes its row at the next step.

There is no scheduler thread: whoever waits for tokens (:meth:`DecodeScheduler.take`) while
no step is under way runs the next one, and that step serves every running request, so
jobs read from several threads (streams) or round-robin from one (``run(batch)``) share
their decode steps, and nothing runs when nobody reads. A failed forward fails the
requests it carried, never the others.

Why not transformers' ``ContinuousBatchingManager``/``generate_batch``: it packs all
requests' tokens into one varlen forward over a paged cache, so a request's attention and
matmul shapes depend on its neighbours (measured on a 15M Llama, CPU float32: greedy
log-probs move by up to 9.5e-7 beside 7 others), and it samples from one generator per
manager, so a seeded request draws other tokens beside other neighbours (measured: all
differ from the first token on). Its own thread also hides a job's failure from that job.
docs/benchmarks.md compares the two.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Collection
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import Tensor

from inferchain.bundle import InferenceFailed
from inferchain.worker.runtimes._hf_rows import (
    ROWS_KWARG,
    RowKV,
    RowsCache,
    padded_rows,
    per_row_products,
)


class Request(Protocol):
    """What the scheduler reads of a generation request."""

    prompt_ids: tuple[int, ...]
    max_new_tokens: int
    seed: int


#: Picks the next token from one row's last logits, with the request's own generator.
Choose = Callable[[Tensor, Any, torch.Generator], int]


@dataclass(eq=False)
class Ticket:
    """One request in the scheduler: tokens made but not yet taken, and whether it ended."""

    request: Any
    generator: torch.Generator
    row: RowKV | None = None
    last: int = 0  # the newest token, fed at the next decode step
    made: int = 0
    pending: list[int] = field(default_factory=list)
    finished: bool = False
    error: str | None = None


class DecodeScheduler:
    def __init__(
        self,
        model: Any,
        device: torch.device,
        choose: Choose,
        eos_ids: Collection[int],
        max_rows: int = 16,
    ) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self.model, self.device, self.max_rows = model, device, max_rows
        self._choose, self._eos = choose, frozenset(eos_ids)
        self._state = threading.Condition()  # queues and tickets' pending/finished/error
        self._stepping = threading.Lock()  # one step at a time; held through the forward
        self._waiting: deque[Ticket] = deque()
        self._running: list[Ticket] = []
        self.steps = 0  # decode forwards run, for tests and metrics

    def submit(self, request: Request) -> Ticket:
        """Queue ``request``; it joins the batch at the next step with a free row."""
        generator = torch.Generator(device="cpu").manual_seed(request.seed)
        ticket = Ticket(request, generator)
        with self._state:
            self._waiting.append(ticket)
        return ticket

    def cancel(self, ticket: Ticket) -> None:
        """Take ``ticket`` out of the batch (its consumer needs no more tokens).

        Its row is freed by the next step: a forward running now may still be using it.
        """
        with self._state:
            ticket.finished = True
            if ticket in self._waiting:
                self._waiting.remove(ticket)

    def take(self, ticket: Ticket) -> list[int]:
        """Tokens made for ``ticket`` since the last call; waits, or steps, until there are some.

        An empty list means the request has ended. Raises ``InferenceFailed`` when the
        forward that carried it failed. Readers wait on the step under way rather than on a
        lock its runner might take again at once, so each gets its tokens (a new request
        its first) as soon as they are made.
        """
        while True:
            with self._state:
                if ticket.pending or ticket.finished:
                    tokens, ticket.pending = ticket.pending, []
                    if ticket.error is not None and not tokens:
                        raise InferenceFailed(ticket.error)
                    return tokens
            if self._stepping.acquire(blocking=False):
                try:
                    self._step()
                finally:
                    self._stepping.release()
                continue
            with self._state:
                if not ticket.pending and not ticket.finished:
                    self._state.wait(timeout=0.05)  # woken when the step delivers

    @property
    def running(self) -> int:
        """Requests holding a row now."""
        with self._state:
            return sum(not t.finished for t in self._running)

    # -- one step (whoever holds ``_stepping``) ----------------------------------------

    @torch.inference_mode()
    def _step(self) -> None:
        """Admit waiting requests (prefill: their first tokens), or else decode one token each."""
        with self._state:
            for ticket in self._running:
                if ticket.finished and ticket.row is not None:
                    ticket.row.release()
            self._running = [t for t in self._running if not t.finished]
            admitted = []
            while self._waiting and len(self._running) < self.max_rows:
                admitted.append(self._waiting.popleft())
                self._running.append(admitted[-1])
            batch = list(self._running)
        for ticket in admitted:
            self._guarded([ticket], self._prefill)
        if not admitted and batch:
            self._guarded(batch, self._decode)

    def _guarded(self, tickets: list[Ticket], forward: Callable[[list[Ticket]], None]) -> None:
        try:
            forward(tickets)
        except RuntimeError as exc:  # includes torch.cuda.OutOfMemoryError
            with self._state:
                for ticket in tickets:
                    ticket.error = f"generation failed on {self.device}: {exc}"
                    ticket.finished = True
                self._state.notify_all()

    def _prefill(self, tickets: list[Ticket]) -> None:
        (ticket,) = tickets
        prompt = ticket.request.prompt_ids
        ticket.row = RowKV(len(prompt) + ticket.request.max_new_tokens)
        ids = torch.tensor([prompt], device=self.device)
        positions = torch.arange(len(prompt), device=self.device)[None]
        logits = self._forward(ids, positions, RowsCache([ticket.row], len(prompt)))
        self._deliver(tickets, logits)

    def _decode(self, tickets: list[Ticket]) -> None:
        rows = padded_rows(len(tickets), self.device, self.max_rows)
        pad = rows - len(tickets)
        ids = [t.last for t in tickets] + [0] * pad
        positions = [t.row.length for t in tickets if t.row is not None] + [0] * pad
        cache = RowsCache([t.row for t in tickets] + [None] * pad, 1)
        with per_row_products() if self.device.type == "cpu" else nullcontext():
            logits = self._forward(
                torch.tensor(ids, device=self.device)[:, None],
                torch.tensor(positions, device=self.device)[:, None],
                cache,
            )
        self.steps += 1
        self._deliver(tickets, logits)

    def _forward(self, ids: Tensor, positions: Tensor, cache: RowsCache) -> Tensor:
        out = self.model(
            input_ids=ids,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
            **{ROWS_KWARG: cache},
        )
        cache.commit()
        return out.logits[:, -1]

    def _deliver(self, tickets: list[Ticket], logits: Tensor) -> None:
        """Pick each row's token, hand it to its reader, end requests that are done."""
        tokens = [self._choose(logits[i], t.request, t.generator) for i, t in enumerate(tickets)]
        with self._state:
            for ticket, token in zip(tickets, tokens, strict=True):
                ticket.last, ticket.made = token, ticket.made + 1
                if ticket.finished:  # cancelled while the forward ran
                    continue
                ticket.pending.append(token)
                if token in self._eos or ticket.made >= ticket.request.max_new_tokens:
                    ticket.finished = True
                    if ticket.row is not None:
                        ticket.row.release()  # no forward runs now: this is the stepper
            self._state.notify_all()
