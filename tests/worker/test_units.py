"""Pure parts of the worker: job lifecycle, batching, saved state, backoff, settings, logs."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from pydantic import ValidationError
from web3 import Web3

from inferchain.bundle import InvalidInput
from inferchain.deploy.errors import DeploymentMissing
from inferchain.errors import ConfigError
from inferchain.ipfs import Cid, IpfsTimeout, NodeStat
from inferchain.market import ETH, Job, JobRecord, JobStatus, JobTerms, MarketAddresses
from inferchain.service import Backoff, Service, ServiceState, ServiceStateError
from inferchain.settings import load_settings
from inferchain.wallet.errors import WrongPassword
from inferchain.wallet.keystore import write_keystore
from inferchain.worker import (
    IllegalTransition,
    Phase,
    TrackedJob,
    WorkerNotReady,
    WorkerSettings,
)
from inferchain.worker.batcher import Batcher
from inferchain.worker.disputes import JobEnd, end_of
from inferchain.worker.errors import StateFileUnusable
from inferchain.worker.fetcher import InputFetcher
from inferchain.worker.lock import KeyLock
from inferchain.worker.logs import JsonFormatter
from inferchain.worker.metrics import health_doc
from inferchain.worker.settings import parse_token_amounts
from inferchain.worker.state import (
    ChainBinding,
    WorkerState,
    load_state,
    restore_state,
    save_state,
)
from inferchain.worker.tracked import DONE, IN_FLIGHT

TERMS = JobTerms(ETH, 10, "0x" + "11" * 20, 1000, 250, 0, 600, 60, ETH, 0, dispute_bond=1)
JOB = Job("0x" + "22" * 20, 1, TERMS, worker="0x" + "33" * 20)
CID = Cid.for_raw_block(b"out")


def _tracked(job_id: int = 1, model_id: int = 1) -> TrackedJob:
    job = Job(JOB.requester, model_id, TERMS, worker=JOB.worker)
    return TrackedJob(job_id, job, CID.to_bytes(), claim_deadline=1000)


def test_lifecycle_happy_path_sets_the_output_on_the_tuple() -> None:
    job = _tracked()
    job.fetched(b"in")
    job.ran(b"out", None, 0.1)
    job.pinned(CID, b"\x01" * 32)
    job.submitted(2000)
    assert job.phase is Phase.SUBMITTED and job.job.output_digest == CID.digest
    assert job.input is None and job.output is None
    job.advance(Phase.FINALIZED)


def test_lifecycle_refuses_skipping_and_leaving_final_phases() -> None:
    job = _tracked()
    with pytest.raises(IllegalTransition, match="claimed -> pinned"):
        job.advance(Phase.PINNED)
    job.advance(Phase.ABANDONED)
    with pytest.raises(IllegalTransition):
        job.advance(Phase.CLAIMED)


def test_refusal_goes_straight_from_claimed_to_ran_and_is_a_failure() -> None:
    job = _tracked()
    job.ran(None, InvalidInput("oversize", "big"), 0.0)
    job.pinned(CID, None)
    assert job.is_failure
    job.advance(Phase.FAILED)


def test_batcher_releases_full_batches_at_once_and_others_after_the_wait() -> None:
    batcher = Batcher(max_batch=2, max_wait_s=0.05)
    for i in range(3):
        batcher.add(_tracked(i))
    batcher.add(_tracked(9, model_id=2))
    assert [[j.job_id for j in b] for b in batcher.ready()] == [[0, 1]]
    assert batcher.next_due_s() is not None
    time.sleep(0.06)
    assert sorted([j.job_id for j in b] for b in batcher.ready()) == [[2], [9]]
    assert len(batcher) == 0 and batcher.next_due_s() is None


def test_batcher_flush_takes_everything() -> None:
    batcher = Batcher(max_batch=8, max_wait_s=60)
    batcher.add(_tracked(1))
    assert batcher.ready() == []
    assert [j.job_id for b in batcher.ready(flush=True) for j in b] == [1]


BINDING = ChainBinding(1, "0xab", "00" * 32, 3, "11" * 32)


def test_state_round_trips_and_keeps_only_pins(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    pinned, running = _tracked(1), _tracked(2)
    pinned.fetched(b"x")
    pinned.ran(b"y", None, 0)
    pinned.pinned(CID, b"\x02" * 32)
    running.fetched(b"x")
    record = JobRecord(5, JOB, JobStatus.OPEN, CID.to_bytes(), 99, 3)
    save_state(path, WorkerState(BINDING, 42, {5: record}, {1: pinned, 2: running}))
    state = load_state(path, BINDING, head=50)
    assert state is not None and state.last_block == 42
    assert state.open_jobs == {5: record}
    assert state.held[1].phase is Phase.PINNED and state.held[1].pinned_cid == CID
    assert state.held[2].phase is Phase.CLAIMED  # unpinned work is redone
    assert state.held[1].job == pinned.job
    assert list(tmp_path.iterdir()) == [path]  # no temp files left
    assert load_state(tmp_path / "missing.json", BINDING, head=50) is None


def _submitted(job_id: int = 1) -> TrackedJob:
    job = _tracked(job_id)
    job.fetched(b"x")
    job.ran(b"y", None, 0)
    job.pinned(CID, b"\x02" * 32)
    job.submitted(2000)
    return job


def test_a_disputed_job_ends_paid_or_lost_and_nothing_else() -> None:
    won, lost = _submitted(1), _submitted(2)
    for job in (won, lost):
        job.disputed(9000)
        assert job.phase is Phase.DISPUTED and job.arbitration_deadline == 9000
        assert job.phase not in DONE and job.phase not in IN_FLIGHT
        with pytest.raises(IllegalTransition, match="disputed -> submitted"):
            job.advance(Phase.SUBMITTED)
    won.advance(Phase.FINALIZED)
    lost.advance(Phase.LOST)
    assert lost.phase in DONE
    with pytest.raises(IllegalTransition):
        lost.advance(Phase.FINALIZED)


def test_state_keeps_a_disputed_job_and_reads_files_from_before_disputes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.json"
    disputed = _submitted(3)
    disputed.disputed(9000)
    save_state(path, WorkerState(BINDING, 42, {}, {3: disputed, 4: _submitted(4)}))
    state = load_state(path, BINDING, head=50)
    assert state is not None
    back = state.held[3]
    assert (back.phase, back.arbitration_deadline, back.challenge_deadline) == (
        Phase.DISPUTED, 9000, 2000,
    )  # fmt: skip
    assert back.job == disputed.job and back.pinned_cid == CID
    # A file written before disputed jobs were kept has no arbitration deadline: still read.
    doc = json.loads(path.read_text())
    for entry in doc["held"]:
        del entry["arbitration_deadline"]
    doc["held"] = [e for e in doc["held"] if e["phase"] != "disputed"]
    path.write_text(json.dumps(doc))
    state = load_state(path, BINDING, head=50)
    assert state is not None and state.held[4].phase is Phase.SUBMITTED
    assert state.held[4].arbitration_deadline is None


def _event(name: str, **args: object) -> dict[str, object]:
    return {"event": name, "args": args}


def test_a_jobs_end_events_say_paid_won_expired_or_lost() -> None:
    finalized = _event("JobFinalized", workerAmount=7)
    assert end_of([finalized]) == JobEnd("paid", 7)
    assert end_of([_event("DisputeExpired"), finalized]) == JobEnd("expired", 7)
    won = _event("DisputeResolved", workerWins=True, slashed=0)
    assert end_of([won, finalized]) == JobEnd("won", 7)
    lost = _event("DisputeResolved", workerWins=False, slashed=5)
    assert end_of([lost]) == JobEnd("lost", 5)
    assert end_of([]) == JobEnd("unknown")
    assert JobEnd("won", 7).paid and not JobEnd("lost", 5).paid


def _speculative(job_id: int = 7) -> TrackedJob:
    """A fast-path job: the unclaimed tuple, due by its request deadline."""
    job = Job.new(JOB.requester, 1, CID, TERMS)
    return TrackedJob(job_id, job, CID.to_bytes(), 1000, phase=Phase.OPEN, speculative=True)


def test_fast_path_job_submits_as_the_claim_or_drops_quietly() -> None:
    won = _speculative()
    won.fetched(b"in")
    won.ran(b"out", None, 0.1)
    won.pinned(CID, b"\x01" * 32)
    won.submitted(2000, worker=JOB.worker)
    assert won.job.worker == JOB.worker and not won.speculative
    lost = _speculative()
    lost.fetched(b"in")
    lost.advance(Phase.DROPPED)
    assert lost.phase in DONE and lost.phase not in IN_FLIGHT
    with pytest.raises(IllegalTransition, match="open -> abandoned"):
        _speculative().advance(Phase.ABANDONED)  # nothing is owed: it is dropped, not abandoned


def test_state_keeps_a_fast_path_job_unclaimed(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    running, pinned = _speculative(1), _speculative(2)
    running.fetched(b"x")
    pinned.fetched(b"x")
    pinned.ran(b"y", None, 0)
    pinned.pinned(CID, b"\x02" * 32)
    save_state(path, WorkerState(BINDING, 42, {}, {1: running, 2: pinned}))
    state = load_state(path, BINDING, head=50)
    assert state is not None
    assert state.held[1].phase is Phase.OPEN and state.held[1].speculative
    assert state.held[2].phase is Phase.PINNED and state.held[2].job == pinned.job
    assert state.held[2].job.input_digest == CID.digest


@pytest.mark.parametrize(
    ("other", "problem"),
    [
        (replace(BINDING, chain_id=2), "another chain or deployment"),
        (replace(BINDING, market="0xcd"), "another chain or deployment"),
        (replace(BINDING, genesis_hash="22" * 32), "another chain or deployment"),
        (replace(BINDING, deployed_block_hash="33" * 32), "another chain or deployment"),
    ],
)
def test_state_of_another_chain_or_deployment_is_unusable(
    tmp_path: Path, other: ChainBinding, problem: str
) -> None:
    path = tmp_path / "state.json"
    save_state(path, WorkerState(BINDING, 7))
    with pytest.raises(StateFileUnusable, match=problem) as caught:
        load_state(path, other, head=50)
    assert str(path) in str(caught.value)


def test_state_scanned_past_the_head_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_state(path, WorkerState(BINDING, 70))
    with pytest.raises(StateFileUnusable, match="last_block 70 is ahead of the chain head 50"):
        load_state(path, BINDING, head=50)


def _saved_doc(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "good.json"
    held = _tracked(1)
    record = JobRecord(5, JOB, JobStatus.OPEN, CID.to_bytes(), 99, 3)
    save_state(path, WorkerState(BINDING, 42, {5: record}, {1: held}))
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda doc: b"{not json", r"is not JSON \(syntax\)"),
        (lambda doc: b"\xff\xfe", r"is not JSON \(not_utf8\)"),
        (lambda doc: b"", r"is not JSON"),
        (lambda doc: b"[1, 2]", "holds a JSON list, expected an object"),
        (lambda doc: b'"state"', "holds a JSON str, expected an object"),
        (lambda doc: {**doc, "last_block": "abc"}, "last_block is 'abc', expected a block"),
        (lambda doc: {**doc, "last_block": None}, "last_block is None, expected a block"),
        (lambda doc: {**doc, "last_block": True}, "last_block is True, expected a block"),
        (lambda doc: {**doc, "version": 2}, "format version 2; this worker reads 3"),
        (lambda doc: {k: v for k, v in doc.items() if k != "binding"}, "another chain"),
        (lambda doc: {**doc, "open_jobs": None}, "malformed job entry"),
        (lambda doc: {**doc, "held": [{"job_id": "1"}]}, "malformed job entry"),
        (lambda doc: {**doc, "held": [{**doc["held"][0], "job_id": "1"}]}, "job_id is '1'"),
        (
            lambda doc: {**doc, "open_jobs": [{**doc["open_jobs"][0], "status": 99}]},
            "malformed job entry",
        ),
    ],
)
def test_damaged_state_is_unusable_and_names_the_file_and_problem(
    tmp_path: Path, damage: Callable[[dict[str, Any]], object], problem: str
) -> None:
    path = tmp_path / "state.json"
    damaged = damage(_saved_doc(tmp_path))
    path.write_bytes(damaged if isinstance(damaged, bytes) else json.dumps(damaged).encode())
    with pytest.raises(StateFileUnusable, match=problem) as caught:
        load_state(path, BINDING, head=50)
    assert str(caught.value).startswith(f"worker state file {path}: ")


def test_unreadable_state_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.mkdir()  # reading a directory fails, whoever runs the test (root ignores modes)
    with pytest.raises(StateFileUnusable, match="cannot be read"):
        load_state(path, BINDING, head=50)


def test_unusable_state_is_set_aside_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"version": 2, "last_block": "abc"}')
    with caplog.at_level(logging.WARNING, logger="inferchain.worker.state"):
        assert restore_state(path, BINDING, head=50) is None
    assert not path.exists()
    (aside,) = tmp_path.glob("state.json.unusable-*")
    assert aside.read_text() == '{"version": 2, "last_block": "abc"}'
    (record,) = caplog.records
    assert str(path) in record.getMessage() and aside.name in record.getMessage()
    assert "rebuilding the state from the chain" in record.getMessage()


def test_state_that_cannot_be_set_aside_refuses_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    path.write_text("[]")

    def refuse(*_args: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("inferchain.worker.state.os.replace", refuse)
    with pytest.raises(WorkerNotReady, match=r"cannot be moved aside.*move or delete it"):
        restore_state(path, BINDING, head=50)


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(initial=1, cap=3)
    assert [backoff.failed() for _ in range(4)] == [1, 2, 3, 3]
    backoff.succeeded()
    assert backoff.failed() == 1 and backoff.failures == 1


class _Counter(Service):
    name = "counter"

    def __init__(self) -> None:
        super().__init__(interval_s=0.01, grace_s=0.2)
        self.steps = 0
        self.left = 3

    def step(self) -> bool:
        self.steps += 1
        if self.draining:
            self.left -= 1
        return True

    def drained(self) -> bool:
        return self.left <= 0


def test_service_drains_then_stops_and_cannot_restart() -> None:
    service = _Counter()
    service.start()
    time.sleep(0.05)
    service.stop()
    assert service.state is ServiceState.STOPPED and service.left == 0
    with pytest.raises(ServiceStateError):
        service.start()


def test_settings_from_env_and_refusals(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INFERCHAIN_WORKER_MODELS", "[1, 2]")
    monkeypatch.setenv("INFERCHAIN_WORKER_INFERENCE_BATCH_SIZE", "8")
    s = load_settings(WorkerSettings)
    assert s.models == [1, 2] and s.inference_batch_size == 8
    assert "ac09" not in repr(s)  # the key is a secret
    with pytest.raises(ConfigError, match="dev key"):
        load_settings(WorkerSettings, mode="production")
    with pytest.raises(ConfigError, match="inference_batch_size"):
        load_settings(WorkerSettings, inference_batch_size=257)
    empty = load_settings(WorkerSettings, deployments_dir=tmp_path)
    with pytest.raises(DeploymentMissing, match="run `inferchain deploy"):
        empty.market_addresses(31337)
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"job_market": "0x1"}))
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(WorkerSettings, market_addresses_file=bad).market_addresses(31337)


def test_settings_take_market_from_the_deployment_record(tmp_path: Path) -> None:
    addresses = MarketAddresses(
        *("0x" + str(i) * 40 for i in range(1, 8)),
        7,
    )
    (tmp_path / "m.json").write_text(json.dumps(addresses.to_dict()))
    from_file = load_settings(WorkerSettings, market_addresses_file=tmp_path / "m.json")
    assert from_file.market_addresses(1) == addresses


def test_keystore_key_wins_over_private_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    account = Account.create()
    path = tmp_path / "key.json"
    write_keystore(path, account.key.to_0x_hex(), "pw")
    monkeypatch.setenv("INFERCHAIN_KEYSTORE_PASSWORD", "pw")
    s = load_settings(WorkerSettings, keystore=path)
    assert Account.from_key(s.signing_key().get_secret_value()).address == account.address
    monkeypatch.setenv("INFERCHAIN_KEYSTORE_PASSWORD", "wrong")
    with pytest.raises(WrongPassword):
        s.signing_key()


def test_json_logs_carry_extra_fields() -> None:
    record = logging.LogRecord("w", logging.INFO, "f", 1, "claimed %s", ("x",), None)
    record.job_id = 7
    doc = json.loads(JsonFormatter().format(record))
    assert doc["msg"] == "claimed x" and doc["job_id"] == 7 and doc["level"] == "info"


class _SlowIpfs:
    """A node that holds ``files`` and answers at once, and times out on anything else."""

    def __init__(self, files: dict[Cid, bytes]) -> None:
        self.files = files
        self.asked: list[Cid] = []
        self.release = threading.Event()

    def stat(self, cid: Cid, *, timeout: float) -> NodeStat:
        self.asked.append(cid)
        if cid not in self.files:
            self.release.wait(timeout)
            raise IpfsTimeout(f"no node has {cid}")
        return NodeStat(cid, "file", len(self.files[cid]))

    def cat(self, cid: Cid, *, timeout: float, max_size: int) -> bytes:
        return self.files[cid]


def _wait_for(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_fetcher_keeps_threads_for_fresh_inputs_while_missing_ones_retry() -> None:
    good = {Cid.for_raw_block(b"good %d" % i): b"good %d" % i for i in range(3)}
    missing = [Cid.for_raw_block(b"missing %d" % i) for i in range(4)]
    ipfs = _SlowIpfs(good)
    fetcher = InputFetcher(ipfs, timeout_s=0.05, max_bytes=100, cache_bytes=1000, threads=4)  # type: ignore[arg-type]
    try:
        fetcher.want(c.to_bytes() for c in missing)  # every thread busy, then all fail
        failed: list[tuple[bytes, Exception, int]] = []

        def all_failed() -> bool:
            failed.extend(fetcher.failures())
            return len(failed) == len(missing)

        _wait_for(all_failed)
        assert {cid for cid, _, _ in failed} == {c.to_bytes() for c in missing}
        for backoff in fetcher._failed.values():  # all due for a retry at once
            backoff.retry_at = 0.0
        ipfs.asked.clear()
        wanted = [*(c.to_bytes() for c in missing), *(c.to_bytes() for c in good)]
        fetcher.want(wanted)  # what the node does every tick
        assert len(ipfs.asked) <= 4 and len(set(ipfs.asked) & set(missing)) <= 2

        def all_good_fetched() -> bool:
            fetcher.want(wanted)
            return all(fetcher.get(c.to_bytes()) is not None for c in good)

        _wait_for(all_good_fetched)
        assert [fetcher.get(c.to_bytes()) for c in good] == list(good.values())
    finally:
        ipfs.release.set()
        fetcher.close()


def test_fetcher_refuses_what_is_the_requesters_fault_without_downloading() -> None:
    big = Cid.for_raw_block(b"x" * 200)
    ipfs = _SlowIpfs({big: b"x" * 200})
    fetcher = InputFetcher(ipfs, timeout_s=1, max_bytes=100, cache_bytes=1000)  # type: ignore[arg-type]
    try:
        fetcher.want([big.to_bytes(), b"\x01not a cid"])
        _wait_for(lambda: fetcher.get(big.to_bytes()) is not None)
        _wait_for(lambda: fetcher.get(b"\x01not a cid") is not None)
        oversize, undecodable = fetcher.get(big.to_bytes()), fetcher.get(b"\x01not a cid")
        assert isinstance(oversize, InvalidInput) and oversize.reason == "oversize"
        assert isinstance(undecodable, InvalidInput) and undecodable.reason == "undecodable"
        assert fetcher.failures() == []
    finally:
        fetcher.close()


def test_fetcher_cache_evicts_the_least_recently_used_input() -> None:
    files = {Cid.for_raw_block(bytes([i]) * 40): bytes([i]) * 40 for i in range(3)}
    first, second, third = (c.to_bytes() for c in files)
    fetcher = InputFetcher(_SlowIpfs(files), timeout_s=1, max_bytes=100, cache_bytes=90)  # type: ignore[arg-type]
    try:
        for cid in (first, second):
            fetcher.want([cid])
            _wait_for(lambda cid=cid: fetcher.get(cid) is not None)  # type: ignore[misc]
        fetcher.get(first)  # used again: the second is now the oldest
        fetcher.want([third])
        _wait_for(lambda: fetcher.get(third) is not None)
        assert fetcher.get(first) is not None and fetcher.get(second) is None
    finally:
        fetcher.close()


def test_health_doc_names_each_problem() -> None:
    now = time.monotonic()
    assert health_doc(now, 15)["status"] == "ok"
    stale = health_doc(now - 20, 15, tick_error="rpc down", ipfs_error="refused")
    assert stale["ok"] is False and stale["status"] == "unhealthy"
    assert stale["reasons"] == [
        "no good tick for 20 s (limit 15 s); last error: rpc down",
        "IPFS not answering: refused",
    ]
    stuck = health_doc(now - 20, 15)
    assert "stuck (chain RPC not answering?)" in stuck["reasons"][0]  # type: ignore[index]
    short = health_doc(now, 15, cannot_claim="no allocation to this market")
    assert short["status"] == "cannot_claim" and short["ok"] is False
    assert short["reasons"] == ["cannot claim: no allocation to this market"]


def test_key_lock_refuses_a_second_holder_until_released(tmp_path: Path) -> None:
    path = tmp_path / "state-0xab.lock"
    first, second = KeyLock(path, "0xAb"), KeyLock(path, "0xAb")
    first.acquire()
    with pytest.raises(WorkerNotReady, match=f"already running with 0xAb \\(pid {os.getpid()}"):
        second.acquire()
    first.release()
    second.acquire()
    second.release()


def test_stake_and_allocation_settings_are_wei_per_checksummed_token() -> None:
    token = "0x" + "ab" * 20
    parsed = parse_token_amounts(["100", f"{token}=7", "eth=5"])
    assert parsed == {ETH: 5, Web3.to_checksum_address(token): 7}  # later flags win
    s = WorkerSettings(stake={"eth": 10**18}, allocation={"0x" + "AB" * 20: 1})
    assert s.stake == {ETH: 10**18} and s.allocation == {Web3.to_checksum_address(token): 1}
    for bad in (["nowhere=1"], ["-1"], ["1.5"], {"eth": True}, {"eth": 0.5}):
        with pytest.raises(ValueError, match="is not"):
            parse_token_amounts(bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        WorkerSettings(allocation={"eth": -1})
