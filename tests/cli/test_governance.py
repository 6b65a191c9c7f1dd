"""`inferchain governance` against a market deployed through the `local` entry, with a one-day
timelock delay and a guardian of its own, on the real Anvil."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inferchain.chain import Chain, ContractReverted
from inferchain.cli import governance
from inferchain.deploy import deploy_network, load_network, load_record
from inferchain.market import ETH, Market
from inferchain.paths import project_root
from inferchain.wallet import PRIVATE_KEY_ENV
from tests.cli.runner import Cli, Outcome
from tests.conftest import AnvilNode

DAY = 86_400
PROPOSER, GUARDIAN, STRANGER = 0, 4, 5


@pytest.fixture(scope="module")
def gcli() -> Cli:
    runner = Cli()
    runner.app.add_typer(governance.app, name="governance")
    return runner


@pytest.fixture(scope="module")
def deployments(anvil: AnvilNode, chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local entry with a one-day delay and account 4 as guardian; deployer proposes.
    No metered pricing: its registration would wait in the timelock beside the operations
    these tests propose (tests/deploy covers it)."""
    directory = tmp_path_factory.mktemp("gov-deployments")
    local = load_network("local", project_root() / "networks.toml")
    network = local.model_copy(
        update={
            "guardian": anvil.accounts[GUARDIAN],
            "market": local.market.model_copy(
                update={"timelock_delay": DAY, "metered_pricing": False}
            ),
        }
    )
    deploy_network(chain, chain.sender(anvil.keys[PROPOSER]), network, directory)
    return directory


@pytest.fixture(scope="module")
def market(chain: Chain, deployments: Path) -> Market:
    return Market.connect(chain, load_record(deployments, chain.chain_id).market_addresses())


@pytest.fixture
def gov(gcli: Cli, deployments: Path, anvil: AnvilNode, chain_snapshot: Chain) -> Iterator[Any]:
    """`gov(who, *args)` runs `inferchain governance *args --json` with account `who`'s key."""
    base = ["--network", "local", "--networks-file", str(project_root() / "networks.toml"),
            "--deployments-dir", str(deployments)]  # fmt: skip

    def run(who: int, *args: str, as_json: bool = True) -> Outcome:
        env = {"INFERCHAIN_LOCAL_RPC_URL": anvil.rpc_url, PRIVATE_KEY_ENV: anvil.keys[who],
               "INFERCHAIN_KEYSTORE": ""}  # fmt: skip
        return gcli("governance", *args, *base, *(["--json"] if as_json else []), env=env)

    yield run


def _nonce(chain: Chain, address: str) -> int:
    return chain.w3.eth.get_transaction_count(address)


def test_every_command_has_help(gcli: Cli) -> None:
    commands = ["pending", "execute", "cancel", "pause", "disable-mode", "disallow-token", "show"]
    proposals = ["set-config", "allow-token", "disallow-token", "enable-mode", "register-mode",
                 "set-guardian", "withdraw-fees", "unpause"]  # fmt: skip
    for args in [[c] for c in commands] + [["propose", p] for p in proposals]:
        out = gcli("governance", *args, "--help")
        assert out.code == 0 and "--json" in out.stdout and "--network" in out.stdout, args


def test_propose_then_execute_too_early_refused_then_after_the_delay_config_changed(
    gov: Any, chain: Chain, market: Market, anvil: AnvilNode
) -> None:
    proposed = gov(PROPOSER, "propose", "set-config", "--fee-bps", "300")
    assert proposed.code == 0, proposed.error
    op = proposed.json()
    now = chain.block_timestamp()
    assert op["state"] == "scheduled" and op["ready_at"] == now + DAY
    assert op["call"] == "MarketGovernor.setConfig"
    assert (
        op["args"]["config"] == {"feeBps": 300, "collateralBps": 10_000, "disputeBondBps": 1_000}
        and op["args"]["market"] == market.jobs.address
    )
    assert (op["current"], op["wanted"]) == ([250, 10_000, 1_000], [300, 10_000, 1_000])

    listed = gov(STRANGER, "pending").json()["operations"]
    assert [(o["operation_id"], o["state"], o["call"]) for o in listed] == [
        (op["operation_id"], "waiting", "MarketGovernor.setConfig")
    ]
    again = gov(PROPOSER, "propose", "set-config", "--fee-bps", "300")
    assert again.code == 1 and "already proposed" in again.error

    early = gov(STRANGER, "execute", op["operation_id"])
    assert early.code == 1 and "too early" in early.error and f"in {DAY} s" in early.error
    assert chain.call(market.jobs.functions.config()) == (250, 10_000, 1_000)

    chain.increase_time(DAY)
    assert gov(STRANGER, "pending").json()["operations"][0]["state"] == "ready"
    done = gov(STRANGER, "execute", op["operation_id"][:10])  # a unique prefix will do
    assert done.code == 0, done.error
    assert done.json()["state"] == "done" and done.json()["tx"].startswith("0x")
    assert chain.call(market.jobs.functions.config()) == (300, 10_000, 1_000)
    assert gov(STRANGER, "pending").json()["operations"] == []

    twice = gov(STRANGER, "execute", op["operation_id"])
    assert twice.code == 1 and "already done" in twice.error and "executed" in twice.error
    same = gov(PROPOSER, "propose", "set-config", "--fee-bps", "300")
    assert same.code == 1 and "already done" in same.error


def test_a_stranger_cannot_propose_nor_cancel(
    gov: Any, chain: Chain, market: Market, anvil: AnvilNode
) -> None:
    stranger = anvil.accounts[STRANGER]
    nonce = _nonce(chain, stranger)
    refused = gov(STRANGER, "propose", "set-config", "--fee-bps", "300")
    assert refused.code == 1 and "not a proposer" in refused.error and stranger in refused.error
    assert _nonce(chain, stranger) == nonce

    op = gov(PROPOSER, "propose", "set-guardian", anvil.accounts[STRANGER]).json()
    cancel = gov(STRANGER, "cancel", op["operation_id"])
    assert cancel.code == 1 and "not a canceller" in cancel.error
    assert _nonce(chain, stranger) == nonce

    dropped = gov(PROPOSER, "cancel", op["operation_id"])
    assert dropped.code == 0 and dropped.json()["state"] == "cancelled"
    chain.increase_time(DAY)
    gone = gov(STRANGER, "execute", op["operation_id"])
    assert gone.code == 1 and "was cancelled" in gone.error
    unknown = gov(STRANGER, "execute", "0x" + "ab" * 32)
    assert unknown.code == 1 and "unknown operation" in unknown.error
    assert chain.call(market.governor.functions.guardian()) == anvil.accounts[GUARDIAN]


def test_the_guardian_pauses_at_once_but_cannot_unpause(
    gov: Any, chain: Chain, market: Market, anvil: AnvilNode
) -> None:
    stranger = gov(STRANGER, "pause")
    assert stranger.code == 1 and "not the guardian" in stranger.error
    paused = gov(GUARDIAN, "pause")
    assert paused.code == 0, paused.error
    assert chain.call(market.jobs.functions.paused()) is True  # no delay
    assert "already done" in gov(GUARDIAN, "pause").error

    refused = gov(GUARDIAN, "propose", "unpause")
    assert refused.code == 1 and "not a proposer" in refused.error
    with pytest.raises(ContractReverted) as direct:  # nor straight at the governor
        chain.sender(anvil.keys[GUARDIAN]).transact(
            market.governor.functions.unpause(market.jobs.address)
        )
    assert direct.value.error_name == "OwnableUnauthorizedAccount"

    op = gov(PROPOSER, "propose", "unpause").json()
    chain.increase_time(DAY)
    assert gov(STRANGER, "execute", op["operation_id"]).code == 0
    assert chain.call(market.jobs.functions.paused()) is False


def test_out_of_bounds_refused_without_a_transaction(
    gov: Any, chain: Chain, market: Market, anvil: AnvilNode
) -> None:
    proposer = anvil.accounts[PROPOSER]
    nonce = _nonce(chain, proposer)
    fee = gov(PROPOSER, "propose", "set-config", "--fee-bps", "1001")
    assert fee.code == 1
    assert "--fee-bps 1001: 1001 is out of bounds (0..1000); nothing was sent" in fee.error
    bond = gov(PROPOSER, "propose", "set-config", "--fee-bps", "100", "--dispute-bond-bps", "499")
    assert (
        bond.code == 1 and "--dispute-bond-bps 499: 499 is out of bounds (500..5000)" in bond.error
    )
    collateral = gov(PROPOSER, "propose", "set-config", "--collateral-bps", "30001")
    assert collateral.code == 1
    assert "--collateral-bps 30001: 30001 is out of bounds (5000..30000)" in collateral.error
    short = chain.sender(anvil.keys[PROPOSER]).deploy("ManualArbiter", proposer, 60, DAY)
    nonce += 1
    windows = gov(PROPOSER, "propose", "register-mode", "3", short.address)
    assert windows.code == 1 and "60 is out of bounds (600..604800)" in windows.error
    taken = gov(PROPOSER, "propose", "register-mode", "0", short.address)
    assert taken.code == 1 and "mode 0 is taken" in taken.error
    fees = gov(PROPOSER, "propose", "withdraw-fees", "eth", proposer, "1wei")
    assert fees.code == 1 and "fees in" in fees.error
    assert _nonce(chain, proposer) == nonce
    assert gov(PROPOSER, "pending").json()["operations"] == []


def test_tokens_modes_fees_and_show(
    gov: Any, chain: Chain, market: Market, anvil: AnvilNode
) -> None:
    owner = chain.sender(anvil.keys[PROPOSER])
    token = owner.deploy("MockERC20Permit", "Test", "TST").address
    arbiter = owner.deploy("ManualArbiter", anvil.accounts[PROPOSER], 600, DAY).address
    # Protocol fees are the governor's market balance: credit 5 wei as if jobs had paid them.
    governor = market.governor.address
    chain.w3.provider.make_request("anvil_setBalance", [governor, hex(10**18)])  # type: ignore[arg-type]
    chain.w3.provider.make_request("anvil_impersonateAccount", [governor])  # type: ignore[arg-type]
    market.jobs.functions.deposit(ETH, 5).transact({"from": governor, "value": 5})
    chain.w3.provider.make_request("anvil_stopImpersonatingAccount", [governor])  # type: ignore[arg-type]

    ids = [
        gov(PROPOSER, *args).json()["operation_id"]
        for args in (
            ["propose", "allow-token", token],
            ["propose", "register-mode", "3", arbiter],
            ["propose", "withdraw-fees", "eth", anvil.accounts[STRANGER], "5wei"],
        )
    ]
    calls = [o["call"] for o in gov(STRANGER, "pending").json()["operations"]]
    assert calls == ["MarketGovernor.setTokenAllowed", "MarketGovernor.registerMode",
                     "MarketGovernor.withdrawFees"]  # fmt: skip
    chain.increase_time(DAY)
    before = chain.balance(anvil.accounts[STRANGER])
    for op_id in ids:
        out = gov(PROPOSER, "execute", op_id)
        assert out.code == 0, out.error
    assert chain.balance(anvil.accounts[STRANGER]) == before + 5
    assert chain.call(market.jobs.functions.isTokenAllowed(token)) is True
    assert chain.call(market.jobs.functions.modeOf(3))[0] == arbiter

    enable = gov(PROPOSER, "propose", "enable-mode", "3").json()["operation_id"]
    chain.increase_time(DAY)
    assert gov(STRANGER, "execute", enable).code == 0
    assert chain.call(market.jobs.functions.modeOf(3))[4] is True

    assert "not the guardian" in gov(STRANGER, "disable-mode", "3").error
    assert gov(GUARDIAN, "disable-mode", "3").code == 0
    assert chain.call(market.jobs.functions.modeOf(3))[4] is False
    assert "not registered" in gov(GUARDIAN, "disable-mode", "7").error
    assert gov(GUARDIAN, "disallow-token", token, "--now").code == 0
    assert chain.call(market.jobs.functions.isTokenAllowed(token)) is False
    assert "already done" in gov(GUARDIAN, "disallow-token", token, "--now").error
    assert "ETH is always allowed" in gov(GUARDIAN, "disallow-token", "eth", "--now").error

    shown = gov(STRANGER, "show").json()
    assert shown["governor"] == governor and shown["owner"] == market.timelock.address
    assert shown["delay"] == DAY and shown["proposers"] == [anvil.accounts[PROPOSER]]
    assert shown["guardian"] == anvil.accounts[GUARDIAN] and shown["anyone_executes"] is True
    assert shown["config"] == {"fee_bps": 250, "collateral_bps": 10_000, "dispute_bond_bps": 1_000}
    assert [(m["id"], m["module"], m["enabled"]) for m in shown["modes"]] == [
        (0, market.arbiter.address, True),
        (1, market.zk.address, True),  # ZkVerifier, set up by the deployment
        (2, market.reexec.address, True),  # ReexecVerifier, likewise
        (3, arbiter, False),
    ]
    assert shown["tokens"] == {token: False}
    assert shown["fees"] == {ETH: 0, token: 0}
    human = gov(STRANGER, "show", as_json=False)
    assert human.code == 0 and f"guardian   {anvil.accounts[GUARDIAN]}" in human.stdout


def test_hostile_operation_ids_and_unready_states_refused_without_a_transaction(
    gov: Any, chain: Chain, anvil: AnvilNode
) -> None:
    stranger = anvil.accounts[STRANGER]
    nonce = _nonce(chain, stranger)
    not_an_id = "not an operation id"
    bad_ids = [("0xzz" + "0" * 62, not_an_id), ("0x12", not_an_id), ("", not_an_id),
               ("0x" + "f" * 100_000, "unknown operation")]  # fmt: skip
    for bad, why in bad_ids:
        out = gov(STRANGER, "execute", bad)
        assert out.code == 1 and why in out.error and "Traceback" not in out.error, bad[:8]
    unregistered = gov(PROPOSER, "propose", "enable-mode", "9")
    assert unregistered.code == 1 and "propose register-mode` first" in unregistered.error
    hint = gov(GUARDIAN, "disallow-token", "0x" + "11" * 20)
    assert hint.code == 1 and "not a proposer" in hint.error and "--now" in hint.error
    assert _nonce(chain, stranger) == nonce
    assert gov(PROPOSER, "pending").json()["operations"] == []
