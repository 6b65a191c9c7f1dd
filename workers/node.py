"""The worker node: one service whose step moves jobs along the pipeline.

    chain events ─▶ queue ─▶ fetch input ─▶ claim ─▶ batch ─▶ run ─▶ pin ─▶ submit ─▶ finalize
    (discovery)          (fetcher)     (claimer) (batcher) (runner) (pinner) (submitter) (settler)
                                                  └─▶ stream (generation) ─┘

Text-generation jobs skip the batcher: each starts decoding in a thread the moment it is
picked (its input here), in the same tick as its claim is sent, its text going to its
stream (``streams``, served by ``stream_server``, announced in the registry metadata). The
stream is open before the claim, and readers see its text once the claim is won; a lost
claim stops the decoding and tells them ``job.lost``. A finished input fetch and a new
chain head (``head_watch``) wake the loop, so a job is picked within milliseconds of the
block that created it rather than at the next tick.

Each arrow is one module; this file only wires them, decides deadlines from block time,
applies the one retry policy (capped backoff per job, per tick for RPC outages) and saves
state after every step that changes what the worker holds. A job is claimed only once its
input is fetched (or known to be the requester's fault), and only while the registry
accepts this worker's claims; /health says when either keeps it from working.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from eth_account import Account
from pydantic import SecretStr

from inferchain.bundle import BundleCache, ipfs_fetcher
from inferchain.chain import Chain, ChainError
from inferchain.ipfs import Cid, InvalidCid, IpfsClient, IpfsError
from inferchain.market import JobRecord, Market, MarketAddresses
from inferchain.service import Backoff, Service
from inferchain.worker.account import AccountStatus, Standing, ensure_ready, metadata_document
from inferchain.worker.batcher import Batcher
from inferchain.worker.claimer import Claimer
from inferchain.worker.discovery import Discovery
from inferchain.worker.disputes import Disputes, JobEnd
from inferchain.worker.errors import TransientFailure, WorkerNotReady
from inferchain.worker.fetcher import InputFetcher
from inferchain.worker.generation import Generations, streams_text
from inferchain.worker.head_watch import HeadWatch
from inferchain.worker.lock import KeyLock
from inferchain.worker.metrics import HealthServer, WorkerMetrics, health_doc
from inferchain.worker.pinner import Pinner
from inferchain.worker.probe import IpfsProbe
from inferchain.worker.proving import ProvingStage
from inferchain.worker.reconcile import own_records, reconcile_held
from inferchain.worker.runner import ModelRunner
from inferchain.worker.runtimes import RuntimePool
from inferchain.worker.settings import WorkerSettings
from inferchain.worker.settlement import Settler
from inferchain.worker.state import ChainBinding, WorkerState, restore_state, save_state
from inferchain.worker.stream_access import StreamAccess
from inferchain.worker.stream_server import StreamServer, bind_stream_server
from inferchain.worker.streams import StreamHub
from inferchain.worker.submitter import Submitter
from inferchain.worker.tracked import AWAITING_INPUT, DONE, IN_FLIGHT, Phase, TrackedJob
from inferchain.worker.verifying import VerifierDuty, ensure_member

log = logging.getLogger(__name__)

DEFAULT_ESTIMATE_S = 5.0
#: Seconds before a model whose bundle did not load is tried again.
MODEL_RETRY_S = 30.0


class Worker(Service):
    name = "inferchain-worker"

    def __init__(
        self,
        settings: WorkerSettings,
        addresses: MarketAddresses | None = None,
        *,
        register: bool = False,
    ) -> None:
        super().__init__(settings.poll_interval_s, settings.shutdown_grace_s)
        self.settings = settings
        self._addresses = addresses
        self._register = register
        self.metrics = WorkerMetrics()
        self.held: dict[int, TrackedJob] = {}
        self.account: AccountStatus | None = None
        self.earned: dict[str, int] = {}
        self._estimate: dict[int, float] = {}
        self._backoff = Backoff(cap=10.0)
        self._last_tick = time.monotonic()
        self._last_reconcile = 0.0
        self._queued: set[int] = set()
        self._health: HealthServer | None = None
        self._stream_server: StreamServer | None = None
        self._head_watch: HeadWatch | None = None
        self.proving: ProvingStage | None = None
        self.verifier: VerifierDuty | None = None
        self.streams = StreamHub()
        self._lock: KeyLock | None = None
        self._model_retry_at: dict[int, float] = {}
        self._tick_error: str | None = None
        self.metrics.healthy.set_function(lambda: float(self.health()["ok"] is True))

    # -- lifecycle ---------------------------------------------------------------------

    def setup(self) -> None:
        s = self.settings
        key = s.signing_key()
        address = Account.from_key(key.get_secret_value()).address
        self.chain = Chain(s.rpc_url, expected_chain_id=s.chain_id)
        # First, before any transaction: a second worker on this key and chain must not get
        # that far, whatever its state directory.
        genesis = bytes(self.chain.w3.eth.get_block(0)["hash"])
        self._lock = KeyLock(KeyLock.path_for(genesis, address), address)
        self._lock.acquire()
        try:
            self._setup(key)
        except BaseException:
            if self._stream_server is not None:
                self._stream_server.stop()
            self._lock.release()
            raise

    def _setup(self, key: SecretStr) -> None:
        s = self.settings
        addresses = self._addresses or s.market_addresses(self.chain.chain_id)
        self.market = Market.connect(self.chain, addresses)
        self.sender = self.chain.sender(key)
        self.ipfs = IpfsClient(s.ipfs_api_url, timeout=s.ipfs_timeout_s)
        self.account = ensure_ready(
            self.chain, self.market, self.sender, s.models, register=self._register,
            stake=s.stake, allocation=s.allocation, metadata=self._metadata(addresses),
        )  # fmt: skip
        self.standing = Standing(
            self.chain, self.market, self.sender.address, [*s.stake, *s.allocation]
        )
        self.standing.check()
        served = set(s.models or self.account.models)
        if not served:
            raise WorkerNotReady("this worker serves no model: pass --model")
        self._state_path = s.state_dir / f"state-{self.sender.address.lower()}.json"
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="worker-io")
        self.probe = IpfsProbe(self.ipfs, self._pool)
        cache = BundleCache(s.state_dir / "bundles", s.bundle_cache_bytes, ipfs_fetcher(self.ipfs))
        pool = RuntimePool(cache, s.model_memory_bytes, s.device)
        self.runner = ModelRunner(self.chain, self.market, pool)
        self.discovery = Discovery(
            self.chain, self.market, served, s.confirmations, s.log_chunk_blocks, s.zk_modes
        )
        tx_batch = None if s.batch_transactions else 1  # None: the market's MAX_BATCH
        self.claimer = Claimer(
            self.chain,
            self.market, self.sender, margin_s=s.deadline_margin_s, estimate_s=self._estimate_s,
            batch=tx_batch,
        )  # fmt: skip
        self.fetcher = InputFetcher(
            self.ipfs, timeout_s=s.ipfs_timeout_s, max_bytes=s.max_input_bytes,
            cache_bytes=max(s.input_cache_bytes, s.max_input_bytes), on_done=self._wake.set,
        )  # fmt: skip
        self.batcher = Batcher(s.inference_batch_size, s.max_wait_s)
        if s.zk_modes:
            self.proving = ProvingStage(
                s.state_dir / "zk-keys", s.zk_modes, workers=s.zk_provers,
                input_of=self._read_input,
            )  # fmt: skip
        self.generations = Generations(s.inference_batch_size, self._wake.set)
        self.pinner = Pinner(self.ipfs, self._pool)
        self.submitter = Submitter(self.chain, self.market, self.sender, batch=tx_batch)
        self.settler = Settler(self.chain, self.market, self.sender, s.log_chunk_blocks)
        self.disputes = Disputes(self.chain, self.market, self.sender, s.log_chunk_blocks)
        if s.verify:
            self.verifier = self._verifier_duty(addresses, key)
        self._loadable(served)  # load early: a model that cannot load is said at start
        self.saved = self._reconcile()
        self.held = self.saved.held
        self._save()
        if s.metrics_port is not None:
            self._health = HealthServer(self.metrics, self.health, s.metrics_host, s.metrics_port)
            self._health.start()
        if self._stream_server is not None:
            self._stream_server.start()
        if self.verifier is not None:
            self.verifier.start()
        poll = s.head_poll()
        if poll is not None:  # its own connection: the loop's is not shared across threads
            watched = Chain(s.rpc_url, expected_chain_id=s.chain_id)
            self._head_watch = HeadWatch(watched, poll, self._wake.set)
            self._head_watch.start()
        log.info(
            "worker started",
            extra={"address": self.sender.address, "models": sorted(served),
                   "held": len(self.held), "from_block": self.saved.last_block},
        )  # fmt: skip

    def _verifier_duty(self, addresses: MarketAddresses, key: SecretStr) -> VerifierDuty:
        """The `reexec` verifier duty, in its own thread with its own connection and models
        (a re-execution never waits on, or stalls, the job path); transactions share the
        loop's sender, whose lock keeps the key's nonces in order. A key not in the pool
        joins it first (`ensure_member`), so `--verify` alone makes a verifier."""
        s = self.settings
        if self.market.reexec is None:
            raise WorkerNotReady("--verify: this market has no reexec mode (ReexecVerifier)")
        ensure_member(self.chain, self.market.reexec, self.sender, s.verify_bond)
        chain = Chain(s.rpc_url, expected_chain_id=s.chain_id)
        market = Market.connect(chain, addresses)
        cache = BundleCache(s.state_dir / "verify-bundles", s.bundle_cache_bytes,
                            ipfs_fetcher(self.ipfs))  # fmt: skip
        runner = ModelRunner(chain, market, RuntimePool(cache, s.model_memory_bytes, s.device))
        ipfs = IpfsClient(s.ipfs_api_url, timeout=s.ipfs_timeout_s)
        return VerifierDuty(market, self.sender, key.get_secret_value(), runner, ipfs,
                            chunk_blocks=s.log_chunk_blocks,
                            mine_seed=s.mode == "local")  # fmt: skip

    def _metadata(self, addresses: MarketAddresses) -> bytes | None:
        """The registry metadata document, pinned, announcing the stream server (bound
        here, started once set up); None when there is no stream server."""
        s = self.settings
        if s.stream_port is None:
            return None
        chain = Chain(s.rpc_url, expected_chain_id=s.chain_id)  # the server threads' own
        access = StreamAccess(
            chain, addresses.job_market, chain.contract("JobRouter", addresses.router)
        )
        self._stream_server = bind_stream_server(
            self.streams, access, s.stream_host, s.stream_port, s.stream_public_url,
            remembered=s.state_dir / "stream-port",
        )  # fmt: skip
        models = s.models or (self.account.models if self.account else [])
        document = metadata_document(self.sender.address, models, self._stream_server.url_template)
        try:
            self.ipfs.add_bytes(document, pin=True)
        except IpfsError as exc:
            log.warning(
                "metadata not pinned: readers cannot find the stream until it is",
                extra={"error": str(exc)},
            )
        return document

    @property
    def stream_port(self) -> int | None:
        return self._stream_server.port if self._stream_server else None

    def teardown(self) -> None:
        if self._head_watch is not None:
            self._head_watch.stop()
        if self.verifier is not None:
            self.verifier.stop()
        if self.proving is not None:
            self.proving.close()
        self._save()
        if self._health is not None:
            self._health.stop()
        self.generations.close()
        self.streams.close()
        if self._stream_server is not None:
            self._stream_server.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.fetcher.close()
        self.ipfs.close()
        if self._lock is not None:
            self._lock.release()
        log.info("worker stopped", extra={"held": len(self.held)})

    @property
    def health_port(self) -> int | None:
        return self._health.port if self._health else None

    def health(self) -> dict[str, object]:
        saved = getattr(self, "saved", None)
        probe, standing = getattr(self, "probe", None), getattr(self, "standing", None)
        return health_doc(
            self._last_tick,
            self.settings.health_max_tick_age_s,
            tick_error=self._tick_error,
            ipfs_error=probe.error if probe else None,
            cannot_claim=standing.reason if standing else None,
            state=self.state.value,
            in_flight=self.in_flight,
            last_block=saved.last_block if saved else None,
        )

    @property
    def in_flight(self) -> int:
        # list(): /health and /metrics read this from their own threads while the loop runs
        return sum(1 for j in list(self.held.values()) if j.phase in IN_FLIGHT)

    def drained(self) -> bool:
        return self.in_flight == 0

    # -- the loop ----------------------------------------------------------------------

    def step(self) -> bool:
        try:
            progressed = self._tick()
        except (ChainError, IpfsError, TransientFailure) as exc:
            self._tick_error = str(exc)
            delay = self._backoff.failed()
            log.warning(
                "tick failed; backing off",
                extra={"error": str(exc), "delay_s": delay, "failures": self._backoff.failures},
            )
            self._wake.wait(delay)
            return False
        self._backoff.succeeded()
        self._last_tick, self._tick_error = time.monotonic(), None
        return not progressed

    def _tick(self) -> bool:
        s = self.settings
        block = self.chain.w3.eth.get_block("latest")
        head, now = int(block["number"]), int(block["timestamp"])
        before = self._fingerprint()
        self.probe.poll()
        # Held jobs' inputs first: their claim deadlines are running.
        self.fetcher.want(j.input_cid for j in self.held.values() if j.phase in AWAITING_INPUT)
        if not self.draining:
            self._discover(head)
            self._claim(now)
        self._expire(now)
        self._take_inputs(now)
        self._run_batches(now)
        pinned = self._due(Phase.RAN)
        if pinned:
            self._retry("pin", self.pinner.pin(pinned), now)
            self._save()
        self._submit(now)
        if s.finalize:
            self._settle(head, now)
        self._forget_done()
        self.streams.prune()
        self.metrics.in_flight.set(self.in_flight)
        self.metrics.queue_depth.set(len(self.saved.open_jobs))
        return self._fingerprint() != before

    def idle_wait_s(self) -> float:
        due = self.batcher.next_due_s()
        return self.settings.poll_interval_s if due is None else min(due, self._interval)

    def _discover(self, head: int) -> None:
        state = self.saved
        state.open_jobs, state.last_block = self.discovery.scan(
            state.open_jobs, state.last_block, head
        )
        self.metrics.last_block.set(state.last_block)
        if time.monotonic() - self._last_reconcile >= self.settings.reconcile_every_s:
            state.open_jobs = self.discovery.prune(state.open_jobs)
            needed = {r.input_cid for r in state.open_jobs.values()}
            self.fetcher.retain(needed | {j.input_cid for j in self.held.values()})
            self.standing.check()
            self._last_reconcile = time.monotonic()

    def _claim(self, now: int) -> None:
        """Claim, oldest first, the jobs whose inputs are here; start fetching the others.

        Jobs of models that stream text start decoding before their claim is sent
        (``_start_ahead``); short jobs of other models take the fast path (``_take_fast``)."""
        room = self.settings.max_in_flight - self.in_flight
        if self.standing.reason is not None or room <= 0:
            return
        eligible = self.claimer.select(self.saved.open_jobs, now)
        loadable = self._loadable({r.job.model_id for r in eligible})
        eligible = [r for r in eligible if r.job.model_id in loadable]
        self.fetcher.want(r.input_cid for r in eligible)
        ready = [r for r in eligible if self.fetcher.get(r.input_cid) is not None]
        ready = self._within_allocation(ready)[:room]
        streaming = not self.settings.fast_path_streams
        ahead = [r for r in ready if streaming and self._streams_text(r.job.model_id)]
        ahead_ids = {r.job_id for r in ahead}
        rest = {
            r.job_id for r in self._take_fast([r for r in ready if r.job_id not in ahead_ids], now)
        }
        ready = [r for r in ready if r.job_id in ahead_ids or r.job_id in rest]
        if not ready:
            return
        started = self._start_ahead(ahead)
        # An RPC failure here leaves the started jobs unclaimed: they go on as fast-path jobs.
        won, refused = self.claimer.claim(ready)
        for job in won:
            early = started.pop(job.job_id, None)
            if early is not None:  # decoding already: now it is ours, readers may see it
                early.job, early.claim_deadline = job.job, job.claim_deadline
                early.speculative = False
                self.streams.confirm(job.job_id)
                continue
            self.held[job.job_id] = job
            self.saved.open_jobs.pop(job.job_id, None)
            self._open_stream(job)
        for early in started.values():
            self._drop(early, "another worker claimed this job first")
        self.metrics.claimed.inc(len(won))
        if refused is None:  # the batch went through: whatever it did not claim, a rival did
            self.metrics.races_lost.labels("claim").inc(len(ready) - len(won))
        if won:
            log.info("claimed", extra={"job_ids": [j.job_id for j in won]})
        if won or ahead:
            self._save()
        if refused is not None:
            self.standing.check(refused)

    def _within_allocation(self, records: list[JobRecord]) -> list[JobRecord]:
        """The jobs of ``records`` whose collateral the free allocation covers, oldest first.

        Unclaimed jobs already held (fast path, decoding ahead) lock theirs when they are
        claimed or submitted, so it is set aside for them first."""
        if not records:
            return records
        free = self.standing.free({r.job.terms.token for r in records})
        for job in list(self.held.values()):
            token = job.job.terms.token
            if job.speculative and job.phase not in DONE and token in free:
                free[token] -= job.job.terms.collateral
        return self.claimer.within(records, free)

    def _start_ahead(self, records: list[JobRecord]) -> dict[int, TrackedJob]:
        """Hold ``records`` unclaimed (speculative) and start decoding them now, their streams
        open but held back from readers until the claim is won; by job id."""
        started: dict[int, TrackedJob] = {}
        for record in records:
            job = TrackedJob.held_open(record)
            self.held[job.job_id] = job
            self.saved.open_jobs.pop(job.job_id, None)
            started[job.job_id] = job
            stream = self.streams.open(
                job.job_id, job.job.requester, job.job.terms.token, held=False
            )
            outcome = self.fetcher.get(record.input_cid)
            if isinstance(outcome, bytes):
                job.fetched(outcome)
                self.generations.start(job, self.runner.runtime(job.model_id), stream)
            elif outcome is not None:  # the requester's fault: claimed only to report it
                job.ran(None, outcome, 0.0)
                stream.fail("input.invalid", f"the worker refuses the input: {outcome}")
        return started

    def _drop(self, job: TrackedJob, why: str) -> None:
        """Stop an unclaimed job that is not this worker's: its readers learn ``job.lost``."""
        self.streams.drop(job.job_id, "job.lost", why)
        self.generations.cancel(job.job_id)
        if job.phase is not Phase.DROPPED:
            job.advance(Phase.DROPPED)
        log.debug("started job lost its claim", extra={"job_id": job.job_id})

    def _streams_text(self, model_id: int) -> bool:
        try:
            return streams_text(self.runner.runtime(model_id))
        except TransientFailure:
            return False

    def _take_fast(self, ready: list[JobRecord], now: int) -> list[JobRecord]:
        """Hold short jobs unclaimed, to run first and submit on Open (claim and submit in
        one transaction); returns the jobs left to claim first."""
        s = self.settings
        slow: list[JobRecord] = []
        fast: list[TrackedJob] = []
        for record in ready:
            expected = self._estimate.get(record.job.model_id, DEFAULT_ESTIMATE_S)
            in_time = record.request_deadline - now > 2 * expected + s.deadline_margin_s
            if expected > s.fast_path_max_s or not in_time:
                slow.append(record)
                continue
            fast.append(TrackedJob.held_open(record))
        for job in fast:
            self.held[job.job_id] = job
            self.saved.open_jobs.pop(job.job_id, None)
        if fast:
            log.info(
                "fast path: running before claiming", extra={"job_ids": [j.job_id for j in fast]}
            )
        return slow

    def _loadable(self, model_ids: set[int]) -> set[int]:
        """Models whose runtime loads: a job of one that cannot would end in a slash.

        A model that failed is tried again after ``MODEL_RETRY_S`` (its bundle may appear on
        IPFS), so one unserved bundle costs one IPFS timeout per period, not one per tick.
        """
        loadable = set()
        for model_id in model_ids:
            if time.monotonic() < self._model_retry_at.get(model_id, 0.0):
                continue
            try:
                self.runner.runtime(model_id)
            except TransientFailure as exc:
                if model_id not in self._model_retry_at:
                    log.warning(
                        "model cannot load; its jobs are not claimed",
                        extra={"model_id": model_id, "error": str(exc)},
                    )
                self._model_retry_at[model_id] = time.monotonic() + MODEL_RETRY_S
                continue
            if self._model_retry_at.pop(model_id, None) is not None:
                log.info("model loads again; claiming its jobs", extra={"model_id": model_id})
            loadable.add(model_id)
        return loadable

    def _take_inputs(self, now: int) -> None:
        """Move claimed jobs whose inputs arrived on; report fetch failures once each."""
        claimed = [j for j in self.held.values() if j.phase in AWAITING_INPUT]
        for job in claimed:
            outcome = self.fetcher.get(job.input_cid)
            if isinstance(outcome, bytes):
                job.fetched(outcome)
            elif outcome is not None:
                job.ran(None, outcome, 0.0)  # the requester's fault: report it
        for cid, exc, attempts in self.fetcher.failures():
            mine = [j for j in claimed if j.input_cid == cid and j.phase in AWAITING_INPUT]
            if mine:
                self._retry("fetch", [(j, exc) for j in mine], now)
                continue
            self.metrics.retries.labels("prefetch").inc()
            log.log(
                logging.INFO if attempts == 1 else logging.DEBUG,
                "input not fetchable; its jobs stay unclaimed",
                extra={"cid": _cid_text(cid), "error": str(exc), "attempts": attempts},
            )

    def _read_input(self, job: TrackedJob) -> bytes:
        """A job's input read again (a restarted worker proving a pinned job)."""
        try:
            return self.ipfs.cat(Cid.parse(job.input_cid), max_size=self.settings.max_input_bytes)
        except IpfsError as exc:
            raise TransientFailure(f"cannot read the input of job {job.job_id}: {exc}") from exc

    def _open_stream(self, job: TrackedJob) -> None:
        """Open the job's stream as soon as it is held, if its model streams."""
        try:
            runtime = self.runner.runtime(job.model_id)
        except TransientFailure:
            return  # its run retries the model
        if streams_text(runtime):
            self.streams.open(job.job_id, job.job.requester, job.job.terms.token)

    def _run_batches(self, now: int) -> None:
        self._collect_generations(now)
        # Stopping without grace time: held jobs stay claimed for the next start (below).
        may_start = not self.draining or self.settings.shutdown_grace_s > 0
        for job in self._due(Phase.FETCHED):
            if job.job_id in self._queued or job.job_id in self.generations:
                continue
            try:
                runtime = self.runner.runtime(job.model_id)
            except TransientFailure as exc:
                self._retry("run", [(job, exc)], now)
                continue
            if streams_text(runtime):
                if not may_start:
                    continue
                stream = self.streams.get(job.job_id)
                if stream is None or stream.ended:  # restored from disk, or a retry
                    stream = self.streams.open(
                        job.job_id, job.job.requester, job.job.terms.token,
                        held=not job.speculative,
                    )  # fmt: skip
                self.generations.start(job, runtime, stream)
                continue
            self.batcher.add(job)
            self._queued.add(job.job_id)
        # Draining flushes partial batches, unless there is no grace time to finish them in:
        # then what is held stays claimed for the next start (a step already under way
        # when stop() came must not start inference either).
        flush = self.draining and self.settings.shutdown_grace_s > 0
        for batch in self.batcher.ready(flush=flush):
            self._queued.difference_update(j.job_id for j in batch)
            batch = [j for j in batch if j.phase is Phase.FETCHED]
            if not batch:
                continue
            if self.proving is not None:  # before the run: it drops the inputs
                self.proving.start(batch, self.runner.runtime)
            try:
                elapsed = self.runner.run(batch)
            except TransientFailure as exc:
                self._retry("run", [(j, exc) for j in batch], now)
                continue
            self.metrics.batch_size.observe(len(batch))
            self.metrics.inference_s.observe(elapsed)

    def _collect_generations(self, now: int) -> None:
        for job, failure, elapsed in self.generations.collect():
            if failure is not None:
                self._retry("run", [(job, failure)], now)
                continue
            self.metrics.batch_size.observe(1)
            self.metrics.inference_s.observe(elapsed)

    def _submit(self, now: int) -> None:
        ready = self._due(Phase.PINNED)
        if self.proving is not None:  # a ZK job waits here for its proof
            ready = self.proving.gate(ready, self.runner.runtime)
        if not ready:
            return
        on_open = {j.job_id for j in ready if j.speculative}  # a submission clears the flag
        failures = self.submitter.submit(ready, now)
        for job in ready:
            if job.phase is Phase.SUBMITTED:
                took = time.monotonic() - job.claimed_at
                self.metrics.completed.inc()
                self.metrics.end_to_end_s.observe(took)
                old = self._estimate.get(job.model_id, took)
                self._estimate[job.model_id] = 0.8 * old + 0.2 * took
                if job.job_id in on_open:
                    self.metrics.fast_path.inc()
                    self.streams.confirm(job.job_id)  # its submission claimed it
            elif job.phase is Phase.FAILED:
                self.metrics.failed.inc()
            elif job.phase is Phase.DROPPED:
                self.metrics.races_lost.labels("submit").inc()
        self._retry("submit", failures, now)
        self._save()

    def _settle(self, head: int, now: int) -> None:
        """Finalize matured results; resolve or expire disputed ones (workers/disputes.py)."""
        submitted = [j for j in self.held.values() if j.phase is Phase.SUBMITTED]
        earned = self.settler.finalize(submitted, now)
        newly_disputed = [j for j in submitted if j.phase is Phase.DISPUTED]
        self.metrics.disputed.inc(len(newly_disputed))
        self.metrics.finalized.inc(sum(1 for j in submitted if j.phase is Phase.FINALIZED))
        # Settled by someone else: paid (counted above as finalized), or a dispute that
        # ended before the challenge window closed.
        ended = list(self.settler.ended)
        disputed = [j for j in self.held.values() if j.phase is Phase.DISPUTED]
        ended += self.disputes.settle(disputed, head, now)
        for job, end in ended:
            self._dispute_ended(job, end)
            if end.paid:
                token = job.job.terms.token
                earned[token] = earned.get(token, 0) + end.amount
        self.metrics.finalized.inc(sum(1 for j in disputed if j.phase is Phase.FINALIZED))
        for token, amount in earned.items():
            self.earned[token] = self.earned.get(token, 0) + amount
            self.metrics.earnings.labels(token).inc(amount)
        if earned:
            tokens = {j.job.terms.token for j in submitted + disputed}
            self.settler.maybe_withdraw(self.settings.auto_withdraw_threshold, tokens)
        if earned or newly_disputed or ended:
            self._save()

    def _dispute_ended(self, job: TrackedJob, end: JobEnd) -> None:
        if end.outcome in ("won", "expired", "lost"):
            self.metrics.disputes_ended.labels(end.outcome).inc()
        if end.outcome == "lost":
            self.metrics.slashed.labels(job.job.terms.token).inc(end.amount)

    # -- policy ------------------------------------------------------------------------

    def _retry(self, stage: str, failures: list[tuple[TrackedJob, Exception]], now: int) -> None:
        """One retry policy for every stage: capped backoff per job, louder near the deadline."""
        for job, exc in failures:
            self.metrics.retries.labels(stage).inc()
            job.later(min(0.2 * 2**job.attempts, 10.0))
            left = job.claim_deadline - now
            extra = {"job_id": job.job_id, "stage": stage, "error": str(exc), "deadline_in_s": left}
            if left <= self.settings.deadline_margin_s:
                log.error("claimed job near its deadline and still failing", extra=extra)
            else:
                log.warning("transient failure; will retry", extra=extra)

    def _expire(self, now: int) -> None:
        for job in self.held.values():
            if job.speculative and job.phase in IN_FLIGHT and now >= job.claim_deadline:
                log.info(
                    "fast-path job past its request deadline; dropped", extra={"job_id": job.job_id}
                )
                job.advance(Phase.DROPPED)
            elif job.phase in IN_FLIGHT and now >= job.claim_deadline:
                log.error("claim deadline passed; abandoning", extra={"job_id": job.job_id})
                job.advance(Phase.ABANDONED)
                self.generations.cancel(job.job_id)
                self.metrics.abandoned.inc()

    def _due(self, phase: Phase) -> list[TrackedJob]:
        return [j for j in self.held.values() if j.phase is phase and j.due()]

    def _forget_done(self) -> None:
        done = [i for i, j in self.held.items() if j.phase in DONE]
        for job_id in done:
            if self.held[job_id].phase is Phase.DROPPED:  # a rival's, or too late: no text
                self._drop(self.held[job_id], "this worker does not hold the job")
            del self.held[job_id]
        if done:
            self._save()

    def _fingerprint(self) -> tuple[object, ...]:
        return (
            tuple(sorted((i, j.phase) for i, j in self.held.items())),
            len(self.saved.open_jobs),
            len(self.batcher),
            len(self.generations),
        )

    def _estimate_s(self, model_id: int) -> float:
        return 2 * self._estimate.get(model_id, DEFAULT_ESTIMATE_S)

    # -- state -------------------------------------------------------------------------

    def _reconcile(self) -> WorkerState:
        s, market = self.settings, self.market
        block = self.chain.w3.eth.get_block("latest")
        head, now = int(block["number"]), int(block["timestamp"])
        first = market.addresses.deployed_block
        binding = ChainBinding.of(self.chain, market.addresses)
        state = restore_state(self._state_path, binding, head) or WorkerState(binding, first - 1)
        me = self.sender.address
        records = own_records(market, me, state.last_block + 1, head, s.log_chunk_blocks)
        if self._locks_unknown_jobs(state, records):
            log.info("state behind the market's collateral locks; folding the whole history")
            records = own_records(market, me, first, head, s.log_chunk_blocks)
        state.held = reconcile_held(self.chain, market, state.held, records, now)
        state.open_jobs, state.last_block = self.discovery.scan(
            state.open_jobs, state.last_block, head
        )
        state.open_jobs = self.discovery.prune(state.open_jobs)
        self._last_reconcile = time.monotonic()
        return state

    def _locks_unknown_jobs(self, state: WorkerState, records: dict[int, JobRecord]) -> bool:
        """Whether the market locks more collateral of this worker than every job the state
        and the recent logs know of could account for: then jobs were claimed that neither
        remembers (a stale state file)."""
        assert self.account is not None
        known: Counter[str] = Counter()
        jobs = {job_id: tracked.job for job_id, tracked in state.held.items()}
        jobs.update({job_id: record.job for job_id, record in records.items()})
        for job in jobs.values():
            known[job.terms.token] += job.terms.collateral
        return any(t.locked > known[t.token] for t in self.account.tokens.values())

    def _save(self) -> None:
        if hasattr(self, "saved"):
            self.saved.held = self.held
            save_state(self._state_path, self.saved)


def _cid_text(raw: bytes) -> str:
    try:
        return str(Cid.parse(raw))
    except InvalidCid:
        return raw.hex()
