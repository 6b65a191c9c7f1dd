"""Mode 2 (`reexec`, ReexecVerifier) on a market deployed before it existed: a rerun of
`inferchain deploy` deploys it for the reused market (which it names) and registers and
enables it through the timelock (local: no delay, so in one run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferchain.chain import Chain
from inferchain.deploy import deploy_network, load_network, load_record
from inferchain.deploy import deployer as deployer_module
from inferchain.market import Market
from inferchain.market.deploy import ReexecConfig, market_contracts
from inferchain.market.modes import ON_FINALIZE, ON_SUBMIT, QUOTE, REEXEC_MODE, read_mode
from inferchain.paths import project_root
from tests.conftest import AnvilNode


def test_rerun_registers_and_enables_the_reexec_mode_through_the_timelock(
    chain: Chain, anvil: AnvilNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    network = load_network("local", project_root() / "networks.toml")
    sender = chain.sender(anvil.keys[0])
    with monkeypatch.context() as old:  # the deployer as it was before the reexec mode
        without = lambda config: market_contracts(config, reexec=False)  # noqa: E731
        old.setattr(deployer_module, "market_contracts", without)
        deploy_network(chain, sender, network, tmp_path)
    before = load_record(tmp_path, chain.chain_id)
    assert "ReexecVerifier" not in before.contracts
    assert before.market_addresses().reexec_verifier is None
    market = Market.connect(chain, before.market_addresses())
    assert not read_mode(chain, market.jobs, REEXEC_MODE).registered

    report = deploy_network(chain, sender, network, tmp_path)
    assert [s.name for s in report.steps] == [
        "deploy ReexecVerifier",
        f"schedule MarketGovernor.registerMode({REEXEC_MODE})",
        f"execute MarketGovernor.registerMode({REEXEC_MODE})",
        f"schedule MarketGovernor.setModeEnabled({REEXEC_MODE})",
        f"execute MarketGovernor.setModeEnabled({REEXEC_MODE})",
    ]
    after = load_record(tmp_path, chain.chain_id)
    reexec = after.market_addresses().reexec_verifier
    assert reexec == after.contracts["ReexecVerifier"].address
    assert after.contracts["WorkerRegistry"] == before.contracts["WorkerRegistry"]  # reused
    assert after.contracts["JobMarket"] == before.contracts["JobMarket"]
    mode = read_mode(chain, market.jobs, REEXEC_MODE)
    all_hooks = QUOTE | ON_SUBMIT | ON_FINALIZE
    assert (mode.module, mode.hooks, mode.enabled) == (reexec, all_hooks, True)
    assert mode.challenge_window == ReexecConfig().challenge_window
    # It serves the reused market, the one it was given.
    bound = Market.at(chain, market.jobs.address)
    assert bound.reexec is not None and bound.addresses.reexec_verifier == reexec
    assert chain.call(bound.reexec.functions.market()) == market.jobs.address

    again = deploy_network(chain, sender, network, tmp_path)
    assert again.steps == [] and again.proposals == [] and again.notes == []
