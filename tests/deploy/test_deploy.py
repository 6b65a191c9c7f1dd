"""`inferchain deploy` against an Anvil with Sepolia's chain id, through the `sepolia` entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferchain.chain import Chain
from inferchain.deploy import load_networks, load_record
from inferchain.devstack import dev_private_keys
from inferchain.market import ETH, Market
from inferchain.market.deploy import ReexecConfig
from inferchain.market.modes import ON_FINALIZE, ON_SUBMIT, QUOTE, REEXEC_MODE
from inferchain.paths import project_root
from inferchain.solidity.config import SOLC_VERSION
from inferchain.wallet import PASSWORD_ENV, PRIVATE_KEY_ENV
from tests.cli.runner import Cli
from tests.conftest import AnvilNode
from tests.deploy.conftest import PASSWORD, SEPOLIA_CHAIN_ID

ALL_HOOKS = QUOTE | ON_SUBMIT | ON_FINALIZE

NETWORKS = project_root() / "networks.toml"
DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
#: Off local chains a ManualArbiter's owner must be a key of its own (here Anvil's account 9).
ARBITER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"
#: The sepolia entry with disputes ruled by the ARBITER key instead of the committee.
MANUAL = (
    ('disputes = "committee"', 'disputes = "manual"'),
    ('arbiter = ""', f'arbiter = "{ARBITER}"'),
)
TWO_DAYS = 172_800
REGISTER_PRICING = "MarketGovernor.registerPricing(1)"
ENABLE_PRICING = "MarketGovernor.setPricingEnabled(1)"


def _networks(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    """The shipped networks file with `replacements` applied to the sepolia entry (each once)."""
    text = NETWORKS.read_text()
    sepolia = text.index("[networks.sepolia]")
    head, tail = text[:sepolia], text[sepolia:]
    for old, new in replacements:
        tail = tail.replace(old, new, 1)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"networks-{len(list(tmp_path.glob('networks-*.toml')))}.toml"
    path.write_text(head + tail)
    return path


def _env(rpc: str, **extra: str) -> dict[str, str]:
    return {"SEPOLIA_RPC_URL": rpc, PASSWORD_ENV: PASSWORD, PRIVATE_KEY_ENV: "", **extra}


def _deploy(cli: Cli, rpc: str, out: Path, keystore: Path, *flags: str, networks=None):
    networks = networks or _networks(out.parent)
    return cli(
        "deploy", "--network", "sepolia", "--networks-file", str(networks),
        "--deployments-dir", str(out), "--keystore", str(keystore), "--json", *flags,
        env=_env(rpc),
    )  # fmt: skip


def test_networks_file_has_the_three_networks() -> None:
    networks = load_networks(NETWORKS)
    assert {n: networks[n].chain_id for n in ("local", "sepolia", "base-sepolia")} == {
        "local": 31337,
        "sepolia": 11155111,
        "base-sepolia": 84532,
    }
    assert networks["local"].local and not networks["sepolia"].local


def test_deploy_records_everything_and_rerun_is_a_noop(
    cli: Cli, sepolia_rpc: str, deployer_keystore: Path, tmp_path: Path
) -> None:
    first = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore)
    assert first.code == 0, first.error
    report = first.json()
    # 10 contracts and the 2 pricing operations scheduled: no wiring call
    assert report["chain_id"] == SEPOLIA_CHAIN_ID and report["transactions"] == 12
    record = load_record(tmp_path, SEPOLIA_CHAIN_ID)
    assert record.network == "sepolia" and record.deployer == DEPLOYER
    assert record.compiler["version"] == SOLC_VERSION and "optimizer" in record.compiler["settings"]
    assert set(record.contracts) == {
        "ModelRegistry",
        "WorkerRegistry",
        "JobRouter",
        "InferchainTimelock",
        "MarketGovernor",
        "CommitteeArbiter",
        "ZkVerifier",
        "ReexecVerifier",
        "JobMarket",
        "TokenMeteredPricing",
    }
    # The market's constructor took its config, modes and tokens; the shared worker registry
    # needs no wiring (workers allocate to the market themselves), and the metered pricing
    # waits in the timelock like any governance change (issue 16).
    assert [t.step for t in record.transactions] == [
        f"schedule {REGISTER_PRICING}",
        f"schedule {ENABLE_PRICING}",
    ]
    assert [(p["name"], p["state"]) for p in report["proposals"]] == [
        (REGISTER_PRICING, "scheduled"),
        (ENABLE_PRICING, "scheduled"),
    ]
    for c in record.contracts.values():
        assert c.tx_hash.startswith("0x") and c.block > 0 and len(c.abi_sha256) == 64

    chain = Chain(sepolia_rpc, expected_chain_id=SEPOLIA_CHAIN_ID)
    market = Market.connect(chain, record.market_addresses())
    a, jobs = market.addresses, market.jobs.functions
    assert chain.call(jobs.modelRegistry()) == a.model_registry
    assert chain.call(jobs.modeOf(0))[:2] == (a.arbiter, 3_600)
    assert a.zk_verifier == record.contracts["ZkVerifier"].address
    assert chain.call(jobs.modeOf(1)) == (a.zk_verifier, 3_600, 86_400, ON_SUBMIT, True)
    assert chain.call(market.zk.functions.registry()) == a.model_registry
    # Mode 2 (`reexec`) is ReexecVerifier, serving this market with the local defaults.
    reexec = ReexecConfig()
    assert a.reexec_verifier == record.contracts["ReexecVerifier"].address
    assert chain.call(jobs.modeOf(REEXEC_MODE)) == (
        a.reexec_verifier, reexec.challenge_window, reexec.arbitration_window, ALL_HOOKS, True,
    )  # fmt: skip
    assert chain.call(market.reexec.functions.market()) == a.job_market
    assert tuple(chain.call(market.reexec.functions.params())) == reexec.params()
    assert chain.call(jobs.router()) == a.router
    assert chain.call(jobs.governor()) == a.governor
    assert chain.call(jobs.config()) == (250, 10_000, 1_000)
    assert chain.call(market.governor.functions.owner()) == a.timelock
    assert chain.call(market.timelock.functions.getMinDelay()) == TWO_DAYS
    # Mode 0 is the committee court: no owner, its disputes judged by mode 2's pool.
    assert record.contracts["CommitteeArbiter"].address == a.arbiter
    assert chain.call(market.arbiter.functions.courtMode()) == REEXEC_MODE
    assert chain.call(market.arbiter.functions.courtOf(a.job_market)) == a.reexec_verifier
    assert chain.call(market.router.functions.modelRegistry()) == a.model_registry
    # The worker registry is ownerless and has no parameters: nothing of it to configure.
    registry_functions = {i["name"] for i in market.workers.abi if i.get("type") == "function"}
    assert not registry_functions & {"owner", "minStake", "bindMarket", "market"}
    assert chain.call(market.workers.functions.totalStaked(ETH)) == 0

    nonce = chain.w3.eth.get_transaction_count(DEPLOYER)
    before = (tmp_path / f"{SEPOLIA_CHAIN_ID}.json").read_text()
    again = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore)
    assert again.code == 0, again.error
    assert again.json()["transactions"] == 0
    assert [p["state"] for p in again.json()["proposals"]] == ["waiting", "waiting"]
    assert chain.w3.eth.get_transaction_count(DEPLOYER) == nonce
    assert (tmp_path / f"{SEPOLIA_CHAIN_ID}.json").read_text() == before

    # A changed fee is never set directly: the rerun schedules it in the timelock...
    changed = _networks(tmp_path, ("fee_bps = 250", "fee_bps = 300"))
    third = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore, networks=changed)
    assert third.code == 0, third.error
    assert [s["name"] for s in third.json()["steps"]] == ["schedule MarketGovernor.setConfig"]
    proposal, *pricing = third.json()["proposals"]
    assert [p["state"] for p in pricing] == ["waiting", "waiting"]
    assert (proposal["state"], proposal["current"], proposal["wanted"]) == (
        "scheduled",
        [250, 10_000, 1_000],
        [300, 10_000, 1_000],
    )
    assert chain.call(jobs.config()) == (250, 10_000, 1_000)
    # ...a rerun before the delay sends nothing and says when it will be ready...
    waiting = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore, networks=changed)
    assert waiting.code == 0, waiting.error
    assert waiting.json()["transactions"] == 0
    assert [p["state"] for p in waiting.json()["proposals"]] == ["waiting"] * 3
    assert waiting.json()["proposals"][0]["ready_at"] == proposal["ready_at"]
    # ...and a rerun after it executes it.
    chain.increase_time(TWO_DAYS)
    chain.mine()
    fourth = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore, networks=changed)
    assert fourth.code == 0, fourth.error
    assert [s["name"] for s in fourth.json()["steps"]] == [
        "execute MarketGovernor.setConfig",
        f"execute {REGISTER_PRICING}",
        f"execute {ENABLE_PRICING}",
    ]
    assert chain.call(jobs.config()) == (300, 10_000, 1_000)
    assert chain.call(jobs.pricingOf(1)) == (record.contracts["TokenMeteredPricing"].address, True)
    assert load_record(tmp_path, SEPOLIA_CHAIN_ID).contracts == record.contracts

    verify = _deploy(
        cli,
        sepolia_rpc,
        tmp_path,
        deployer_keystore,
        "--verify-json",
        str(tmp_path / "v"),
        networks=changed,
    )
    assert verify.code == 0, verify.error
    data = json.loads((tmp_path / "v" / "JobMarket.json").read_text())
    assert data["contract"] == "contracts/JobMarket.sol:JobMarket"
    assert data["address"] == record.contracts["JobMarket"].address
    assert data["constructor_arguments"] == record.contracts["JobMarket"].constructor_args
    assert "contracts/JobMarket.sol" in data["standard_json_input"]["sources"]


def test_rerun_prints_the_operation_when_the_deployer_is_not_the_proposer(
    cli: Cli, sepolia_rpc: str, deployer_keystore: Path, tmp_path: Path
) -> None:
    proposer = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"  # Anvil's account 7
    own = (('proposer = ""', f'proposer = "{proposer}"'),)
    networks = _networks(tmp_path, *own)
    first = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore, networks=networks)
    assert first.code == 0, first.error
    changed = _networks(tmp_path, *own, ("dispute_bond_bps = 1000", "dispute_bond_bps = 2000"))
    again = cli(
        "deploy", "--network", "sepolia", "--networks-file", str(changed),
        "--deployments-dir", str(tmp_path), "--keystore", str(deployer_keystore),
        env=_env(sepolia_rpc),
    )  # fmt: skip
    assert again.code == 0, again.error
    assert "MarketGovernor.setConfig (250, 10000, 1000) -> (250, 10000, 2000): for proposer" in (
        again.stdout
    )
    assert "the proposer must schedule target" in again.stdout


def test_dry_run_estimates_without_sending(
    cli: Cli, sepolia_rpc: str, deployer_keystore: Path, tmp_path: Path
) -> None:
    chain = Chain(sepolia_rpc)
    nonce = chain.w3.eth.get_transaction_count(DEPLOYER)
    out = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore, "--dry-run")
    assert out.code == 0, out.error
    report = out.json()
    assert report["dry_run"] and report["transactions"] == 12
    assert (
        report["total_gas"] > 5_000_000
        and report["cost_wei"] == report["total_gas"] * report["gas_price_wei"]
    )
    # The market's modes need their modules' immutables, which a dry run cannot simulate.
    # So do the metered pricing's registration and enabling, on a market not deployed yet.
    assert [s["simulated"] for s in report["steps"]] == [True] * 8 + [False] + [True] + [False] * 2
    assert chain.w3.eth.get_transaction_count(DEPLOYER) == nonce
    assert not (tmp_path / f"{SEPOLIA_CHAIN_ID}.json").exists()


def test_a_node_of_another_chain_is_refused(
    cli: Cli, anvil: AnvilNode, deployer_keystore: Path, tmp_path: Path
) -> None:
    out = _deploy(cli, anvil.rpc_url, tmp_path, deployer_keystore)
    assert out.code == 1
    assert "wrong network" in out.error and "11155111" in out.error
    assert not list(tmp_path.glob("*.json"))  # no record


def test_plain_env_key_is_refused_off_local_chains(
    cli: Cli, sepolia_rpc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no default keystore either
    out = cli(
        "deploy", "--network", "sepolia", "--networks-file", str(NETWORKS),
        "--deployments-dir", str(tmp_path),
        env={"SEPOLIA_RPC_URL": sepolia_rpc, PRIVATE_KEY_ENV: dev_private_keys()[0],
             "INFERCHAIN_KEYSTORE": ""},
    )  # fmt: skip
    assert out.code == 1 and "only accepted on local chains" in out.error


def test_wrong_keystore_password_is_rejected(
    cli: Cli, sepolia_rpc: str, deployer_keystore: Path, tmp_path: Path
) -> None:
    out = cli(
        "deploy", "--network", "sepolia", "--networks-file", str(NETWORKS),
        "--deployments-dir", str(tmp_path), "--keystore", str(deployer_keystore),
        env=_env(sepolia_rpc, **{PASSWORD_ENV: "not it"}),
    )  # fmt: skip
    assert out.code == 1 and "wrong password" in out.error


def test_missing_rpc_env_unknown_network_and_bad_file_are_clear(cli: Cli, tmp_path: Path) -> None:
    base = ["deploy", "--deployments-dir", str(tmp_path)]
    out = cli(
        *base, "--network", "sepolia", "--networks-file", str(NETWORKS), env={"SEPOLIA_RPC_URL": ""}
    )
    assert out.code == 1 and "set SEPOLIA_RPC_URL" in out.error
    out = cli(*base, "--network", "mainnet", "--networks-file", str(NETWORKS))
    assert out.code == 1 and "unknown network 'mainnet'" in out.error
    bad = tmp_path / "bad.toml"
    bad.write_text('[networks.x]\nchain_id = 1\nrpc_url_env = "X"\nguardian = "0x12"\n')
    out = cli(*base, "--network", "x", "--networks-file", str(bad))
    assert out.code == 1 and "guardian" in out.error and "not an address" in out.error
    out = cli(*base, "--networks-file", str(tmp_path / "none.toml"))
    assert out.code == 1 and "no networks file" in out.error


def test_underfunded_deployer_is_refused_before_sending(
    cli: Cli, sepolia_rpc: str, tmp_path: Path
) -> None:
    from inferchain.wallet import new_keystore

    poor = new_keystore(tmp_path / "poor.json", PASSWORD, scrypt_n=2**10)
    out = _deploy(cli, sepolia_rpc, tmp_path / "d", poor.path)
    assert out.code == 1 and f"{poor.address} holds 0 wei" in out.error
    assert Chain(sepolia_rpc).w3.eth.get_transaction_count(poor.address) == 0


@pytest.mark.parametrize(
    ("replacements", "message"),
    [
        ((("timelock_delay = 172800", "timelock_delay = 3600"),), "at least 86400s (1 day)"),
        (MANUAL[:1], "is the deployer"),
        ((*MANUAL[:1], ('proposer = ""', f'proposer = "{ARBITER}"'), MANUAL[1]), "is the proposer"),
        (MANUAL[1:], 'but market.disputes is "committee", whose court has no owner'),
    ],
)
def test_unsafe_governance_is_refused_off_local_chains(
    cli: Cli,
    sepolia_rpc: str,
    deployer_keystore: Path,
    tmp_path: Path,
    replacements: tuple[tuple[str, str], ...],
    message: str,
) -> None:
    """A manual arbiter must be a key of its own; an `arbiter` the committee would never ask
    is refused rather than ignored."""
    networks = _networks(tmp_path, *replacements)
    out = _deploy(cli, sepolia_rpc, tmp_path / "d", deployer_keystore, networks=networks)
    assert out.code == 1 and message in out.error, out.error
    assert not (tmp_path / "d").exists()


def test_a_committee_needs_no_arbiter_key_off_local_chains() -> None:
    """The shipped sepolia entry: no `arbiter`, and none needed, since no key rules."""
    config = load_networks(NETWORKS)["sepolia"].market_config(DEPLOYER)
    assert (config.disputes, config.arbiter, config.arbiter_owner) == (
        "committee",
        "CommitteeArbiter",
        None,
    )


#: A day-long draw window: the committee's round no longer fits a one-day arbitration window.
LONG_DRAW = (
    ("draw_window = 120", "draw_window = 86400"),
    ("challenge_window = 600", "challenge_window = 172800"),
)


def test_an_arbitration_window_no_dispute_round_fits_is_refused_before_sending(
    cli: Cli, sepolia_rpc: str, deployer_keystore: Path, tmp_path: Path
) -> None:
    """The committee's round (draw + commit + 2 x reveal) must end inside mode 0's
    arbitration window, or openDispute refuses every dispute: caught in the networks file."""
    networks = _networks(tmp_path, *LONG_DRAW)
    nonce = Chain(sepolia_rpc).w3.eth.get_transaction_count(DEPLOYER)
    for flags in (("--dry-run",), ()):
        out = _deploy(
            cli, sepolia_rpc, tmp_path / "d", deployer_keystore, *flags, networks=networks
        )
        assert out.code == 1, out.error
        assert "market.arbitration_window is 86400s, too short" in out.error
        assert "86400 + 240 + 2 x 240 = 87120s" in out.error
        assert 'disputes = "manual"' in out.error
    assert Chain(sepolia_rpc).w3.eth.get_transaction_count(DEPLOYER) == nonce
    assert not (tmp_path / "d").exists()
    manual = _networks(tmp_path, *LONG_DRAW, *MANUAL)
    config = load_networks(manual)["sepolia"].market_config(DEPLOYER)  # no round to fit
    assert config.arbiter == "ManualArbiter"


def test_a_manual_network_deploys_its_owner_and_a_rerun_cannot_switch_to_the_committee(
    cli: Cli, sepolia_rpc: str, deployer_keystore: Path, tmp_path: Path
) -> None:
    manual = _networks(tmp_path, *MANUAL)
    first = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore, networks=manual)
    assert first.code == 0, first.error
    record = load_record(tmp_path, SEPOLIA_CHAIN_ID)
    assert "ManualArbiter" in record.contracts and "CommitteeArbiter" not in record.contracts
    chain = Chain(sepolia_rpc, expected_chain_id=SEPOLIA_CHAIN_ID)
    market = Market.connect(chain, record.market_addresses())
    assert market.addresses.arbiter == record.contracts["ManualArbiter"].address
    assert chain.call(market.jobs.functions.modeOf(0))[:2] == (market.addresses.arbiter, 3_600)
    assert chain.call(market.arbiter.functions.owner()) == ARBITER

    # Asking for the committee now would need a new mode 0 module: refused, dry or not.
    committee = _networks(tmp_path)
    nonce = chain.w3.eth.get_transaction_count(DEPLOYER)
    for flags in (("--dry-run",), ()):
        out = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore, *flags, networks=committee)
        assert out.code == 1
        assert f"has ManualArbiter {market.addresses.arbiter} at mode 0" in out.error
        assert 'disputes = "committee" (CommitteeArbiter)' in out.error
        assert 'set disputes back to "manual"' in out.error and "registerMode" in out.error
    assert chain.w3.eth.get_transaction_count(DEPLOYER) == nonce
    assert load_record(tmp_path, SEPOLIA_CHAIN_ID).contracts == record.contracts
    again = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore, networks=manual)
    assert again.code == 0 and again.json()["transactions"] == 0, again.error
    assert again.json()["notes"] == []


def test_local_accepts_no_delay_and_the_deployer_as_arbiter() -> None:
    local = load_networks(NETWORKS)["local"]
    config = local.market_config(DEPLOYER)
    assert (config.timelock_delay, config.proposer, config.disputes) == (0, DEPLOYER, "committee")
    assert config.arbiter_owner is None  # the committee has no owner
    manual = local.model_copy(
        update={"market": local.market.model_copy(update={"disputes": "manual"})}
    )
    assert manual.market_config(DEPLOYER).arbiter_owner == DEPLOYER


def test_local_deploy_offers_metered_pricing_in_one_run(
    cli: Cli, anvil: AnvilNode, tmp_path: Path, chain_snapshot: Chain
) -> None:
    """No delay on local chains: the pricing's operations are scheduled and executed at once."""
    env = {"INFERCHAIN_LOCAL_RPC_URL": anvil.rpc_url, PRIVATE_KEY_ENV: dev_private_keys()[0]}
    args = ("deploy", "--network", "local", "--networks-file", str(NETWORKS),
            "--deployments-dir", str(tmp_path), "--json")  # fmt: skip
    first = cli(*args, env=env)
    assert first.code == 0, first.error
    assert [s["name"] for s in first.json()["steps"]][-4:] == [
        f"schedule {REGISTER_PRICING}",
        f"execute {REGISTER_PRICING}",
        f"schedule {ENABLE_PRICING}",
        f"execute {ENABLE_PRICING}",
    ]
    record = load_record(tmp_path, chain_snapshot.chain_id)
    market = Market.connect(chain_snapshot, record.market_addresses())
    module = record.contracts["TokenMeteredPricing"].address
    assert chain_snapshot.call(market.jobs.functions.pricingOf(1)) == (module, True)
    again = cli(*args, env=env)
    assert again.code == 0, again.error
    assert again.json()["transactions"] == 0 and again.json()["proposals"] == []
