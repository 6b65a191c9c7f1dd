"""Loaded runtimes by bundle CID, so a worker loads (and hash-checks) each model once.

Bounded by the memory the weights take: a runtime's ``memory_bytes`` where it reports one
(``hf-transformers``: parameters and buffers as loaded), else the bundle's byte size;
the least recently used runtime is dropped first. Loading goes through the disk cache,
so a model not held here is verified again before it runs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import torch

from inferchain.bundle import BundleCache
from inferchain.worker.runtimes.base import Runtime
from inferchain.worker.runtimes.registry import load_runtime


class RuntimePool:
    def __init__(
        self, cache: BundleCache, max_bytes: int, device: str | torch.device | None = None
    ) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.cache = cache
        self.max_bytes = max_bytes
        self.device = device
        self._loaded: OrderedDict[str, tuple[Runtime, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, cid: str, *, expected_manifest_sha256: str | None = None) -> Runtime:
        """The runtime for bundle ``cid``, loading it (and dropping others) when needed."""
        with self._lock:
            held = self._loaded.get(cid)
            if held is not None and expected_manifest_sha256 in (
                None,
                held[0].bundle.manifest_sha256,
            ):
                self._loaded.move_to_end(cid)
                return held[0]
            bundle = self.cache.get(cid, expected_manifest_sha256=expected_manifest_sha256)
            runtime = load_runtime(bundle, self.device)
            # a runtime that knows its loaded weights' size (hf-transformers) says so
            self._loaded[cid] = (runtime, getattr(runtime, "memory_bytes", bundle.size))
            self._loaded.move_to_end(cid)
            while len(self._loaded) > 1 and self.used_bytes > self.max_bytes:
                self._loaded.popitem(last=False)
            return runtime

    def loaded(self) -> list[str]:
        """CIDs held, least recently used first."""
        return list(self._loaded)

    @property
    def used_bytes(self) -> int:
        return sum(size for _, size in self._loaded.values())
