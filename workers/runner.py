"""A batch of fetched jobs → outputs, through the runtime of the job's model.

Model id → bundle CID and manifest hash come from the model registry (once per model), the
runtime from the pool, which fetches and verifies the bundle. ``InvalidInput`` refuses one
job; any other runtime or bundle error, or IPFS failing while a bundle is fetched, fails the
batch as transient.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from inferchain.bundle import BundleError, InvalidInput
from inferchain.chain import Chain
from inferchain.ipfs import IpfsError
from inferchain.market import Market, read_model
from inferchain.worker.errors import TransientFailure
from inferchain.worker.runtimes import Output, Runtime, RuntimePool, infer
from inferchain.worker.tracked import TrackedJob


class ModelRunner:
    def __init__(self, chain: Chain, market: Market, pool: RuntimePool) -> None:
        self._chain, self._market, self._pool = chain, market, pool
        self._bundles: dict[int, tuple[str, str]] = {}

    def bundle_of(self, model_id: int) -> tuple[str, str]:
        """(bundle CID, manifest sha256 hex) of a registered model."""
        if model_id not in self._bundles:
            model = read_model(self._chain, self._market.models, model_id)
            self._bundles[model_id] = (model.bundle_cid, model.manifest_sha256)
        return self._bundles[model_id]

    def runtime(self, model_id: int) -> Runtime:
        cid, manifest_hash = self.bundle_of(model_id)
        try:
            return self._pool.get(cid, expected_manifest_sha256=manifest_hash)
        except (BundleError, IpfsError) as exc:
            raise TransientFailure(f"model {model_id} ({cid}) cannot load: {exc}") from exc

    def run(self, batch: Sequence[TrackedJob]) -> float:
        """Run one same-model batch; every job moves to ``ran``. Returns model seconds."""
        runtime = self.runtime(batch[0].model_id)
        started = time.perf_counter()
        try:
            results = infer(runtime, [job.input for job in batch])
        except BundleError as exc:
            raise TransientFailure(f"inference failed: {exc}") from exc
        elapsed = time.perf_counter() - started
        per_job = elapsed / len(batch)
        for job, result in zip(batch, results, strict=True):
            if isinstance(result, InvalidInput):
                job.ran(None, result, per_job)
            else:
                assert isinstance(result, Output)
                job.ran(result.to_bytes(), None, per_job)
        return elapsed
