"""What a wallet does with the market: jobs, balances, and (for providers) models.

Pre-checks turn the common mistakes (inactive model, price above the maximum, an input the
model's limits refuse, too little ETH, someone else's job) into clear errors before anything
is signed; whatever the chain still refuses is translated by `reverts.explained_reverts`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from inferchain import untrusted_json
from inferchain.bundle import BundleError, InvalidInput
from inferchain.bundle.precheck import fetch_model_limits
from inferchain.chain import ChainError, TransactionSender
from inferchain.ipfs import Cid, IpfsClient, IpfsError
from inferchain.market import (
    ETH,
    ZERO_ADDRESS,
    JobOutcome,
    JobRecord,
    JobRequest,
    JobStatus,
    Market,
    ModelSpec,
    RegisteredModel,
    created_job_id,
    decode_logs,
    fold_events,
    read_job_state,
    read_model,
)
from inferchain.market.court import (
    DISPUTE_GAS,
    OPEN_ROUND_GAS,
    Court,
    court_of,
    read_dispute_round,
)
from inferchain.market.metering import Rates, metered_pricing, read_rates
from inferchain.market.modes import (
    Mode,
    TierQuote,
    quote_tiers,
    read_mode,
    verify_fee,
    zk_circuit_set,
)
from inferchain.market.reexec import Stage, read_round
from inferchain.wallet.errors import (
    ActionRefused,
    InactiveModel,
    InsufficientFunds,
    JobStateError,
    KeyUnavailable,
    NotOwner,
    PriceAboveMax,
    RoundNotOpened,
    UnknownJob,
)
from inferchain.wallet.reverts import explained_reverts

#: Input key of the text tasks, for `--input TEXT` given as plain text.
TEXT_KEYS = {"text-generation": "prompt", "text-classification": "text", "embeddings": "text"}
#: Seconds a dispute round must have to spare before its last opening time when checked:
#: the opening is mined in a later block than the check reads.
ROUND_MARGIN_S = 120
#: Settled-job outcomes after which no result will ever come.
_NO_RESULT = {
    JobOutcome.CANCELLED,
    JobOutcome.EXPIRED,
    JobOutcome.FAILED,
    JobOutcome.TIMED_OUT,
}


def encode_input(task: str, text: str) -> bytes:
    """A job input from the command line: a JSON object as is, plain text under the task's key.

    Text that UTF-8 cannot carry (a lone surrogate, as Python decodes non-UTF-8 argv bytes)
    is refused: no worker could read it.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise JobStateError(
            f"the input holds bytes that are not UTF-8 (at character {exc.start}); "
            "pass text as UTF-8, or the input as a file"
        ) from exc
    try:
        value = untrusted_json.loads(text, source="the job input")
    except untrusted_json.UntrustedJsonError:
        value = None
    if isinstance(value, dict):
        return text.encode()
    key = TEXT_KEYS.get(task)
    if key is None:
        raise JobStateError(
            f"a {task} model takes a JSON object or a file as input, not plain text"
        )
    return json.dumps({key: text}, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class DisputeRoundOpened:
    """A committee's dispute round, opened: its committee is drawn from a later block, re-runs
    the job and votes by `verdict_by` (the reveal deadline); then anyone resolves the dispute
    (`JobMarket.resolveDispute`) before the arbitration deadline, after which an undecided
    dispute expires and the worker is paid."""

    job_id: int
    fee: int
    committee_size: int
    opened_at: int
    verdict_by: int
    arbitration_deadline: int
    tx_hash: str
    #: Opened by another account (a stranger may, paying the fee) between this wallet's
    #: dispute and its own opening, which the court then refused: nothing paid here.
    by_another: bool = False


@dataclass(frozen=True)
class Disputed:
    """A dispute the market took: the bond (in `token`), and the committee's round where
    the job's mode is judged by one (None: its module rules, e.g. a ManualArbiter's key)."""

    job_id: int
    bond: int
    token: str
    tx_hash: str
    arbitration_deadline: int
    round: DisputeRoundOpened | None


@dataclass(frozen=True)
class Submitted:
    job_id: int
    input_cid: str
    price: int
    token: str
    tx_hash: str


def _tx(receipt: TxReceipt) -> str:
    return receipt["transactionHash"].to_0x_hex()


def _address(value: str) -> str:
    if not Web3.is_address(value):
        raise ActionRefused(f"{value!r} is not an address")
    return Web3.to_checksum_address(value)


class MarketClient:
    """One wallet (optional for reads) acting on one deployed market."""

    def __init__(
        self, market: Market, key: str | None = None, ipfs: IpfsClient | None = None
    ) -> None:
        self.market = market
        self.chain = market.chain
        self._key = key
        self.address = Account.from_key(key).address if key else None
        self.ipfs = ipfs

    @property
    def sender(self) -> TransactionSender:
        if self._key is None:
            raise KeyUnavailable("this command signs a transaction: configure a key")
        return self.chain.sender(self._key)

    def _ipfs(self) -> IpfsClient:
        if self.ipfs is None:
            raise KeyUnavailable("this command needs an IPFS API (--ipfs-api)")
        return self.ipfs

    # -- models ----------------------------------------------------------------------

    def model(self, model_id: int) -> RegisteredModel:
        with explained_reverts():
            return read_model(self.chain, self.market.models, model_id)

    def tiers(self, model_id: int) -> list[TierQuote]:
        """The verification tiers a job of `model_id` may choose, with what each adds."""
        model = self.model(model_id)
        with explained_reverts():
            return quote_tiers(
                self.chain,
                self.market.jobs,
                model_id=model_id,
                token=model.token,
                price=model.price,
                # A module may quote per requester; without a key, as a stranger would be.
                requester=self.address or ZERO_ADDRESS,
            )

    def register_model(self, spec: ModelSpec) -> tuple[int, str]:
        with explained_reverts():
            receipt = self.sender.transact(
                self.market.models.functions.registerModel(spec.as_abi())
            )
        event = self.market.models.events.ModelRegistered().process_receipt(receipt)[0]
        return int(event["args"]["modelId"]), _tx(receipt)

    def update_model(self, model_id: int, price: int | None, royalty_bps: int | None) -> str:
        current = self._owned_model(model_id)
        price = current.price if price is None else price
        royalty = current.royalty_bps if royalty_bps is None else royalty_bps
        with explained_reverts():
            fn = self.market.models.functions.updateTerms(model_id, price, royalty)
            return _tx(self.sender.transact(fn))

    def set_model_active(self, model_id: int, active: bool) -> str:
        self._owned_model(model_id)
        with explained_reverts():
            fn = self.market.models.functions.setActive(model_id, active)
            return _tx(self.sender.transact(fn))

    def rates(self, model_id: int) -> Rates | None:
        """The model's per-token rates (None: flat only, or no metered pricing here)."""
        self.model(model_id)  # an unknown model is refused, not shown as unpriced
        pricing = metered_pricing(self.chain, self.market.jobs)
        return None if pricing is None else read_rates(self.chain, pricing, model_id)

    def set_rates(self, model_id: int, rates: Rates) -> str:
        """Offer the model metered: new jobs may name pricing id 1 with these rates (jobs
        already created keep theirs)."""
        self._owned_model(model_id)
        pricing = metered_pricing(self.chain, self.market.jobs)
        if pricing is None:
            raise ActionRefused(
                "this market offers no metered pricing (pricing id 1 is not registered and "
                "enabled): its governance registers TokenMeteredPricing first"
            )
        fn = pricing.functions.setRates(
            model_id, rates.base, rates.per_input_token, rates.per_output_token
        )
        with explained_reverts():
            return _tx(self.sender.transact(fn))

    def _owned_model(self, model_id: int) -> RegisteredModel:
        terms = self.model(model_id)
        if terms.provider != self.sender.address:
            raise NotOwner(
                f"not the owner: model {model_id} belongs to {terms.provider}, "
                f"not {self.sender.address}"
            )
        return terms

    # -- jobs ------------------------------------------------------------------------

    def submit(
        self,
        model_id: int,
        data: bytes,
        *,
        max_price: int | None = None,
        work_time: int = 600,
        ttl: int = 3_600,
        verification: int = 0,
    ) -> Submitted:
        """Check the input against the model's limits and the verification mode, pin it,
        pay (ETH) or approve (ERC-20), create the job."""
        terms = self.model(model_id)
        if not terms.active:
            raise InactiveModel(f"model {model_id} is inactive: its provider takes no jobs for it")
        sender = self.sender
        mode = self.check_verification(model_id, verification)
        # The mode's verification fee is escrowed with the price and counts against maxPrice.
        with explained_reverts():  # a module may refuse the job (reexec: a small pool)
            fee = verify_fee(
                self.chain,
                self.market.jobs,
                mode,
                requester=sender.address,
                model_id=model_id,
                token=terms.token,
                price=terms.price,
            )
        cost = terms.price + fee
        max_price = cost if max_price is None else max_price
        if cost > max_price:
            quoted = f"{terms.price} + verification fee {fee}" if fee else f"{terms.price}"
            raise PriceAboveMax(
                f"price above the maximum: model {model_id} costs {quoted}, "
                f"max price is {max_price}"
            )
        self.check_input(terms, data)
        value = self._fund(sender, terms, cost)
        cid = self._ipfs().add_bytes(data)
        request = JobRequest(
            model_id=model_id,
            input_cid=cid.to_bytes(),
            max_price=max_price,
            request_deadline=self.chain.block_timestamp() + ttl,
            work_time=work_time,
            verification=verification,
        )
        with explained_reverts():
            receipt = sender.transact(
                self.market.jobs.functions.createJob(sender.address, request.as_abi()),
                value=value,
            )
        job_id = created_job_id(self.market.jobs, receipt)
        return Submitted(job_id, str(cid), terms.price, terms.token, _tx(receipt))

    def check_verification(self, model_id: int, verification: int) -> Mode:
        """The mode a job asks for, refused (before anything is pinned or paid) when the
        market does not offer it, or when it checks proofs and the model has no circuit."""
        mode = read_mode(self.chain, self.market.jobs, verification)
        if not mode.enabled:
            raise ActionRefused(
                f"verification mode {verification} is not offered by this market; "
                "nothing was submitted"
            )
        if zk_circuit_set(self.chain, mode, model_id) is False:
            raise ActionRefused(
                f"model {model_id} has no ZK circuit in mode {verification}'s ZkVerifier "
                f"{mode.module}, so no result could be proven; publish it with its circuit "
                "(`inferchain model publish`) or choose --verify manual; nothing was submitted"
            )
        return mode

    def check_input(self, terms: RegisteredModel, data: bytes) -> None:
        """Refuse, before anything is paid, an input the model's runtime would refuse.

        The limits are read from the model's bundle on IPFS (``inferchain.bundle.precheck``);
        a bundle that cannot be read is refused too: a job nobody checked is not sent blind.
        """
        model = f"model {terms.model_id}"
        try:
            limits = fetch_model_limits(self._ipfs(), terms.bundle_cid, terms.manifest_sha256)
        except IpfsError as exc:
            raise ActionRefused(
                f"cannot read {model}'s bundle {terms.bundle_cid} from IPFS to check the input "
                f"against its limits ({exc}); nothing was submitted"
            ) from exc
        except BundleError as exc:
            raise ActionRefused(
                f"{model}'s bundle {terms.bundle_cid} is not usable ({exc}), so no worker can "
                "run it; nothing was submitted"
            ) from exc
        try:
            limits.check(data, model=model)
        except InvalidInput as exc:
            refusal = str(exc).removeprefix(f"{exc.reason}: ")
            raise ActionRefused(
                f"{model} would refuse this input: {refusal}; nothing was submitted"
            ) from exc

    def _fund(self, sender: TransactionSender, terms: RegisteredModel, cost: int) -> int:
        """The ETH value to send (`cost`: the escrow); for an ERC-20 job, approve it first."""
        if terms.token == ETH:
            balance = self.chain.balance(sender.address)
            if balance <= cost:
                raise InsufficientFunds(
                    f"insufficient funds: {sender.address} holds {balance} wei; the job costs "
                    f"{cost} wei plus gas"
                )
            return cost
        token = self._erc20(terms.token)
        balance = self.chain.call(token.functions.balanceOf(sender.address))
        if balance < cost:
            raise InsufficientFunds(
                f"insufficient funds: {sender.address} holds {balance} of token "
                f"{terms.token}; the job costs {cost}"
            )
        allowance = self.chain.call(
            token.functions.allowance(sender.address, self.market.jobs.address)
        )
        if allowance < cost:
            with explained_reverts():
                sender.transact(token.functions.approve(self.market.jobs.address, cost))
        return 0

    def _erc20(self, address: str) -> Contract:
        return self.chain.contract("IERC20", address)

    def job(self, job_id: int) -> JobRecord:
        """The job rebuilt from its events (one filtered log query)."""
        next_id = self.chain.call(self.market.jobs.functions.nextJobId())
        if job_id < 1 or job_id >= next_id:
            raise UnknownJob(f"unknown job {job_id}: this market has jobs 1..{next_id - 1}")
        topic = "0x" + job_id.to_bytes(32, "big").hex()
        logs = self.chain.w3.eth.get_logs(
            {
                "address": self.market.jobs.address,
                "fromBlock": self.market.addresses.deployed_block,
                "toBlock": "latest",
                "topics": [None, topic],
            }
        )
        record = fold_events(decode_logs(self.market.jobs, logs)).get(job_id)
        if record is None:
            raise UnknownJob(f"unknown job {job_id}: no JobCreated event found")
        return record

    def status(self, job_id: int) -> dict[str, Any]:
        record = self.job(job_id)
        state = read_job_state(self.chain, self.market.jobs, job_id)
        return {
            "job_id": job_id,
            "status": state.status.name.lower(),
            "outcome": record.outcome.value if record.outcome else None,
            "deadline": state.deadline or None,
            "model_id": record.job.model_id,
            "requester": record.job.requester,
            "worker": None if int(record.job.worker, 16) == 0 else record.job.worker,
            "price": record.job.terms.price,
            "token": record.job.terms.token,
            "input_cid": str(Cid.parse(record.input_cid)),
            "output_cid": str(Cid.parse(record.output_cid)) if record.output_cid else None,
            **self._dispute_status(record),
        }

    def _dispute_status(self, record: JobRecord) -> dict[str, Any]:
        """A disputed job's bond and arbitration deadline and, where a committee judges its
        mode, its round (`dispute_round`: None until opened); nothing for an undisputed job."""
        if record.arbitration_deadline is None:
            return {}
        info: dict[str, Any] = {
            "dispute_bond": record.dispute_bond,
            "arbitration_deadline": record.arbitration_deadline,
        }
        mode = read_mode(self.chain, self.market.jobs, record.job.terms.verification)
        court = court_of(self.chain, self.market.jobs.address, mode.module)
        if court is not None:
            found = read_dispute_round(self.chain, court, record.job_id)
            info["dispute_round"] = found.as_dict() if found else None
        return info

    def dispute_terms(self, model_id: int, verification: int) -> TierQuote | None:
        """What disputing a job of `model_id` in mode `verification` would cost now (bond
        and committee fee), as `tiers` quotes it; None for a mode the market lacks."""
        model = self.model(model_id)
        with explained_reverts():
            quotes = quote_tiers(
                self.chain, self.market.jobs, model_id=model_id, token=model.token,
                price=model.price, requester=self.address or ZERO_ADDRESS,
                modes=(verification,),
            )  # fmt: skip
        return quotes[0] if quotes else None

    def result(self, job_id: int, *, timeout: float = 60.0) -> tuple[str, bytes]:
        """(output CID, output bytes), the bytes checked against the CID on-chain."""
        record = self.job(job_id)
        if record.output_cid is None:
            state = record.outcome.value if record.outcome else record.status.name.lower()
            raise JobStateError(f"job {job_id} has no result ({state})")
        cid = Cid.parse(record.output_cid)
        return str(cid), self._ipfs().cat(cid, timeout=timeout)

    def wait(
        self,
        job_id: int,
        *,
        timeout: float,
        poll_s: float = 0.5,
        on_change: Callable[[JobRecord], None] = lambda _r: None,
    ) -> JobRecord:
        """Follow the job until it has a result or ends without one."""
        deadline = time.monotonic() + timeout
        last: tuple[Any, ...] | None = None
        while True:
            record = self.job(job_id)
            if (record.status, record.outcome) != last:
                last = (record.status, record.outcome)
                on_change(record)
            if record.output_cid is not None:
                return record
            if record.outcome in _NO_RESULT:
                raise JobStateError(f"job {job_id} ended without a result ({record.outcome})")
            if time.monotonic() > deadline:
                raise JobStateError(
                    f"job {job_id} has no result after {timeout:.0f}s; it is "
                    f"{record.status.name.lower()} (check later with `inferchain job status`)"
                )
            time.sleep(poll_s)

    def cancel(self, job_id: int) -> str:
        record = self._own_job(job_id)
        with explained_reverts():
            fn = self.market.jobs.functions.cancel(job_id, record.job.as_abi())
            return _tx(self.sender.transact(fn))

    def dispute(self, job_id: int) -> Disputed:
        """Contest a submitted result: the market's dispute (the bond), then, where the job's
        mode is judged by the committee court, its dispute round (the committee's fee).

        Everything both steps need is checked before the first is sent (the result is still
        contestable, a committee can be seated and end in time, the wallet pays bond, fee and
        gas), so a refusal leaves nothing half-done; a round that still fails to open after a
        taken dispute raises RoundNotOpened, which says how to open it alone."""
        record = self._own_job(job_id)
        sender = self.sender
        state = read_job_state(self.chain, self.market.jobs, job_id)
        if state.status == JobStatus.DISPUTED:
            raise JobStateError(
                f"job {job_id} is already disputed; to open its committee's round, if it is "
                f"not open yet, use `inferchain job dispute {job_id} --round-only`"
            )
        if state.status != JobStatus.SUBMITTED:
            raise JobStateError(
                f"job {job_id} is {state.status.name.lower()}: only a submitted result can be "
                "disputed; nothing was sent"
            )
        now = self.chain.block_timestamp()
        if now >= state.deadline:
            raise JobStateError(
                f"job {job_id}: the challenge window closed at {state.deadline}; nothing was sent"
            )
        terms = record.job.terms
        mode = read_mode(self.chain, self.market.jobs, terms.verification)
        court = court_of(self.chain, self.market.jobs.address, mode.module)
        fee, gas = 0, DISPUTE_GAS
        if court is not None:
            self._check_court(job_id, court, now + mode.arbitration_window, now)
            fee, gas = court.fee, DISPUTE_GAS + OPEN_ROUND_GAS
        self._check_dispute_funds(sender.address, terms.token, terms.dispute_bond, fee, gas)
        value = terms.dispute_bond if terms.token == ETH else 0
        if value == 0 and terms.dispute_bond:
            self._fund_token(terms.token, terms.dispute_bond)
        with explained_reverts():
            fn = self.market.jobs.functions.dispute(job_id, record.job.as_abi())
            tx = _tx(sender.transact(fn, value=value))
        deadline = read_job_state(self.chain, self.market.jobs, job_id).deadline
        disputed = Disputed(job_id, terms.dispute_bond, terms.token, tx, deadline, None)
        if court is None:
            return disputed
        try:
            opened = self._open_round(record, court, deadline)
        except (ActionRefused, ChainError) as exc:
            theirs = self._round_opened(court, job_id, deadline)
            if theirs is not None:  # someone else opened it first: what was wanted
                return replace(disputed, round=theirs)
            latest = court.latest_opening(deadline)
            raise RoundNotOpened(
                f"job {job_id} is disputed (bond {terms.dispute_bond}, tx {tx}) but its "
                f"committee's round did not open: {exc}. Open it with `inferchain job dispute "
                f"{job_id} --round-only` by {latest}, or the dispute expires at {deadline} "
                "and the worker is paid (the bond comes back)",
                job_id=job_id,
                bond=terms.dispute_bond,
                tx_hash=tx,
            ) from exc
        return replace(disputed, round=opened)

    def open_dispute_round(self, job_id: int) -> DisputeRoundOpened:
        """Open the committee's round of a disputed job (anyone may; the requester normally
        does it with the dispute), paying the court's fee: its drawn committee re-runs the
        job and its majority decides the dispute. Checked first: the job's disputes are the
        committee's, it is disputed, no round is open, a committee can be seated and end
        before the arbitration deadline, and the wallet pays the fee and gas."""
        record = self.job(job_id)
        sender = self.sender
        mode = read_mode(self.chain, self.market.jobs, record.job.terms.verification)
        court = court_of(self.chain, self.market.jobs.address, mode.module)
        if court is None:
            raise ActionRefused(
                f"job {job_id}'s disputes (mode {record.job.terms.verification}) are not judged "
                f"by a committee but by its module {mode.module}: there is no round to open"
            )
        state = read_job_state(self.chain, self.market.jobs, job_id)
        if state.status != JobStatus.DISPUTED:
            raise JobStateError(
                f"job {job_id} is {state.status.name.lower()}, not disputed: its requester "
                f"disputes it first (`inferchain job dispute {job_id}`, which opens the round "
                "too); nothing was sent"
            )
        current = read_round(self.chain, court.module, job_id)
        if current.stage is not Stage.NONE:
            raise JobStateError(
                f"job {job_id}'s dispute round is already open (since {current.submitted_at}, "
                f"{current.stage.name.lower()}): nothing to do; follow it with "
                f"`inferchain job status {job_id}`"
            )
        self._check_court(job_id, court, state.deadline, self.chain.block_timestamp())
        self._check_dispute_funds(sender.address, ETH, 0, court.fee, OPEN_ROUND_GAS)
        return self._open_round(record, court, state.deadline)

    def _open_round(
        self, record: JobRecord, court: Court, arbitration_deadline: int
    ) -> DisputeRoundOpened:
        with explained_reverts():
            fn = court.module.functions.openDispute(record.job_id, record.job.as_abi())
            receipt = self.sender.transact(fn, value=court.fee)
        event = court.module.events.DisputeRoundOpened().process_receipt(receipt, errors=DISCARD)
        opened_at = int(self.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
        p = court.params
        return DisputeRoundOpened(
            job_id=record.job_id,
            fee=int(event[0]["args"]["fee"]) if event else court.fee,
            committee_size=p.committee_size,
            opened_at=opened_at,
            verdict_by=opened_at + p.draw_window + p.commit_window + p.reveal_window,
            arbitration_deadline=arbitration_deadline,
            tx_hash=_tx(receipt),
        )

    def _round_opened(
        self, court: Court, job_id: int, arbitration_deadline: int
    ) -> DisputeRoundOpened | None:
        """The job's dispute round as the chain holds it, when another account opened it."""
        r = read_round(self.chain, court.module, job_id)
        if r.stage is Stage.NONE or not r.dispute:
            return None
        return DisputeRoundOpened(
            job_id=job_id,
            fee=r.fee,
            committee_size=court.params.committee_size,
            opened_at=r.submitted_at,
            verdict_by=r.reveal_deadline(court.params),
            arbitration_deadline=arbitration_deadline,
            tx_hash="",
            by_another=True,
        )

    def _check_court(self, job_id: int, court: Court, arbitration_deadline: int, now: int) -> None:
        """Refuse a round the court would refuse: no committee to seat, or too late to end."""
        if not court.can_seat:
            raise ActionRefused(
                f"no committee can judge a dispute of job {job_id}: the reexec verifier pool "
                f"has {court.pool_size} members, {court.seats_needed} needed (a committee of "
                f"{court.params.committee_size}, the worker and the requester left out); "
                "without one the dispute would expire and the worker be paid; nothing was sent"
            )
        latest = court.latest_opening(arbitration_deadline)
        if now + ROUND_MARGIN_S > latest:
            raise JobStateError(
                f"too late to open job {job_id}'s dispute round: it had to open by {latest} "
                f"(the arbitration deadline {arbitration_deadline} less the round's "
                f"{court.round_s}s), so no committee could decide; the dispute expires and the "
                "result stands, the bond going back; nothing was sent"
            )

    def _check_dispute_funds(self, address: str, token: str, bond: int, fee: int, gas: int) -> None:
        """The wallet pays the bond (in the job's token), the committee's fee (ETH) and gas."""
        eth_needed = fee + gas * int(self.chain.w3.eth.gas_price)
        parts = f"the committee's fee {fee} wei and gas" if fee else "gas"
        if token == ETH:
            eth_needed += bond
            parts = f"the bond {bond} wei, " + parts
        else:
            held = self.chain.call(self._erc20(token).functions.balanceOf(address))
            if held < bond:
                raise InsufficientFunds(
                    f"insufficient funds: {address} holds {held} of token {token}; the dispute "
                    f"bond is {bond}; nothing was sent"
                )
        balance = self.chain.balance(address)
        if balance < eth_needed:
            raise InsufficientFunds(
                f"insufficient funds: {address} holds {balance} wei; disputing needs about "
                f"{eth_needed} ({parts}); nothing was sent"
            )

    def deliver(self, job_id: int) -> dict[str, Any]:
        """Run a paid job's callback (anyone may; it earns the job's callback fee), or after
        the delivery window refund that fee to the requester."""
        record = self.job(job_id)
        if record.status != JobStatus.PAID:
            state = record.outcome.value if record.outcome else record.status.name.lower()
            raise JobStateError(f"job {job_id} has no callback waiting for delivery ({state})")
        with explained_reverts():
            # The estimate finds a limit that forwards the whole stipend: the market reverts
            # below it (JobMarketInsufficientCallbackGas).
            receipt = self.sender.transact(
                self.market.jobs.functions.deliver(job_id, record.job.as_abi())
            )
        delivered = self.market.jobs.events.CallbackDelivered().process_receipt(
            receipt, errors=DISCARD
        )
        return {
            "job_id": job_id,
            "delivered": bool(delivered),
            "success": bool(delivered[0]["args"]["success"]) if delivered else None,
            "fee": record.job.terms.callback_fee,
            "tx": _tx(receipt),
        }

    def _fund_token(self, token_address: str, amount: int) -> None:
        token = self._erc20(token_address)
        with explained_reverts():
            self.sender.transact(token.functions.approve(self.market.jobs.address, amount))

    def _own_job(self, job_id: int) -> JobRecord:
        record = self.job(job_id)
        if record.job.requester != self.sender.address:
            raise NotOwner(
                f"not the owner: job {job_id} was requested by {record.job.requester}, "
                f"not {self.sender.address}"
            )
        return record

    # -- balances --------------------------------------------------------------------

    def balances(self, address: str, token: str = ETH) -> dict[str, int]:
        wallet = (
            self.chain.balance(address)
            if token == ETH
            else self.chain.call(self._erc20(token).functions.balanceOf(address))
        )
        deposited = self.chain.call(self.market.jobs.functions.balanceOf(address, token))
        return {"wallet": int(wallet), "market": int(deposited)}

    def deposit(self, amount: int, token: str = ETH) -> str:
        sender = self.sender
        if token == ETH and self.chain.balance(sender.address) <= amount:
            raise InsufficientFunds(
                f"insufficient funds: {sender.address} holds "
                f"{self.chain.balance(sender.address)} wei; depositing {amount} needs more"
            )
        if token != ETH:
            self._fund_token(token, amount)
        with explained_reverts():
            fn = self.market.jobs.functions.deposit(token, amount)
            return _tx(sender.transact(fn, value=amount if token == ETH else 0))

    # -- session signers (the shared router) -------------------------------------------

    def session(self, owner: str, signer: str, token: str = ETH) -> dict[str, int]:
        """What `signer` may still spend of `token` from `owner`'s deposits, and until when."""
        remaining, expiry = self.chain.call(
            self.market.router.functions.sessionOf(owner, _address(signer), token)
        )
        return {"remaining": int(remaining), "expiry": int(expiry)}

    def grant_signer(self, signer: str, amount: int, token: str = ETH, ttl: int = 86_400) -> str:
        """Let `signer` spend `amount` more of `token` from your deposits, for `ttl` seconds
        from now (the expiry is replaced)."""
        if not 0 < amount < 2**96:
            raise ActionRefused(f"the amount must be positive and below 2**96, not {amount}")
        expiry = self.chain.block_timestamp() + ttl
        fn = self.market.router.functions.increaseSignerCap(_address(signer), token, amount, expiry)
        with explained_reverts():
            return _tx(self.sender.transact(fn))

    def lower_signer(self, signer: str, amount: int, token: str = ETH) -> str:
        """Take `amount` off what `signer` may still spend (stopping at zero): unlike setting
        a new cap, it cannot be front-run into a larger total."""
        fn = self.market.router.functions.decreaseSignerCap(
            _address(signer), token, min(amount, 2**96 - 1)
        )
        with explained_reverts():
            return _tx(self.sender.transact(fn))

    def revoke_signer(self, signer: str, token: str = ETH) -> str:
        fn = self.market.router.functions.revokeSigner(_address(signer), token)
        with explained_reverts():
            return _tx(self.sender.transact(fn))

    def withdraw(
        self, amount: int | None, token: str = ETH, to: str | None = None
    ) -> tuple[int, str]:
        sender = self.sender
        available = self.chain.call(self.market.jobs.functions.balanceOf(sender.address, token))
        amount = available if amount is None else amount
        if amount == 0 or amount > available:
            raise InsufficientFunds(
                f"insufficient funds: {sender.address} has {available} in the market; "
                f"cannot withdraw {amount}"
            )
        recipient = Web3.to_checksum_address(to or sender.address)
        with explained_reverts():
            fn = self.market.jobs.functions.withdraw(token, recipient, amount)
            return amount, _tx(sender.transact(fn))
