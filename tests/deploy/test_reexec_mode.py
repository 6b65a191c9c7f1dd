"""Mode 2 (`reexec`, ReexecVerifier) on a market deployed before it existed: a rerun of
`inferchain deploy` deploys it for the reused market (which it names) and registers and
enables it through the timelock (local: no delay, so in one run). Its parameters come from
`[networks.NAME.reexec]`; a rerun refuses one deployed with others."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferchain.chain import Chain
from inferchain.deploy import deploy_network, load_network, load_record
from inferchain.deploy import deployer as deployer_module
from inferchain.deploy.errors import DeploymentConflict, NetworkConfigError
from inferchain.deploy.networks import ReexecParams
from inferchain.market import Market
from inferchain.market.deploy import ReexecConfig, market_contracts
from inferchain.market.modes import ON_FINALIZE, ON_SUBMIT, QUOTE, REEXEC_MODE, read_mode
from inferchain.paths import project_root
from tests.conftest import AnvilNode


def test_rerun_registers_and_enables_the_reexec_mode_through_the_timelock(
    chain: Chain, anvil: AnvilNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before the reexec mode there was no committee either: the ManualArbiter ruled.
    local = load_network("local", project_root() / "networks.toml")
    network = local.model_copy(
        update={"market": local.market.model_copy(update={"disputes": "manual"})}
    )
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


def test_rerun_refuses_a_reexec_verifier_deployed_with_other_params(
    chain: Chain, anvil: AnvilNode, tmp_path: Path
) -> None:
    """ReexecVerifier's parameters are immutable: a networks file that asks for others stops
    the rerun, dry or not, before anything is sent, and the error names each field."""
    network = load_network("local", project_root() / "networks.toml")
    sender = chain.sender(anvil.keys[0])
    deploy_network(chain, sender, network, tmp_path)
    record = load_record(tmp_path, chain.chain_id)
    module = record.contracts["ReexecVerifier"].address
    changed = network.model_copy(
        update={"reexec": ReexecParams(committee_size=5, min_bond=2 * 10**18)}
    )
    nonce = chain.w3.eth.get_transaction_count(sender.address)
    for dry_run in (True, False):
        with pytest.raises(DeploymentConflict) as refused:
            deploy_network(chain, sender, changed, tmp_path, dry_run=dry_run)
        message = str(refused.value)
        assert module in message
        assert "committee_size: deployed 3, configured 5" in message
        assert f"min_bond: deployed {10**18}, configured {2 * 10**18}" in message
        assert "fee_per_verifier" not in message  # unchanged fields are not named
        assert "registerMode" in message  # how to proceed
    assert chain.w3.eth.get_transaction_count(sender.address) == nonce
    assert load_record(tmp_path, chain.chain_id).contracts == record.contracts

    again = deploy_network(chain, sender, network, tmp_path)  # back to the deployed values
    assert again.steps == [] and again.notes == []


def test_reexec_params_are_read_from_the_networks_file_and_bounded(tmp_path: Path) -> None:
    """Local defaults equal ReexecConfig's; each parameter is bounded like the contract's
    constructor bounds it, so a bad entry is named before anything is sent."""
    network = load_network("local", project_root() / "networks.toml")
    assert network.market_config(network_owner()).reexec == ReexecConfig()
    path = tmp_path / "networks.toml"
    entry = '[networks.x]\nchain_id = 1\nrpc_url_env = "X"\nlocal = true\n[networks.x.reexec]\n'
    path.write_text(entry + "committee_size = 7\nmin_bond = 5\nslash_bps = 500\n")
    config = load_network("x", path).market_config(network_owner()).reexec
    assert (config.committee_size, config.min_bond, config.slash_bps) == (7, 5, 500)
    assert config.fee_per_verifier == ReexecConfig().fee_per_verifier
    bad = {
        "committee_size = 16": "reexec.committee_size",
        "min_bond = 0": "reexec.min_bond",
        "slash_bps = 10001": "reexec.slash_bps",
        "challenge_window = 599": "reexec.challenge_window",
        "draw_window = 400": "more than challenge_window 600s",
        "bond = 1": "reexec.bond",
    }
    for line, named in bad.items():
        path.write_text(entry + line + "\n")
        with pytest.raises(NetworkConfigError, match=named.replace(".", r"\.")):
            load_network("x", path)


def network_owner() -> str:
    return "0x" + "11" * 20
