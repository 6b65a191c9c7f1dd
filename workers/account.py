"""The worker's standing on-chain: readiness at start, registration, stake and allocation.

WorkerRegistry v2 holds a stake per token (ETH is token ``address(0)``), of which a worker
allocates part to each venue (market). A claim in this market locks the job's collateral
from the allocation to it, so what the worker may still take on is its *free allocation*:
``allocationOf(worker, token, market) - lockedOf(worker, token)``. There is no minimum stake
and no exit state: stake that is not allocated is unstaked at will, allocation that is not
locked is deallocated at will. ERC-20 stakes need an allowance to the registry first (this
does not set one up). Earnings sit in the market as pull balances.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from inferchain.chain import Chain, TransactionSender
from inferchain.ipfs import Cid
from inferchain.market import ETH, Market
from inferchain.market.stakes import (
    Exposure,
    free_allocation,
    read_allocation,
    read_exposure,
    read_stake,
)
from inferchain.worker.errors import WorkerNotReady
from inferchain.worker.runtimes import canonical_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenStanding:
    """One token's stake, the part allocated anywhere, the allocation to this market and the
    market's exposure of the worker in it (collateral locked by claimed jobs, record)."""

    token: str
    stake: int
    allocated: int
    allocation: int
    exposure: Exposure

    @property
    def locked(self) -> int:
        return self.exposure.locked

    @property
    def free_allocation(self) -> int:
        """Collateral that new claims in this market may still lock."""
        return max(0, self.allocation - self.locked)

    @property
    def free_stake(self) -> int:
        """Stake allocated to no venue: what `unstake` or `allocate` may take."""
        return max(0, self.stake - self.allocated)

    def to_dict(self) -> dict[str, object]:
        return {
            "stake_wei": self.stake,
            "allocated_wei": self.allocated,
            "allocation_wei": self.allocation,
            "locked_wei": self.locked,
            "free_allocation_wei": self.free_allocation,
            "record": {
                "paid": self.exposure.paid,
                "failed": self.exposure.failed,
                "timed_out": self.exposure.timed_out,
                "disputes_lost": self.exposure.disputes_lost,
                "disputes_won": self.exposure.disputes_won,
            },
        }


@dataclass(frozen=True)
class AccountStatus:
    address: str
    gas_balance: int
    registered: bool
    models: list[int]
    tokens: dict[str, TokenStanding]
    earnings: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "address": self.address,
            "gas_balance_wei": self.gas_balance,
            "registered": self.registered,
            "models": self.models,
            "tokens": {t: s.to_dict() for t, s in self.tokens.items()},
            "withdrawable": self.earnings,
        }


def token_standing(chain: Chain, market: Market, address: str, token: str) -> TokenStanding:
    """``token``'s stake, allocations and exposure for ``address`` (three eth_calls)."""
    stake = read_stake(chain, market.workers, address, token)
    return TokenStanding(
        token=token,
        stake=stake.stake,
        allocated=stake.allocated,
        allocation=read_allocation(chain, market.workers, address, token, market.jobs.address),
        exposure=read_exposure(chain, market.jobs, address, token),
    )


def is_registered(chain: Chain, market: Market, address: str) -> bool:
    return bool(chain.call(market.workers.functions.worker(address))[0])


def account_status(
    chain: Chain, market: Market, address: str, tokens: Iterable[str] = (ETH,)
) -> AccountStatus:
    """Everything ``inferchain worker show`` prints, for ``tokens`` (ETH always included)."""
    reg, jobs = market.workers.functions, market.jobs.functions
    registered = is_registered(chain, market, address)
    count = int(chain.call(market.models.functions.modelCount()))
    served = [m for m in range(1, count + 1) if registered and chain.call(reg.serves(address, m))]
    wanted = list(dict.fromkeys([ETH, *tokens]))
    return AccountStatus(
        address=address,
        gas_balance=chain.balance(address),
        registered=registered,
        models=served,
        tokens={t: token_standing(chain, market, address, t) for t in wanted},
        earnings={t: int(chain.call(jobs.balanceOf(address, t))) for t in wanted},
    )


def no_allocation(address: str, tokens: Iterable[str]) -> str:
    """What to tell an operator whose worker has nothing allocated to this market."""
    return (
        f"{address} has no allocation to this market in {sorted(tokens)}: every claim needs "
        "collateral; run `inferchain worker allocate --amount WEI` (after `stake`), or restart "
        "with --stake/--allocation"
    )


class Standing:
    """The worker's free allocation to this market, re-read on demand; only changes of the
    refusal are logged.

    ``reason`` is set while nothing at all is allocated to this market in the tokens it
    watches (then every claim would fail); a fully *locked* allocation is no refusal, it
    frees up as held jobs end, and ``free()`` says how much each claim tick may lock.
    """

    def __init__(
        self, chain: Chain, market: Market, address: str, tokens: Iterable[str] = (ETH,)
    ) -> None:
        self._chain, self._market, self._address = chain, market, address
        self.tokens = tuple(dict.fromkeys([ETH, *tokens]))
        #: Why claims would be refused (None: they may be accepted).
        self.reason: str | None = None

    def free(self, tokens: Iterable[str]) -> dict[str, int]:
        """Free allocation per token of ``tokens`` (two eth_calls each)."""
        m = self._market
        return {
            t: free_allocation(self._chain, m.workers, m.jobs, self._address, t)
            for t in dict.fromkeys(tokens)
        }

    def check(self, refused: str | None = None) -> None:
        """Re-read; ``refused`` is a claim revert's text, kept if the allocation says nothing."""
        m = self._market
        allocated = any(
            read_allocation(self._chain, m.workers, self._address, t, m.jobs.address)
            for t in self.tokens
        )
        reason = (None if allocated else no_allocation(self._address, self.tokens)) or refused
        if reason == self.reason:
            return
        if reason is not None:
            log.warning("cannot claim: %s", reason, extra={"reason": reason})
        else:
            log.info("claiming again: this worker has an allocation to the market")
        self.reason = reason


# --- transactions (the CLI's `inferchain worker stake|allocate|deallocate|unstake`) -------


def _positive(amount: int, what: str) -> None:
    if amount <= 0:
        raise WorkerNotReady(f"{what} must be a positive amount of wei, not {amount}")


def stake_token(sender: TransactionSender, market: Market, token: str, amount: int) -> None:
    """Add ``amount`` of ``token`` to the stake (ETH is sent along; ERC-20 needs an allowance)."""
    _positive(amount, "stake")
    value = amount if token == ETH else 0
    sender.transact(market.workers.functions.stake(token, amount), value=value)
    log.info("staked", extra={"token": token, "amount": amount})


def allocate_token(
    sender: TransactionSender, market: Market, token: str, amount: int, *, free_stake: int
) -> None:
    """Allocate ``amount`` of ``token`` to this market: from free stake first, the rest staked
    in the same transaction (``stakeAndAllocate``)."""
    _positive(amount, "allocation")
    reg, venue = market.workers.functions, market.addresses.job_market
    from_stake = min(amount, free_stake)
    if from_stake:
        sender.transact(reg.allocate(venue, token, from_stake))
    extra = amount - from_stake
    if extra:
        value = extra if token == ETH else 0
        sender.transact(reg.stakeAndAllocate(venue, token, extra), value=value)
    log.info("allocated", extra={"token": token, "amount": amount, "staked": extra})


def deallocate_token(sender: TransactionSender, market: Market, token: str, amount: int) -> None:
    """Take ``amount`` of ``token`` back from this market (it must not be locked)."""
    _positive(amount, "deallocation")
    venue = market.addresses.job_market
    sender.transact(market.workers.functions.deallocate(venue, token, amount))
    log.info("deallocated", extra={"token": token, "amount": amount})


def unstake_token(
    sender: TransactionSender, market: Market, token: str, amount: int, to: str | None = None
) -> None:
    """Send ``amount`` of unallocated ``token`` stake to ``to`` (default: the worker)."""
    _positive(amount, "unstake")
    sender.transact(market.workers.functions.unstake(token, amount, to or sender.address))
    log.info("unstaked", extra={"token": token, "amount": amount})


def metadata_document(address: str, models: list[int], stream_url: str | None) -> bytes:
    """The worker's registry metadata (canonical JSON; the registry keeps its sha256).

    ``stream`` says where readers find a job's token stream (docs/worker.md, *Streams*):
    ``url`` with ``{job_id}`` to fill in, server-sent events, read authorisation
    ``inferchain-stream-v1`` (``inferchain.market.stream_auth``).
    """
    document: dict[str, object] = {"worker": address, "models": models}
    if stream_url is not None:
        document["stream"] = {"url": stream_url, "format": "sse", "auth": "inferchain-stream-v1"}
    return canonical_json(document)


def ensure_ready(
    chain: Chain,
    market: Market,
    sender: TransactionSender,
    models: list[int],
    *,
    register: bool = False,
    stake: Mapping[str, int] | None = None,
    allocation: Mapping[str, int] | None = None,
    metadata: bytes | None = None,
) -> AccountStatus:
    """Check gas and registration; register, stake, allocate and declare models when asked.

    ``stake`` and ``allocation`` are targets per token, not increments: what is missing is
    staked (``stake``), then allocated to this market (``allocate`` from free stake, the rest
    with ``stakeAndAllocate``). A token staked but not given an allocation gets its free
    stake allocated to this market, up to the stake target: the usual case of a worker
    serving one market. Nothing is ever taken back here: lowering a target is `inferchain
    worker deallocate`/`unstake`.

    ``metadata`` (default: a document without a stream) is registered with the worker, or
    replaces the registered one (``updateMetadata``) when its digest differs. The caller
    pins it: the registry holds only its CID's digest.
    """
    stake, allocation = dict(stake or {}), dict(allocation or {})
    explicit = set(allocation)
    for token in stake:
        allocation.setdefault(token, stake[token])
    tokens = list(dict.fromkeys([*stake, *allocation]))
    status = account_status(chain, market, sender.address, tokens)
    if status.gas_balance == 0:
        raise WorkerNotReady(f"{sender.address} has no ETH for gas")
    reg = market.workers.functions
    document = metadata or metadata_document(sender.address, models, None)
    cid = Cid.for_raw_block(document)
    if not status.registered:
        if not register:
            raise WorkerNotReady(f"{sender.address} is not registered: run with --register")
        sender.transact(reg.register(cid.to_bytes(), models))
        log.info("registered", extra={"models": models})
    elif metadata is not None and bytes(chain.call(reg.metadataDigest(sender.address))) != (
        hashlib.sha256(document).digest()
    ):
        sender.transact(reg.updateMetadata(cid.to_bytes()))
        log.info("metadata updated", extra={"metadata_cid": str(cid)})
    for token in tokens:
        have = status.tokens[token]
        missing_stake = stake.get(token, 0) - have.stake
        if missing_stake > 0:
            stake_token(sender, market, token, missing_stake)
        free_stake = have.free_stake + max(0, missing_stake)
        missing_allocation = allocation.get(token, 0) - have.allocation
        if token not in explicit:  # the default never stakes more than the stake target
            missing_allocation = min(missing_allocation, free_stake)
        if missing_allocation > 0:
            allocate_token(sender, market, token, missing_allocation, free_stake=free_stake)
    status = account_status(chain, market, sender.address, tokens)
    missing = [m for m in models if m not in status.models]
    if missing:
        sender.transact(reg.addModels(missing))
        log.info("models declared", extra={"models": missing})
        status = account_status(chain, market, sender.address, tokens)
    return status
