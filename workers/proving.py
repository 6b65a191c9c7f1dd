"""The proving stage: EZKL proofs for jobs of the ZK mode, made off the job path.

Proofs take seconds (the demo MLP: 1.5-4 s on two cores), so they run in a bounded process
pool (EZKL's prover holds the GIL; a thread would stall the loop) while the worker fetches,
runs and pins other jobs. Two seams for the node::

    proving.start(batch, runner.runtime)   # before runner.run(batch): inputs are still held
    ready = proving.gate(ready)            # in _submit: ZK jobs wait for their proof

A proof is started from the job's input file, in parallel with the runtime's own pass over the
same circuit; :meth:`ProvingStage.gate` attaches it (``TrackedJob.proof``, which becomes
``Result.proof``) only if it proves the very output the job pinned. Each child derives the
proving key once per circuit from the bundle's SRS and compiled circuit (keygen is
deterministic) and checks it yields the bundle's verifying key.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path

from inferchain.worker.errors import TransientFailure
from inferchain.worker.runtimes import Runtime
from inferchain.worker.tracked import TrackedJob

log = logging.getLogger(__name__)

CIRCUIT_FILES = ("settings.json", "model.compiled", "kzg.srs", "vk.key")


def prove_job(circuit_dir: str, keys_dir: str, input_file: bytes, max_input: int) -> bytes:
    """(In a child process.) ``Result.proof`` for ``input_file``: keys derived on first use."""
    from inferchain.zk import ZkError, load_circuit, prove
    from inferchain.zk.circuit import setup_keys
    from inferchain.zk.module import encode_proof

    keys = Path(keys_dir)
    if not (keys / "pk.key").is_file():
        keys.mkdir(parents=True, exist_ok=True)
        for name in CIRCUIT_FILES:
            if name != "vk.key":
                shutil.copyfile(Path(circuit_dir) / name, keys / name)
        staging = keys / f"keygen-{os.getpid()}"
        staging.mkdir(exist_ok=True)
        setup_keys(load_circuit(keys, require_keys=False), staging / "vk.key", staging / "pk.key")
        if (staging / "vk.key").read_bytes() != (Path(circuit_dir) / "vk.key").read_bytes():
            raise ZkError("keygen gave another verifying key than the bundle's: wrong circuit")
        os.replace(staging / "vk.key", keys / "vk.key")
        os.replace(staging / "pk.key", keys / "pk.key")  # last: its presence means ready
        staging.rmdir()
    proof, _ = prove(load_circuit(keys), input_file, max_input)
    return encode_proof(proof)


class ProvingStage:
    """Proofs for jobs whose verification mode is one of ``zk_modes``, at most ``max_pending``
    in flight, in ``workers`` child processes; keys live under ``work_dir`` per circuit."""

    def __init__(
        self,
        work_dir: Path,
        zk_modes: Iterable[int],
        *,
        workers: int = 1,
        max_pending: int = 8,
        input_of: Callable[[TrackedJob], bytes] | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.work_dir = Path(work_dir)
        self.zk_modes = frozenset(zk_modes)
        self.max_pending = max_pending
        self._input_of = input_of
        self._executor = executor or ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )
        self._running: dict[int, tuple[Future[bytes], Runtime]] = {}
        #: Jobs whose proof failed or proved another output: never submitted, never retried
        #: (the job runs into its deadline; a worker bug, logged as an error).
        self.refused: set[int] = set()

    def needs_proof(self, job: TrackedJob) -> bool:
        return job.job.terms.verification in self.zk_modes and not job.proof

    def start(self, jobs: Sequence[TrackedJob], runtime_of: Callable[[int], Runtime]) -> None:
        """Start proofs for the ZK jobs of a batch about to run (their inputs still held)."""
        for job in jobs:
            wanted = self.needs_proof(job) and job.refusal is None and job.input is not None
            if wanted and job.job_id not in self._running and len(self._running) < self.max_pending:
                self._start(job, job.input, runtime_of(job.model_id))  # type: ignore[arg-type]

    def gate(
        self, jobs: Sequence[TrackedJob], runtime_of: Callable[[int], Runtime] | None = None
    ) -> list[TrackedJob]:
        """The jobs ready to submit: non-ZK jobs, failure reports, and ZK jobs whose proof is
        done and attached. A ZK job with no proof under way (a restart, a failed proof) gets
        one started from its input, read again through ``input_of``."""
        ready = []
        for job in jobs:
            if not self.needs_proof(job) or job.is_failure:
                ready.append(job)
                continue
            running = self._running.get(job.job_id)
            if running is None and job.job_id not in self.refused:
                self._restart(job, runtime_of)
            elif running is not None and running[0].done():
                del self._running[job.job_id]
                if self._attach(job, *running):
                    ready.append(job)
                else:
                    self.refused.add(job.job_id)
        return ready

    def in_flight(self) -> list[int]:
        """Job ids whose proof is under way."""
        return list(self._running)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _start(self, job: TrackedJob, input_file: bytes, runtime: Runtime) -> None:
        circuit = runtime.circuit  # type: ignore[attr-defined]  # MlpRuntime
        key = hashlib.sha256(circuit.vk.read_bytes()).hexdigest()[:16]
        future = self._executor.submit(
            prove_job,
            str(circuit.root),
            str(self.work_dir / key),
            input_file,
            runtime.max_input,  # type: ignore[attr-defined]
        )
        self._running[job.job_id] = (future, runtime)

    def _restart(self, job: TrackedJob, runtime_of: Callable[[int], Runtime] | None) -> None:
        if self._input_of is None or runtime_of is None or len(self._running) >= self.max_pending:
            return
        try:
            data = self._input_of(job)
        except TransientFailure as exc:
            log.warning("no input to prove", extra={"job_id": job.job_id, "error": str(exc)})
            return
        self._start(job, data, runtime_of(job.model_id))

    def _attach(self, job: TrackedJob, future: Future[bytes], runtime: Runtime) -> bool:
        """Attach a finished proof if it proves the output the job pinned."""
        from inferchain.zk import statement
        from inferchain.zk.module import decode_proof

        try:
            proof = future.result()
            _, instances = decode_proof(proof)
            circuit = runtime.circuit  # type: ignore[attr-defined]  # MlpRuntime
            claimed = statement(instances, circuit.num_inputs, runtime.max_input)  # type: ignore[attr-defined]
        except Exception as exc:  # a child's failure (EZKL, keygen) must not stop the loop
            log.error("proof failed", extra={"job_id": job.job_id, "error": repr(exc)})
            return False
        if claimed.output_digest != job.output_hash:
            log.error(
                "the proof gives another output than the one pinned; not submitting it",
                extra={"job_id": job.job_id},
            )
            return False
        job.proof = proof
        return True
