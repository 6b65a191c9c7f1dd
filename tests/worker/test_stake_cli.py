"""`inferchain worker stake | allocate | deallocate | unstake | show` against a real registry
and market: what a claim locks stays until the job ends, the rest moves at will."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from inferchain.chain import Chain
from inferchain.ipfs import Cid
from inferchain.market import ETH
from inferchain.worker.account import ensure_ready
from inferchain.worker.claimer import Claimer
from inferchain.worker.cli import app
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    PRICE,
    REQUESTER,
    SENTIMENT_INPUT,
    WORKER_KEYS,
    Deployed,
    create_job,
    records,
    stake_of,
)

ETHER = 10**18
NO_RECORD = {"paid": 0, "failed": 0, "timed_out": 0, "disputes_lost": 0, "disputes_won": 0}


def test_stake_allocate_deallocate_unstake_and_show(
    chain: Chain, anvil: AnvilNode, deployed: Deployed, tmp_path: Path
) -> None:
    market, key = deployed.market, WORKER_KEYS[3]
    me, other = anvil.accounts[key], anvil.accounts[WORKER_KEYS[0]]
    ensure_ready(chain, market, chain.sender(anvil.keys[key]), [deployed.sentiment], register=True)
    env = {
        "INFERCHAIN_WORKER_RPC_URL": anvil.rpc_url,
        "INFERCHAIN_WORKER_PRIVATE_KEY": anvil.keys[key],
    }
    addresses = ["--market-addresses", str(deployed.write_addresses(tmp_path))]

    def cli(*args: object) -> Result:
        return CliRunner().invoke(app, [*map(str, args), *addresses], env=env)

    staked = cli("stake", "--amount", 2 * ETHER)
    assert staked.exit_code == 0, staked.output
    assert json.loads(staked.output) == {
        "staked_wei": 2 * ETHER, "token": ETH, "worker": me, "stake_wei": 2 * ETHER,
        "allocated_wei": 0, "allocation_wei": 0, "locked_wei": 0, "free_allocation_wei": 0,
        "record": NO_RECORD,
    }  # fmt: skip
    allocated = cli("allocate", "--amount", ETHER, "--token", "eth")
    assert allocated.exit_code == 0, allocated.output
    assert json.loads(allocated.output)["allocation_wei"] == ETHER
    too_much = cli("allocate", "--amount", 2 * ETHER)  # only 1 ETH of stake is free
    assert too_much.exit_code == 1 and f"free stake is {ETHER} wei" in too_much.output

    # A claimed job locks its collateral (its price): that much cannot be deallocated.
    job_id, _ = create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment,
                           Cid.for_raw_block(SENTIMENT_INPUT))  # fmt: skip
    claimer = Claimer(chain, market, chain.sender(anvil.keys[key]), margin_s=0,
                      estimate_s=lambda _: 0.0)  # fmt: skip
    held, _ = claimer.claim([records(market)[job_id]])
    assert [j.job_id for j in held] == [job_id]
    locked = cli("deallocate", "--amount", ETHER)
    assert locked.exit_code == 1 and "WorkerRegistryAllocationLocked" in locked.output
    freed = cli("deallocate", "--amount", ETHER - PRICE)
    assert freed.exit_code == 0, freed.output
    assert json.loads(freed.output)["allocation_wei"] == PRICE

    # Unallocated stake leaves at will, to any address; allocated stake does not.
    beyond = cli("unstake", "--amount", 2 * ETHER)
    assert beyond.exit_code == 1 and "WorkerRegistryInsufficientFreeStake" in beyond.output
    before = chain.balance(other)
    out = cli("unstake", "--amount", ETHER, "--to", other)
    assert out.exit_code == 0, out.output
    assert chain.balance(other) == before + ETHER and stake_of(chain, market, me) == ETHER

    shown = cli("show")
    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.output)
    assert status["registered"] and status["models"] == [deployed.sentiment]
    assert status["tokens"] == {
        ETH: {"stake_wei": ETHER, "allocated_wei": PRICE, "allocation_wei": PRICE,
              "locked_wei": PRICE, "free_allocation_wei": 0, "record": NO_RECORD},
    }  # fmt: skip

    # A stake target alone allocates free stake, never staking beyond the target: with part
    # of the stake allocated to another venue, the start allocates only what is free.
    sender = chain.sender(anvil.keys[key])
    sender.transact(market.workers.functions.allocate(market.addresses.router, ETH, PRICE))
    ready = ensure_ready(chain, market, sender, [deployed.sentiment], stake={ETH: ETHER})
    eth = ready.tokens[ETH]
    assert (eth.stake, eth.allocated, eth.allocation) == (ETHER, ETHER, ETHER - PRICE)

    bad = cli("stake", "--amount", 1, "--token", "not-a-token")
    assert bad.exit_code == 2 and "not a token address" in bad.output
    zero = cli("stake", "--amount", 0)
    assert zero.exit_code == 2
