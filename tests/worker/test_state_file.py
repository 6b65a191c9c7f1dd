"""A state file that cannot be trusted (damaged, or from a reset chain) is set aside with a
warning naming it, and the worker rebuilds what it holds from the chain."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from inferchain.chain import Chain
from inferchain.ipfs import IpfsClient
from inferchain.worker import Worker
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    REQUESTER,
    SENTIMENT_INPUT,
    WORKER_KEYS,
    Deployed,
    create_job,
    deploy,
    events_named,
    settings,
    wait_until,
)


def _set_aside_warnings(caplog: pytest.LogCaptureFixture, path: Path) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and str(path) in r.getMessage()
    ]


def test_state_from_a_reset_chain_is_set_aside_and_new_jobs_are_served(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    demo_bundles: dict,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="inferchain.worker")
    before = chain.snapshot()
    old = deploy(chain, anvil.keys, anvil.accounts, demo_bundles)
    key = anvil.keys[WORKER_KEYS[0]]
    s = settings(anvil.rpc_url, ipfs_api_url, key, tmp_path, models=[old.sentiment])
    worker = Worker(s, old.market.addresses, register=True)
    worker.start()
    chain.mine(30)
    head = chain.w3.eth.block_number
    wait_until(lambda: worker.saved.last_block >= head, 10, "the scan to reach the head")
    worker.stop()
    # `dev down` + `dev up`: the chain starts over and a redeploy lands on the same addresses
    chain.revert(before)
    chain.increase_time(60)
    new = deploy(chain, anvil.keys, anvil.accounts, demo_bundles)
    assert new.market.addresses.job_market == old.market.addresses.job_market
    assert chain.w3.eth.block_number < head  # the saved last_block is ahead of this chain
    worker = Worker(s, new.market.addresses, register=True)
    worker.start()
    try:
        create_job(chain, new.market, anvil.keys[REQUESTER], new.sentiment,
                   ipfs.add_bytes(SENTIMENT_INPUT))  # fmt: skip
        wait_until(lambda: len(events_named(new.market, "ResultSubmitted")) == 1, 30, "result")
    finally:
        worker.stop()
    (path,) = tmp_path.glob("state-*.json")
    (warning,) = _set_aside_warnings(caplog, path)
    assert "another chain or deployment" in warning
    assert len(list(tmp_path.glob("state-*.json.unusable-*"))) == 1


def test_damaged_state_file_is_set_aside_and_held_jobs_rebuilt_from_the_chain(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="inferchain.worker")
    market, key = deployed.market, anvil.keys[WORKER_KEYS[1]]
    # a lone claimed job waits for a batch; the stop leaves it held (no grace time)
    holding = settings(anvil.rpc_url, ipfs_api_url, key, tmp_path, models=[deployed.sentiment],
                       max_wait_s=600, shutdown_grace_s=0)  # fmt: skip
    worker = Worker(holding, market.addresses, register=True)
    worker.start()
    try:
        job_id, _ = create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment,
                               ipfs.add_bytes(SENTIMENT_INPUT))  # fmt: skip
        wait_until(lambda: worker.in_flight == 1, 30, "claim")
    finally:
        worker.stop()
    (path,) = tmp_path.glob("state-*.json")
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, "last_block": "abc"}))
    worker = Worker(holding.model_copy(update={"max_wait_s": 0.05}), market.addresses)
    worker.start()  # used to die here with a bare ValueError
    try:
        wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 1, 30, "result")
    finally:
        worker.stop()
    assert events_named(market, "ResultSubmitted")[0]["jobId"] == job_id
    (warning,) = _set_aside_warnings(caplog, path)
    assert "last_block is 'abc', expected a block number" in warning
    (aside,) = tmp_path.glob("state-*.json.unusable-*")
    assert json.loads(aside.read_text())["last_block"] == "abc"
    assert worker.failure is None
