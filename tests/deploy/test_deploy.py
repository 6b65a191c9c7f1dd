"""`inferchain deploy` against an Anvil with Sepolia's chain id, through the `sepolia` entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferchain.chain import Chain
from inferchain.deploy import load_networks, load_record
from inferchain.devstack import dev_private_keys
from inferchain.market import Market
from inferchain.paths import project_root
from inferchain.solidity.config import SOLC_VERSION
from inferchain.wallet import PASSWORD_ENV, PRIVATE_KEY_ENV
from tests.cli.runner import Cli
from tests.conftest import AnvilNode
from tests.deploy.conftest import PASSWORD, SEPOLIA_CHAIN_ID

NETWORKS = project_root() / "networks.toml"
DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _env(rpc: str, **extra: str) -> dict[str, str]:
    return {"SEPOLIA_RPC_URL": rpc, PASSWORD_ENV: PASSWORD, PRIVATE_KEY_ENV: "", **extra}


def _deploy(cli: Cli, rpc: str, out: Path, keystore: Path, *flags: str, networks=NETWORKS):
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
    assert report["chain_id"] == SEPOLIA_CHAIN_ID and report["transactions"] == 8
    record = load_record(tmp_path, SEPOLIA_CHAIN_ID)
    assert record.network == "sepolia" and record.deployer == DEPLOYER
    assert record.compiler["version"] == SOLC_VERSION and "optimizer" in record.compiler["settings"]
    assert set(record.contracts) == {
        "ModelRegistry",
        "WorkerRegistry",
        "JobRouter",
        "JobMarket",
        "ManualArbiter",
    }
    assert [t.step for t in record.transactions] == [
        "WorkerRegistry.bindMarket", "JobMarket.setArbiter", "JobMarket.setVerificationMode",
    ]  # fmt: skip
    for c in record.contracts.values():
        assert c.tx_hash.startswith("0x") and c.block > 0 and len(c.abi_sha256) == 64

    chain = Chain(sepolia_rpc, expected_chain_id=SEPOLIA_CHAIN_ID)
    market = Market.connect(chain, record.market_addresses())
    assert chain.call(market.jobs.functions.modelRegistry()) == market.addresses.model_registry
    assert chain.call(market.workers.functions.market()) == market.addresses.job_market
    assert chain.call(market.jobs.functions.arbiterOf(0)) == market.addresses.arbiter
    assert chain.call(market.jobs.functions.router()) == market.addresses.router
    assert chain.call(market.router.functions.modelRegistry()) == market.addresses.model_registry
    assert chain.call(market.workers.functions.minStake()) == 10**16  # the sepolia entry's

    nonce = chain.w3.eth.get_transaction_count(DEPLOYER)
    before = (tmp_path / f"{SEPOLIA_CHAIN_ID}.json").read_text()
    again = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore)
    assert again.code == 0, again.error
    assert again.json()["transactions"] == 0
    assert chain.w3.eth.get_transaction_count(DEPLOYER) == nonce
    assert (tmp_path / f"{SEPOLIA_CHAIN_ID}.json").read_text() == before

    # A changed fee in the networks file is reconciled with one setter, nothing redeployed.
    changed = tmp_path / "networks.toml"
    changed.write_text(
        NETWORKS.read_text().replace("protocol_fee_bps = 250", "protocol_fee_bps = 300")
    )
    third = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore, networks=changed)
    assert third.code == 0, third.error
    assert [s["name"] for s in third.json()["steps"]] == ["JobMarket.setProtocolFee"]
    assert chain.call(market.jobs.functions.protocolFeeBps()) == 300
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


def test_dry_run_estimates_without_sending(
    cli: Cli, sepolia_rpc: str, deployer_keystore: Path, tmp_path: Path
) -> None:
    chain = Chain(sepolia_rpc)
    nonce = chain.w3.eth.get_transaction_count(DEPLOYER)
    out = _deploy(cli, sepolia_rpc, tmp_path, deployer_keystore, "--dry-run")
    assert out.code == 0, out.error
    report = out.json()
    assert report["dry_run"] and report["transactions"] == 8
    assert (
        report["total_gas"] > 5_000_000
        and report["cost_wei"] == report["total_gas"] * report["gas_price_wei"]
    )
    assert [s["simulated"] for s in report["steps"]] == [True] * 5 + [False] * 3
    assert chain.w3.eth.get_transaction_count(DEPLOYER) == nonce
    assert not (tmp_path / f"{SEPOLIA_CHAIN_ID}.json").exists()


def test_a_node_of_another_chain_is_refused(
    cli: Cli, anvil: AnvilNode, deployer_keystore: Path, tmp_path: Path
) -> None:
    out = _deploy(cli, anvil.rpc_url, tmp_path, deployer_keystore)
    assert out.code == 1
    assert "wrong network" in out.error and "11155111" in out.error
    assert not list(tmp_path.iterdir())


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
    bad.write_text('[networks.x]\nchain_id = 1\nrpc_url_env = "X"\ntreasury = "0x12"\n')
    out = cli(*base, "--network", "x", "--networks-file", str(bad))
    assert out.code == 1 and "treasury" in out.error and "not an address" in out.error
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
