"""Issue 11 on the worker: a job input of 100,000 nested brackets used to kill every worker
that claimed it (``json.loads`` segfaults under eth-account's recursion limit); the restarted
worker resumed the job, died again and was slashed at the deadline.

Now a real worker process (real Anvil, IPFS and torch) reports it with ``reportFailure``: the
requester is refunded with the early-report fee, the worker stays up and serves the next job.
"""

from __future__ import annotations

import json
from pathlib import Path

from inferchain.chain import Chain
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH
from tests.conftest import AnvilNode
from tests.hostile import DEEP
from tests.worker.helpers import (
    DIGITS_INPUT,
    PRICE,
    REQUESTER,
    STAKE,
    WORKER_KEYS,
    Deployed,
    WorkerProcess,
    create_job,
    events_named,
    stake_of,
    wait_until,
    worker_env,
)

KEY = WORKER_KEYS[3]


def test_deeply_nested_input_is_reported_and_the_worker_serves_the_next_job(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    market, me = deployed.market, anvil.accounts[KEY]
    requester = anvil.accounts[REQUESTER]
    assert len(DEEP) < 4 << 20  # within the digits model's input limit: it reaches the parser
    worker = WorkerProcess(
        worker_env(anvil.rpc_url, ipfs_api_url, anvil.keys[KEY], deployed, tmp_path,
                   models=json.dumps([deployed.digits])),
        tmp_path / "w.log",
    )  # fmt: skip
    try:
        wait_until(lambda: stake_of(chain, market, me) > 0, 60, "the worker staked")

        bad, _ = create_job(chain, market, anvil.keys[REQUESTER], deployed.digits,
                            ipfs.add_bytes(DEEP))  # fmt: skip
        wait_until(
            lambda: (
                bad in {e["jobId"] for e in events_named(market, "JobFailed")}
                or worker.proc.poll() is not None
            ),
            60,
            "the job failed",
        )
        assert worker.proc.poll() is None, (tmp_path / "w.log").read_text()[-3000:]

        good, _ = create_job(chain, market, anvil.keys[REQUESTER], deployed.digits,
                             ipfs.add_bytes(DIGITS_INPUT))  # fmt: skip
        wait_until(
            lambda: good in {e["jobId"] for e in events_named(market, "ResultSubmitted")},
            60,
            "the next job's result",
        )
        assert worker.proc.poll() is None
    finally:
        code = worker.terminate() if worker.proc.poll() is None else worker.proc.returncode
    assert code == 0, (tmp_path / "w.log").read_text()[-3000:]

    (failed,) = events_named(market, "JobFailed")
    assert failed["worker"] == me
    evidence = json.loads(ipfs.cat(Cid.parse(bytes(failed["evidenceCid"]))))
    assert evidence["reason"] == "undecodable" and "too_deep" in evidence["message"]
    (result,) = events_named(market, "ResultSubmitted")
    assert result["worker"] == me and result["jobId"] == good
    # refunded to the requester's market balance with the early-report fee (1 % of the
    # collateral, the price); no timeout: the stake lost that fee only
    assert PRICE // 100 <= failed["fee"] < PRICE // 10
    assert chain.call(market.jobs.functions.balanceOf(requester, ETH)) == PRICE + failed["fee"]
    assert not events_named(market, "JobTimedOut")
    assert stake_of(chain, market, me) == STAKE - failed["fee"]
