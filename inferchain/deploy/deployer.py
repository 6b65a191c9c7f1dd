"""Idempotent deployment of the market contracts to one network.

The contracts, their order and constructor arguments come from `inferchain.market.deploy`
(`market_contracts`, `constructor_args`), as for `deploy_market`; here ZkVerifier and
ReexecVerifier are always deployed, and each step is skipped when the chain already holds
its result: a recorded contract is reused when its artifact is unchanged and its runtime
code hash still matches. A re-run therefore sends nothing. `ModelRegistry` is reused on its
own, and `JobRouter` and `WorkerRegistry` (shared, ownerless, without parameters) whenever
the registry is; the timelock, governor, arbiter and market name each other in
constructors, so they are reused or redeployed together. The arbiter is the one
`market.disputes` asks for (CommitteeArbiter or ManualArbiter): a rerun whose networks file
asks for the other one than the kept market has stops before sending (`DeploymentConflict`),
as mode 0's module is fixed. Nothing is wired after the constructors: workers stake and
allocate to the market themselves. ReexecVerifier is reused with its market only, and only
when its immutable parameters are the networks file's `[networks.NAME.reexec]`: otherwise
the run stops before sending (`DeploymentConflict`, naming each differing field), as a new
module would need a new mode id through the timelock.

A changed fee, collateral, bond, token list, guardian or delay in the networks file is never applied
with a setter: the market's terms belong to the timelock. The rerun schedules the timelock
operation (when the deployer is a proposer; otherwise it prints it for the proposer), and a
rerun after the delay executes it (see `inferchain.deploy.governance`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils.abi import collapse_if_tuple
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt
from web3.utils.address import get_create_address

from inferchain.artifacts import load_artifact
from inferchain.chain import Chain, TransactionSender, TransactionTimeout, decode_revert
from inferchain.deploy.errors import DeployError, DeployerUnderfunded, DeploymentConflict
from inferchain.deploy.governance import (
    Proposal,
    ProposalState,
    disputes_of,
    fixed_differences,
    governed_changes,
    plan_proposal,
)
from inferchain.deploy.networks import Network
from inferchain.deploy.records import (
    ContractRecord,
    DeploymentRecord,
    StepRecord,
    artifact_fingerprint,
    read_record,
    write_record,
)
from inferchain.market import MarketConfig
from inferchain.market.deploy import (
    ARBITERS,
    constructor_args,
    create_address,
    market_contracts,
)
from inferchain.market.metering import METERED_PRICING
from inferchain.market.reexec import read_params
from inferchain.solidity.config import SOLC_VERSION, compiler_settings

#: Gas allowed in a dry run for a call on a contract that does not exist yet (measured
#: on Anvil at 25k-50k; rounded up, since it cannot be simulated).
UNSIMULATED_CALL_GAS = 80_000
#: Gas allowed in a dry run for the market constructor's work on a mode whose module does
#: not exist yet (reading its windows needs its immutables, which a code override lacks).
UNSIMULATED_MODE_GAS = 80_000

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Step:
    """One transaction: planned (dry run) or sent."""

    name: str
    gas: int
    simulated: bool = True
    tx_hash: str | None = None
    block: int | None = None


@dataclass
class DeployReport:
    network: str
    chain_id: int
    deployer: str
    dry_run: bool
    gas_price: int
    steps: list[Step] = field(default_factory=list)
    addresses: dict[str, str] = field(default_factory=dict)
    record_path: Path | None = None
    #: Governance changes the networks file asks for, and what became of each.
    proposals: list[Proposal] = field(default_factory=list)
    #: Differences no transaction applies in place, with what to do instead.
    notes: list[str] = field(default_factory=list)

    @property
    def total_gas(self) -> int:
        return sum(s.gas for s in self.steps)

    @property
    def cost_wei(self) -> int:
        return self.total_gas * self.gas_price

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "chain_id": self.chain_id,
            "deployer": self.deployer,
            "dry_run": self.dry_run,
            "transactions": len(self.steps),
            "total_gas": self.total_gas,
            "gas_price_wei": self.gas_price,
            "cost_wei": self.cost_wei,
            "steps": [s.__dict__ for s in self.steps],
            "addresses": self.addresses,
            "record": str(self.record_path) if self.record_path else None,
            "proposals": [p.to_dict() for p in self.proposals],
            "notes": self.notes,
        }


def deploy_network(
    chain: Chain,
    sender: TransactionSender,
    network: Network,
    directory: Path,
    *,
    dry_run: bool = False,
    on_progress: Progress = lambda _msg: None,
) -> DeployReport:
    """Deploy what is missing on `network` and record it in `directory`/<chain-id>.json."""
    return _Deployment(chain, sender, network, directory, on_progress).run(dry_run)


class _Deployment:
    def __init__(
        self,
        chain: Chain,
        sender: TransactionSender,
        network: Network,
        directory: Path,
        on_progress: Progress,
    ) -> None:
        self.chain = chain
        self.w3 = chain.w3
        self.sender = sender
        self.network = network
        self.directory = directory
        self.progress = on_progress
        self.config: MarketConfig = network.market_config(sender.address)
        self.record = read_record(directory, chain.chain_id) or DeploymentRecord(
            chain_id=chain.chain_id,
            network=network.name,
            deployer=sender.address,
            compiler={},
        )

    # -- plan ------------------------------------------------------------------------

    def run(self, dry_run: bool) -> DeployReport:
        gas_price = self.w3.eth.gas_price
        report = DeployReport(
            self.network.name, self.chain.chain_id, self.sender.address, True, gas_price
        )
        reused = self._reusable()
        if "ReexecVerifier" in reused:
            self._check_reexec_params()
        self._plan(reused, report)
        if dry_run or not report.steps:
            report.addresses = {n: self.record.contracts[n].address for n in reused}
            return report
        balance = self.chain.balance(self.sender.address)
        if balance < report.cost_wei:
            raise DeployerUnderfunded(
                f"{self.sender.address} holds {balance} wei on {self.network.name}; the "
                f"{len(report.steps)} missing steps need about {report.cost_wei} wei "
                f"({report.total_gas} gas at {gas_price} wei)"
            )
        sent = DeployReport(
            self.network.name, self.chain.chain_id, self.sender.address, False, gas_price
        )
        self._execute(reused, sent)
        sent.addresses = {n: c.address for n, c in self.record.contracts.items()}
        sent.record_path = self.directory / f"{self.chain.chain_id}.json"
        return sent

    def _matches(self, name: str) -> bool:
        recorded = self.record.contracts.get(name)
        if recorded is None:
            return False
        abi_sha, bytecode_sha = artifact_fingerprint(name)
        if (recorded.abi_sha256, recorded.bytecode_sha256) != (abi_sha, bytecode_sha):
            self.progress(f"{name}: artifact changed since {recorded.address}; redeploying")
            return False
        if self._code_hash(recorded.address) != recorded.code_hash:
            self.progress(f"{name}: code at {recorded.address} differs from the record")
            return False
        return True

    def _reusable(self) -> set[str]:
        reused: set[str] = set()
        for shared in ("ModelRegistry", "JobRouter", "WorkerRegistry"):
            if not self._matches(shared):
                return reused
            reused.add(shared)
        if self._matches("ZkVerifier"):  # it names the model registry only
            reused.add("ZkVerifier")
        recorded = self._recorded_arbiter() or self.config.arbiter
        bound = _bound_together(recorded)
        if all(self._matches(n) for n in bound):
            if recorded != self.config.arbiter:
                raise self._arbiter_conflict(recorded)
            reused.update(bound)
        # ReexecVerifier names the one market it serves: reused only with that market.
        if "JobMarket" in reused and self._matches("ReexecVerifier"):
            reused.add("ReexecVerifier")
        # The pricing module names only the model registry; a new market registers it again.
        if self._matches("TokenMeteredPricing"):
            reused.add("TokenMeteredPricing")
        return reused

    def _recorded_arbiter(self) -> str | None:
        """Which of `ARBITERS` the record holds (the configured one if, oddly, both)."""
        held = [n for n in ARBITERS.values() if n in self.record.contracts]
        return self.config.arbiter if self.config.arbiter in held else next(iter(held), None)

    def _arbiter_conflict(self, recorded: str) -> DeploymentConflict:
        """The recorded market, kept, has the other arbiter at mode 0 than the networks file
        asks for. Redeploying the market in silence would abandon it (its jobs, stakes and
        governance), and a mode's module is fixed: say both ways on."""
        address = self.record.contracts[recorded].address
        market = self.record.contracts["JobMarket"].address
        section = f"[networks.{self.network.name}.market]"
        return DeploymentConflict(
            f"JobMarket {market} on {self.network.name} has {recorded} {address} at mode 0, but "
            f'{section} says disputes = "{self.config.disputes}" ({self.config.arbiter}). A '
            f"mode's module is fixed for good: set disputes back to "
            f'"{disputes_of(recorded)}" to keep this market as it is, or deploy a '
            f"{self.config.arbiter} and register it under a free mode id through the timelock "
            f"(MarketGovernor.registerMode, then setModeEnabled) and tell users that id"
        )

    def _check_reexec_params(self) -> None:
        """Refuse to reuse a ReexecVerifier deployed with other parameters than the networks
        file's: they are immutable, and the module is its market's mode 2 for good (a new
        one would need a new mode id), so neither reuse nor redeploy is right silently."""
        address = self.record.contracts["ReexecVerifier"].address
        deployed = asdict(read_params(self.chain, self._bind("ReexecVerifier", address)))
        wanted = asdict(self.config.reexec)
        differing = [f"{k}: deployed {deployed[k]}, configured {v}"
                     for k, v in wanted.items() if deployed[k] != v]  # fmt: skip
        if differing:
            raise DeploymentConflict(
                f"ReexecVerifier {address} on {self.network.name} was deployed with other "
                f"parameters than [networks.{self.network.name}.reexec] ({'; '.join(differing)}). "
                f"They are fixed: set them back to the deployed values to keep this module, or "
                f"deploy a new ReexecVerifier for the market and register it under a free mode "
                f"id through the timelock (MarketGovernor.registerMode, then setModeEnabled)"
            )

    def _plan(self, reused: set[str], report: DeployReport) -> None:
        """Dry run: estimate each missing step, predicting the addresses of new contracts.

        A constructor may read an earlier contract (JobMarket reads its modes' windows), so
        each estimate runs with the runtime code of the contracts
        planned before it placed at their predicted addresses (an eth_estimateGas state
        override, which Anvil, geth and the major providers support).
        """
        nonce = self.w3.eth.get_transaction_count(self.sender.address, "pending")
        deployed = {n: self.record.contracts[n].address for n in reused}
        overrides: dict[str, dict[str, str]] = {}
        for name in market_contracts(self.config):
            if name in reused:
                continue
            address = get_create_address(self.sender.address, nonce)  # type: ignore[arg-type]
            if name == "ReexecVerifier" and "JobMarket" not in reused:
                deployed["JobMarket"] = create_address(self.sender.address, nonce + 1)
            args = constructor_args(name, self.sender.address, self.config, deployed)
            if overrides:  # the deployer's nonce as it will be, else CREATE hits a planned address
                overrides[self.sender.address] = {"nonce": hex(nonce)}
            modes = args[5] if name == "JobMarket" else []
            planned = [m for m in modes if m[1] not in self._reused_addresses(reused)]
            if planned:
                # Modules planned, not deployed: estimate without their modes.
                kept = [m for m in args[5] if m not in planned]
                gas = self._estimate_deploy(name, (*args[:5], kept, *args[6:]), overrides)
                gas += UNSIMULATED_MODE_GAS * len(planned)
                step = Step(f"deploy {name}", gas, simulated=False)
            else:
                step = Step(f"deploy {name}", self._estimate_deploy(name, args, overrides))
            report.steps.append(step)
            nonce += 1
            deployed[name] = address
            overrides[address] = {"code": load_artifact(name).deployed_bytecode}
        if "JobMarket" in reused:
            self._plan_governance(deployed, report)
        elif self.config.metered_pricing and self._proposes():
            # A new market: its pricing registration cannot be simulated before it exists.
            rounds = ("schedule", "execute") if self.config.timelock_delay == 0 else ("schedule",)
            for name in ("registerPricing", "setPricingEnabled"):
                for verb in rounds:
                    step = Step(f"{verb} MarketGovernor.{name}({METERED_PRICING})",
                                UNSIMULATED_CALL_GAS, simulated=False)  # fmt: skip
                    report.steps.append(step)

    def _proposes(self) -> bool:
        proposer = self.config.proposer or self.sender.address
        return Web3.to_checksum_address(proposer) == self.sender.address

    def _reused_addresses(self, reused: set[str]) -> set[str]:
        return {self.record.contracts[n].address for n in reused}

    def _estimate_deploy(
        self, name: str, args: tuple[Any, ...], overrides: dict[str, dict[str, str]]
    ) -> int:
        data = load_artifact(name).bytecode + encode_constructor_args(name, args)
        tx = {"from": self.sender.address, "data": data}
        response = self.w3.provider.make_request(
            "eth_estimateGas",  # type: ignore[arg-type]
            [tx, "latest", overrides] if overrides else [tx, "latest"],
        )
        if "error" in response:
            error = response["error"]
            data = error.get("data") if isinstance(error, dict) else None
            if isinstance(data, str) and data.startswith("0x"):
                raise decode_revert(data)
            raise DeployError(f"cannot estimate the deployment of {name}: {error}")
        return int(response["result"], 16)

    def _estimate(self, call: Any) -> int:
        try:
            return int(call.estimate_gas({"from": self.sender.address}))
        except ContractLogicError as exc:
            raise decode_revert(exc.data if isinstance(exc.data, str) else None) from exc

    # -- execute ---------------------------------------------------------------------

    def _execute(self, reused: set[str], report: DeployReport) -> None:
        if not self.record.compiler:
            self.record.compiler = {"version": SOLC_VERSION, "settings": compiler_settings()}
        deployed = {n: self.record.contracts[n].address for n in reused}
        for name in market_contracts(self.config):
            if name in reused:
                continue
            if name == "ReexecVerifier" and "JobMarket" not in reused:
                # It names the market, deployed next: its address follows from the nonce.
                nonce = self.w3.eth.get_transaction_count(self.sender.address, "pending")
                deployed["JobMarket"] = create_address(self.sender.address, nonce + 1)
            args = constructor_args(name, self.sender.address, self.config, deployed)
            self.progress(f"deploying {name}…")
            record, gas_used = self._deploy(name, args)
            if deployed.get(name, record.address) != record.address:
                raise DeployError(
                    f"{name} landed at {record.address}, not at {deployed[name]} where "
                    "ReexecVerifier expects it (another transaction from the deployer?)"
                )
            deployed[name] = record.address
            self.record.contracts[name] = record
            if name in ARBITERS.values():  # a new market's arbiter: the old one's is gone
                for other in set(ARBITERS.values()) - {name}:
                    self.record.contracts.pop(other, None)
            self.record.compiler = {"version": SOLC_VERSION, "settings": compiler_settings()}
            self._save()
            report.steps.append(
                Step(f"deploy {name}", gas_used, tx_hash=record.tx_hash, block=record.block)
            )
            self.progress(f"  {name} at {record.address} (tx {record.tx_hash})")
        self._apply_governance(deployed, report)

    def _deploy(self, name: str, args: tuple[Any, ...]) -> tuple[ContractRecord, int]:
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self._send(factory.constructor(*args))
        address = receipt["contractAddress"]
        abi_sha, bytecode_sha = artifact_fingerprint(name)
        record = ContractRecord(
            address=address,
            tx_hash=receipt["transactionHash"].to_0x_hex(),
            block=receipt["blockNumber"],
            abi_sha256=abi_sha,
            bytecode_sha256=bytecode_sha,
            code_hash=self._code_hash(address),
            constructor_args=encode_constructor_args(name, args),
        )
        return record, int(receipt["gasUsed"])

    def _send(self, call: Any) -> TxReceipt:
        receipt = self.sender.transact(call)
        self._confirm(receipt)
        return receipt

    def _confirm(self, receipt: TxReceipt) -> None:
        """Wait until the receipt's block has `confirmations` blocks (itself included)."""
        target = receipt["blockNumber"] + self.network.confirmations - 1
        deadline = time.monotonic() + self.network.confirmation_timeout_s
        while True:
            head = self.w3.eth.block_number
            if head >= target:
                return
            if time.monotonic() > deadline:
                tx = receipt["transactionHash"].to_0x_hex()
                raise TransactionTimeout(
                    f"{tx} lacks {target - head} of {self.network.confirmations} confirmations "
                    f"after {self.network.confirmation_timeout_s}s"
                )
            time.sleep(0.2)

    def _save(self) -> None:
        write_record(self.directory, self.record)

    # -- governance ------------------------------------------------------------------

    def _proposals(self, deployed: dict[str, str], report: DeployReport) -> list[Proposal]:
        report.notes = fixed_differences(self.chain, deployed, self.config)
        from_block = min((c.block for c in self.record.contracts.values()), default=0)
        return [
            plan_proposal(
                self.chain, deployed["InferchainTimelock"], change, self.sender.address, from_block
            )
            for change in governed_changes(self.chain, deployed, self.config)
        ]

    def _plan_governance(self, deployed: dict[str, str], report: DeployReport) -> None:
        """Dry run and planning: which governance changes a run would schedule or execute."""
        timelock = self._bind("InferchainTimelock", deployed["InferchainTimelock"])
        delay = int(self.chain.call(timelock.functions.getMinDelay()))
        report.proposals = self._proposals(deployed, report)
        executes = False
        for p in report.proposals:
            if p.state == ProposalState.SCHEDULE:
                gas = self._estimate(p.operation.schedule(timelock, delay))
                report.steps.append(Step(f"schedule {p.name}", gas))
                if delay == 0:  # executed at once (below), after the operations before it
                    report.steps.append(
                        Step(f"execute {p.name}", UNSIMULATED_CALL_GAS, simulated=False)
                    )
            elif p.state == ProposalState.EXECUTE:
                # One may need an earlier one executed first (enable after register).
                step = (
                    Step(f"execute {p.name}", UNSIMULATED_CALL_GAS, simulated=False)
                    if executes
                    else Step(f"execute {p.name}", self._estimate(p.operation.execute(timelock)))
                )
                report.steps.append(step)
                executes = True

    def _apply_governance(self, deployed: dict[str, str], report: DeployReport) -> None:
        """Schedule what the deployer may propose, execute what is ready; record both."""
        timelock = self._bind("InferchainTimelock", deployed["InferchainTimelock"])
        delay = int(self.chain.call(timelock.functions.getMinDelay()))
        report.proposals = self._proposals(deployed, report)
        for p in report.proposals:
            if p.state == ProposalState.SCHEDULE:
                label, call = f"schedule {p.name}", p.operation.schedule(timelock, delay)
            elif p.state == ProposalState.EXECUTE:
                label, call = f"execute {p.name}", p.operation.execute(timelock)
            else:
                continue
            self.progress(f"{label}…")
            receipt = self._send(call)
            tx_hash, block = receipt["transactionHash"].to_0x_hex(), receipt["blockNumber"]
            self.record.transactions.append(StepRecord(label, tx_hash, block))
            self._save()
            report.steps.append(Step(label, receipt["gasUsed"], tx_hash=tx_hash, block=block))
            if p.state == ProposalState.SCHEDULE:
                p.state = ProposalState.SCHEDULED
                p.ready_at = int(self.chain.call(timelock.functions.getTimestamp(p.operation.id)))
                if delay == 0:  # local chains: nothing to wait for
                    self._execute_now(timelock, p, report)
            else:
                p.state = ProposalState.EXECUTED

    def _execute_now(self, timelock: Contract, p: Proposal, report: DeployReport) -> None:
        label = f"execute {p.name}"
        self.progress(f"{label}…")
        receipt = self._send(p.operation.execute(timelock))
        tx_hash, block = receipt["transactionHash"].to_0x_hex(), receipt["blockNumber"]
        self.record.transactions.append(StepRecord(label, tx_hash, block))
        self._save()
        report.steps.append(Step(label, receipt["gasUsed"], tx_hash=tx_hash, block=block))
        p.state = ProposalState.EXECUTED

    # -- helpers ---------------------------------------------------------------------

    def _bind(self, name: str, address: str | None = None) -> Contract:
        return self.chain.contract(name, address or self.record.contracts[name].address)

    def _code_hash(self, address: str) -> str:
        code = self.w3.eth.get_code(Web3.to_checksum_address(address))
        return Web3.keccak(code).to_0x_hex() if code else ""


def _bound_together(arbiter: str) -> tuple[str, ...]:
    """The contracts reused or redeployed together: they name each other in constructors
    (the market its governor and its mode 0 `arbiter`, the governor its timelock)."""
    return ("InferchainTimelock", "MarketGovernor", arbiter, "JobMarket")


def encode_constructor_args(name: str, args: tuple[Any, ...]) -> str:
    """ABI-encoded constructor arguments, as block explorers ask for them (hex, no 0x)."""
    ctor = next((i for i in load_artifact(name).abi if i.get("type") == "constructor"), None)
    if ctor is None or not ctor.get("inputs"):
        return ""
    types = [collapse_if_tuple(p) for p in ctor["inputs"]]
    return abi_encode(types, list(args)).hex()
