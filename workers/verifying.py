"""The verifier duty (`inferchain worker run --verify`): a member of the `reexec` tier's pool
(ReexecVerifier, `inferchain verifier join`) re-runs the jobs whose committee it is drawn onto
and votes, in a thread of its own so that a re-execution never stalls the worker's jobs.

Each tick reads the module's new events and moves every round it knows one step on:

- draw a recorded submission's committee once its seed block is mined (anyone may; losing
  the race to another drawer is harmless);
- on a seat of its own: fetch the job's input and the submitted output from IPFS, re-run the
  input through the worker's runner (the same bundle and runtime as a job), compare with
  `outputs_agree` (tolerant where outputs are floats), and commit;
- reveal once every member committed or the commit deadline passed;
- once the committee decided, finalize the job on the market (anyone may), then settle the
  round, which pays the committee.

The same pool is the court of the optimistic tier (`CommitteeArbiter`, mode 0): a disputed
job's dispute round (`DisputeRoundOpened`) goes through the same steps, except that the
committee's majority resolves the market's dispute (`resolveDispute`), and a round without
one waits for the dispute to expire (`expireDispute`, the worker paid) before it is settled.

A vote's salt is derived from the key and the job id, so a worker restarted between commit
and reveal still reveals (a silent member is slashed). A seat whose output cannot be fetched
by the commit deadline gets a `disagree`: a result nobody can read is no result.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from eth_account import Account
from web3 import Web3
from web3.contract import Contract

from inferchain.bundle import BundleError, InvalidInput
from inferchain.chain import Chain, ChainError, TransactionSender
from inferchain.ipfs import Cid, IpfsClient, IpfsError
from inferchain.market import JobStatus, Market
from inferchain.market.court import Verdict
from inferchain.market.history import JobRecord
from inferchain.market.reexec import (
    PoolParams,
    Round,
    Stage,
    read_member,
    read_params,
    read_round,
)
from inferchain.wallet.client import MarketClient
from inferchain.wallet.reverts import explained_reverts
from inferchain.worker.errors import TransientFailure, WorkerNotReady
from inferchain.worker.runner import ModelRunner
from inferchain.worker.runtimes import Output, infer
from inferchain.worker.runtimes.verify import outputs_agree

log = logging.getLogger(__name__)

#: Seconds before the commit deadline at which an unreadable output gets a `disagree`.
COMMIT_MARGIN_S = 30


def ensure_member(chain: Chain, module: Contract, sender: TransactionSender,
                  bond: int | None = None) -> int:  # fmt: skip
    """Join ReexecVerifier's pool when `sender` is not a member, posting `bond` (default: the
    pool's minimum), so that `--verify` alone makes a worker a verifier; a member is left
    alone (`inferchain verifier join` adds to a bond). Returns the bond posted (0: none)."""
    member = read_member(chain, module, sender.address)
    params = read_params(chain, module)
    if member.member:
        log.info("verifier pool: already a member",
                 extra={"bond": member.bond, "leave_at": member.leave_at})  # fmt: skip
        if member.bond < params.min_bond or member.leave_at:
            log.warning("verifier pool: this member is not drawn (bond below the minimum or "
                        "leaving); `inferchain verifier join` adds to the bond")  # fmt: skip
        return 0
    value = params.min_bond if bond is None else bond
    if value < params.min_bond:
        raise WorkerNotReady(
            f"--verify-bond is {value} wei, below the verifier pool's minimum bond "
            f"{params.min_bond} wei"
        )
    balance = chain.balance(sender.address)
    if balance <= value:
        raise WorkerNotReady(
            f"--verify: {sender.address} is not in the verifier pool and cannot pay its bond: "
            f"it holds {balance} wei, the bond is {value} wei plus gas; fund it, or lower "
            f"--verify-bond (the pool's minimum is {params.min_bond} wei)"
        )
    with explained_reverts():
        receipt = sender.transact(module.functions.join(), value=value)
    log.info("joined the verifier pool", extra={
        "address": sender.address, "bond": value, "tx": receipt["transactionHash"].to_0x_hex(),
    })  # fmt: skip
    return value


@dataclass
class _Seat:
    """This worker's seat on one committee."""

    agrees: bool | None = None
    committed: bool = False
    revealed: bool = False


class VerifierDuty:
    """Rounds of one ReexecVerifier, as seen by the pool member `sender`."""

    def __init__(
        self,
        market: Market,
        sender: TransactionSender,
        key: str,
        runner: ModelRunner,
        ipfs: IpfsClient,
        *,
        poll_s: float = 1.0,
        max_bytes: int = 16 * 2**20,
        chunk_blocks: int = 5_000,
        mine_seed: bool = False,
    ) -> None:
        if market.reexec is None:
            raise ValueError("this market has no reexec mode: nothing to verify")
        self.market, self.module = market, market.reexec
        self.chain = market.chain
        self.sender, self._key = sender, key
        self.address = Account.from_key(key).address
        self.runner, self.ipfs = runner, ipfs
        self.poll_s, self.max_bytes, self._chunk = poll_s, max_bytes, chunk_blocks
        #: On an automining dev chain nothing else may mine the seed block: mine it here.
        self._mine_seed = mine_seed
        self._jobs = MarketClient(market)
        self._params: PoolParams = read_params(self.chain, self.module)
        self._from_block = market.addresses.deployed_block
        self._rounds: set[int] = set()  # recorded, not settled
        #: Dispute rounds that ended without a majority: nothing to do before the market's
        #: arbitration deadline (up to days), so they are not read again until then.
        self._idle_until: dict[int, int] = {}
        self._seats: dict[int, _Seat] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="worker-verify", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a bad tick must not end the duty; the next one retries
                log.exception("verifier tick failed")
            self._stop.wait(self.poll_s)

    # -- one tick --------------------------------------------------------------------------

    def tick(self) -> None:
        """Read new events, then move each open round one step on."""
        self._read_events()
        now = self.chain.block_timestamp()
        for job_id in sorted(self._rounds):
            if now <= self._idle_until.get(job_id, -1):
                continue
            try:
                self._step(job_id, now)
            except Exception:  # one poisoned round (hostile output, a runtime crash) must
                # not stall every round after it: the others still vote in time
                log.exception("verifier round step failed", extra={"job_id": job_id})

    def _step(self, job_id: int, now: int) -> None:
        round_ = read_round(self.chain, self.module, job_id)
        if round_.stage is Stage.SUBMITTED:
            if now <= round_.submitted_at + self._params.draw_window:
                self._draw(job_id, round_.submit_block)
            else:  # never drawn: settled once due, which refunds the fee
                self._settle(job_id, round_, now)
        elif round_.stage is Stage.DRAWN:
            seat = self._seats.get(job_id)
            if seat is not None:
                self._vote(job_id, seat, round_, now)
            self._settle(job_id, round_, now)
        else:
            self._rounds.discard(job_id)
            self._seats.pop(job_id, None)
            self._idle_until.pop(job_id, None)

    def _read_events(self) -> None:
        head = min(self.chain.w3.eth.block_number, self._from_block + self._chunk - 1)
        if head < self._from_block:
            return
        events = self.module.events
        span = {"from_block": self._from_block, "to_block": head}
        for e in events.SubmissionRecorded().get_logs(**span):
            self._rounds.add(int(e["args"]["jobId"]))
        for e in events.DisputeRoundOpened().get_logs(**span):
            self._rounds.add(int(e["args"]["jobId"]))
        for e in events.CommitteeDrawn().get_logs(**span):
            job_id = int(e["args"]["jobId"])
            self._rounds.add(job_id)
            if self.address in e["args"]["committee"] and job_id not in self._seats:
                self._seats[job_id] = self._restore(job_id)
        self._from_block = head + 1

    def _restore(self, job_id: int) -> _Seat:
        """A seat as the chain holds it: a worker restarted after committing finds its vote
        again (the salt is derived, so each side's commitment can be recomputed)."""
        f = self.module.functions
        vote = bytes(self.chain.call(f.voteOf(job_id, self.address)))
        slot = int.from_bytes(vote, "big")
        if slot in (1, 2):  # revealed: agreed, disagreed
            return _Seat(agrees=slot == 1, committed=True, revealed=True)
        salt = self._salt(job_id)
        for agrees in (True, False) if slot else ():
            if bytes(self.chain.call(f.voteHash(job_id, self.address, agrees, salt))) == vote:
                return _Seat(agrees=agrees, committed=True)
        return _Seat()

    def _draw(self, job_id: int, submit_block: int) -> None:
        if self.chain.w3.eth.block_number <= submit_block + 1:
            if self._mine_seed:
                try:
                    self.chain.mine()
                except ChainError:  # not an Anvil: wait for the chain's own blocks
                    self._mine_seed = False
            return  # the seed block is not mined yet
        self._try(job_id, "draw", self.module.functions.draw(job_id))

    def _vote(self, job_id: int, seat: _Seat, round_: Round, now: int) -> None:
        commit_deadline = round_.commit_deadline(self._params)
        if not seat.committed:
            if now > commit_deadline:
                return  # too late: the member is silent (and slashed) on this one
            if seat.agrees is None:
                seat.agrees = self._judge(job_id, late=now >= commit_deadline - COMMIT_MARGIN_S)
            if seat.agrees is None:
                return  # retried next tick
            f = self.module.functions
            salt = self._salt(job_id)
            commitment = self.chain.call(f.voteHash(job_id, self.address, seat.agrees, salt))
            seat.committed = self._try(job_id, "commit", f.commit(job_id, commitment))
            return
        if not seat.revealed and (round_.commits >= self._params.committee_size
                                  or now > commit_deadline):  # fmt: skip
            call = self.module.functions.reveal(job_id, seat.agrees, self._salt(job_id))
            seat.revealed = self._try(job_id, "reveal", call)

    def _judge(self, job_id: int, *, late: bool) -> bool | None:
        """Whether the submitted output is what this worker computes; None: ask again later."""
        record = self._jobs.job(job_id)
        try:
            submitted = self._fetch(record.output_cid)
            data = self._fetch(record.input_cid)
            result = self._rerun(record, data)
        except (IpfsError, TransientFailure, BundleError) as exc:
            if not late:
                log.warning("re-execution deferred", extra={"job_id": job_id, "error": str(exc)})
                return None
            log.warning("output unverifiable by the deadline", extra={"job_id": job_id})
            return False
        agrees = result is not None and outputs_agree(result, submitted)
        log.info("re-executed", extra={"job_id": job_id, "agrees": agrees})
        return agrees

    def _fetch(self, cid: bytes | None) -> bytes:
        if cid is None:
            raise IpfsError("the job names no such CID")
        return self.ipfs.cat(Cid.parse(cid), max_size=self.max_bytes)

    def _rerun(self, record: JobRecord, data: bytes) -> bytes | None:
        """The output document this worker computes, or None for an input it refuses (then
        no output can be right)."""
        runtime = self.runner.runtime(record.job.model_id)
        (result,) = infer(runtime, [data])
        if isinstance(result, InvalidInput):
            return None
        assert isinstance(result, Output)
        return result.to_bytes()

    def _settle(self, job_id: int, round_: Round, now: int) -> None:
        """Finalize the market's job once the committee decided, then settle the round."""
        if not round_.all_revealed(self._params) and now <= round_.reveal_deadline(self._params):
            return
        status, deadline = self.chain.call(self.market.jobs.functions.jobStatus(job_id))
        if round_.dispute and JobStatus(status) == JobStatus.DISPUTED:
            if not self._end_dispute(job_id, now, deadline):
                return
        elif JobStatus(status) == JobStatus.SUBMITTED:
            record = self._jobs.job(job_id)
            verdict = self.chain.call(self.module.functions.verdict(job_id, record.job.as_abi()))
            if Verdict(int(verdict)) is Verdict.PENDING:
                return  # the worker's own settlement pays it at the window's end
            finalize = self.market.jobs.functions.finalize(job_id, record.job.as_abi())
            if not self._try(job_id, "finalize", finalize):
                return
        if self._try(job_id, "settle", self.module.functions.settle(job_id)):
            self._rounds.discard(job_id)
            self._seats.pop(job_id, None)
            self._idle_until.pop(job_id, None)

    def _end_dispute(self, job_id: int, now: int, deadline: int) -> bool:
        """Resolve the market's dispute by the committee's majority; without one, expire it
        once its arbitration deadline passed (the result stands). False: not yet."""
        verdict = Verdict(int(self.chain.call(self.module.functions.disputeVerdict(job_id))))
        if verdict is Verdict.PENDING and now <= deadline:
            self._idle_until[job_id] = deadline  # no majority: it expires at its deadline
            return False
        job = self._jobs.job(job_id).job.as_abi()  # a log scan: only when sending
        jobs = self.market.jobs.functions
        if verdict is not Verdict.PENDING:
            return self._try(job_id, "resolve dispute", jobs.resolveDispute(job_id, job))
        return self._try(job_id, "expire dispute", jobs.expireDispute(job_id, job))

    def _try(self, job_id: int, what: str, call: object) -> bool:
        """Send `call`; a revert (another member was first, a deadline moved) is logged."""
        try:
            self.sender.transact(call)
        except ChainError as exc:
            log.info("%s refused", what, extra={"job_id": job_id, "error": str(exc)})
            return False
        log.info("%s sent", what, extra={"job_id": job_id})
        return True

    def _salt(self, job_id: int) -> bytes:
        """Secret until revealed (derived from the key), and the same after a restart."""
        return Web3.keccak(Web3.to_bytes(hexstr=self._key) + job_id.to_bytes(32, "big"))
