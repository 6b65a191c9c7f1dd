"""Pure parts of the worker: job lifecycle, batching, saved state, backoff, settings, logs."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from eth_account import Account

from inferchain.bundle import InvalidInput
from inferchain.deploy.errors import DeploymentMissing
from inferchain.errors import ConfigError
from inferchain.ipfs import Cid
from inferchain.market import ETH, Job, JobRecord, JobStatus, JobTerms, MarketAddresses
from inferchain.settings import load_settings
from inferchain.wallet.errors import WrongPassword
from inferchain.wallet.keystore import write_keystore
from inferchain.worker import IllegalTransition, Phase, TrackedJob, WorkerSettings
from inferchain.worker._service import Backoff, Service, ServiceState
from inferchain.worker.batcher import Batcher
from inferchain.worker.logs import JsonFormatter
from inferchain.worker.state import WorkerState, load_state, save_state

TERMS = JobTerms(ETH, 10, "0x" + "11" * 20, 1000, 250, 0, 600, 60, ETH, 0)
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


def test_state_round_trips_and_keeps_only_pins(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    pinned, running = _tracked(1), _tracked(2)
    pinned.fetched(b"x")
    pinned.ran(b"y", None, 0)
    pinned.pinned(CID, b"\x02" * 32)
    running.fetched(b"x")
    record = JobRecord(5, JOB, JobStatus.OPEN, CID.to_bytes(), 99, 3)
    save_state(path, WorkerState(1, "0xAb", 42, {5: record}, {1: pinned, 2: running}))
    state = load_state(path, 1, "0xab")
    assert state is not None and state.last_block == 42
    assert state.open_jobs == {5: record}
    assert state.held[1].phase is Phase.PINNED and state.held[1].pinned_cid == CID
    assert state.held[2].phase is Phase.CLAIMED  # unpinned work is redone
    assert state.held[1].job == pinned.job
    assert list(tmp_path.iterdir()) == [path]  # no temp files left


def test_state_of_another_market_or_corrupt_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_state(path, WorkerState(1, "0xab", 7))
    assert load_state(path, 2, "0xab") is None
    assert load_state(path, 1, "0xcd") is None
    path.write_text("{not json")
    assert load_state(path, 1, "0xab") is None
    assert load_state(tmp_path / "missing.json", 1, "0xab") is None


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
    with pytest.raises(IllegalTransition):
        service.start()


def test_settings_from_env_and_refusals(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INFERCHAIN_WORKER_MODELS", "[1, 2]")
    monkeypatch.setenv("INFERCHAIN_WORKER_MAX_BATCH_SIZE", "8")
    s = load_settings(WorkerSettings)
    assert s.models == [1, 2] and s.max_batch_size == 8
    assert "ac09" not in repr(s)  # the key is a secret
    with pytest.raises(ConfigError, match="dev key"):
        load_settings(WorkerSettings, mode="production")
    with pytest.raises(ConfigError, match="max_batch_size"):
        load_settings(WorkerSettings, max_batch_size=51)
    empty = load_settings(WorkerSettings, deployments_dir=tmp_path)
    with pytest.raises(DeploymentMissing, match="run `inferchain deploy"):
        empty.market_addresses(31337)
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"job_market": "0x1"}))
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(WorkerSettings, market_addresses_file=bad).market_addresses(31337)


def test_settings_take_market_from_the_deployment_record(tmp_path: Path) -> None:
    addresses = MarketAddresses(
        "0x" + "1" * 40, "0x" + "2" * 40, "0x" + "3" * 40, "0x" + "4" * 40, 7
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
