"""Mode 1 (`zk`, ZkVerifier) on a market deployed before it existed: a rerun of `inferchain
deploy` registers and enables it through the timelock (local: no delay, so in one run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferchain.chain import Chain
from inferchain.deploy import deploy_network, load_network, load_record
from inferchain.deploy import deployer as deployer_module
from inferchain.market import Market
from inferchain.market.deploy import ZK_MODE, market_contracts
from inferchain.market.modes import ON_SUBMIT, read_mode
from inferchain.paths import project_root
from tests.conftest import AnvilNode


def test_rerun_registers_and_enables_the_zk_mode_through_the_timelock(
    chain: Chain, anvil: AnvilNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    network = load_network("local", project_root() / "networks.toml")
    sender = chain.sender(anvil.keys[0])
    with monkeypatch.context() as old:  # the deployer as it was before the ZK mode
        without_zk = lambda config: market_contracts(config, zk=False)  # noqa: E731
        old.setattr(deployer_module, "market_contracts", without_zk)
        deploy_network(chain, sender, network, tmp_path)
    before = load_record(tmp_path, chain.chain_id)
    assert "ZkVerifier" not in before.contracts and before.market_addresses().zk_verifier is None
    market = Market.connect(chain, before.market_addresses())
    assert not read_mode(chain, market.jobs, ZK_MODE).registered

    report = deploy_network(chain, sender, network, tmp_path)
    assert [s.name for s in report.steps] == [
        "deploy ZkVerifier",
        f"schedule MarketGovernor.registerMode({ZK_MODE})",
        f"execute MarketGovernor.registerMode({ZK_MODE})",
        f"schedule MarketGovernor.setModeEnabled({ZK_MODE})",
        f"execute MarketGovernor.setModeEnabled({ZK_MODE})",
    ]
    assert [p.state for p in report.proposals] == ["executed", "executed"]
    after = load_record(tmp_path, chain.chain_id)
    zk = after.market_addresses().zk_verifier
    assert zk == after.contracts["ZkVerifier"].address
    assert after.contracts["JobMarket"] == before.contracts["JobMarket"]  # reused
    mode = read_mode(chain, market.jobs, ZK_MODE)
    assert (mode.module, mode.hooks, mode.enabled) == (zk, ON_SUBMIT, True)

    again = deploy_network(chain, sender, network, tmp_path)
    assert again.steps == [] and again.proposals == [] and again.notes == []
