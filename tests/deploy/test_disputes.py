"""Mode 0's court on reruns of `inferchain deploy` (issue 14): `market.disputes` picks the
CommitteeArbiter or the ManualArbiter once per market; a rerun refuses to swap it under a
kept market, a new market may take either, and the notes read whichever is deployed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest

from inferchain.chain import Chain
from inferchain.deploy import DeploymentConflict, Network, deploy_network, load_network, load_record
from inferchain.deploy.governance import fixed_differences
from inferchain.market import Market
from inferchain.market.deploy import DAY, REEXEC_MODE
from inferchain.paths import project_root
from tests.conftest import AnvilNode


def _local(disputes: Literal["committee", "manual"]) -> Network:
    local = load_network("local", project_root() / "networks.toml")
    return local.model_copy(
        update={"market": local.market.model_copy(update={"disputes": disputes})}
    )


def test_rerun_refuses_to_swap_the_committee_for_a_manual_arbiter(
    chain_snapshot: Chain, anvil: AnvilNode, tmp_path: Path
) -> None:
    chain = chain_snapshot
    sender = chain.sender(anvil.keys[0])
    deploy_network(chain, sender, _local("committee"), tmp_path)
    record = load_record(tmp_path, chain.chain_id)
    committee = record.contracts["CommitteeArbiter"].address
    nonce = chain.w3.eth.get_transaction_count(sender.address)
    for dry_run in (True, False):
        with pytest.raises(DeploymentConflict) as refused:
            deploy_network(chain, sender, _local("manual"), tmp_path, dry_run=dry_run)
        message = str(refused.value)
        assert f"has CommitteeArbiter {committee} at mode 0" in message
        assert 'disputes = "manual" (ManualArbiter)' in message
        assert 'set disputes back to "committee"' in message and "registerMode" in message
    assert chain.w3.eth.get_transaction_count(sender.address) == nonce
    assert load_record(tmp_path, chain.chain_id).contracts == record.contracts


def test_a_new_market_takes_the_court_asked_for_and_drops_the_old_arbiter(
    chain_snapshot: Chain, anvil: AnvilNode, tmp_path: Path
) -> None:
    """When the market is redeployed anyway (here: its recorded artifact differs), the new
    one may have the other court; the record then names only the new arbiter, so
    `market_addresses` cannot pick the abandoned one."""
    chain = chain_snapshot
    sender = chain.sender(anvil.keys[0])
    deploy_network(chain, sender, _local("manual"), tmp_path)
    path = tmp_path / f"{chain.chain_id}.json"
    data = json.loads(path.read_text())
    old_market = data["contracts"]["JobMarket"]["address"]
    data["contracts"]["JobMarket"]["bytecode_sha256"] = "0" * 64  # as if JobMarket.sol changed
    path.write_text(json.dumps(data))

    report = deploy_network(chain, sender, _local("committee"), tmp_path)
    deployed = [s.name for s in report.steps if s.name.startswith("deploy ")]
    assert deployed == [
        "deploy InferchainTimelock",
        "deploy MarketGovernor",
        "deploy CommitteeArbiter",
        "deploy ReexecVerifier",
        "deploy JobMarket",
    ]
    record = load_record(tmp_path, chain.chain_id)
    assert "ManualArbiter" not in record.contracts
    addresses = record.market_addresses()
    assert addresses.job_market != old_market
    assert addresses.arbiter == record.contracts["CommitteeArbiter"].address
    market = Market.at(chain, addresses.job_market)
    assert market.addresses.arbiter == addresses.arbiter
    assert chain.call(market.arbiter.functions.courtOf(addresses.job_market)) == (
        addresses.reexec_verifier
    )


def test_fixed_differences_read_whichever_arbiter_is_deployed(
    chain_snapshot: Chain, anvil: AnvilNode, tmp_path: Path
) -> None:
    chain = chain_snapshot
    sender = chain.sender(anvil.keys[0])
    deploy_network(chain, sender, _local("committee"), tmp_path)
    deployed = {n: c.address for n, c in load_record(tmp_path, chain.chain_id).contracts.items()}
    committee = _local("committee").market_config(sender.address)
    manual = _local("manual").market_config(sender.address)
    assert fixed_differences(chain, deployed, committee) == []

    # A CommitteeArbiter with another court and other windows than the networks file's.
    stray = sender.deploy("CommitteeArbiter", 3, 600, 2 * DAY).address
    notes = fixed_differences(chain, {**deployed, "CommitteeArbiter": stray}, committee)
    assert len(notes) == 2
    assert f"CommitteeArbiter windows are (600, {2 * DAY})" in notes[0]
    assert f"takes its court from mode 3, not the reexec mode {REEXEC_MODE}" in notes[1]

    # The networks file asking for the other court: said, not acted on.
    (note,) = fixed_differences(chain, deployed, manual)
    assert note.startswith(f"mode 0's arbiter is CommitteeArbiter {deployed['CommitteeArbiter']}")
    assert 'set disputes back to "committee"' in note

    # A ManualArbiter: its owner is checked (the committee has none).
    other_owner = anvil.accounts[3]
    ruled = sender.deploy("ManualArbiter", other_owner, 3_600, DAY).address
    with_manual = {k: v for k, v in deployed.items() if k != "CommitteeArbiter"}
    (note,) = fixed_differences(chain, {**with_manual, "ManualArbiter": ruled}, manual)
    assert f"ManualArbiter {ruled} is owned by {other_owner}" in note
