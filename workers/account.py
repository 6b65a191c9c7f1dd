"""The worker's standing on-chain: readiness checks at start, registration, status, withdraw.

``standing`` is re-read while running: a slash (``timeout``) or a raised minimum can leave
the stake below what the registry requires, and then every claim would revert.

Stake is in the registry's stake token (ETH on the dev chain; an ERC-20 stake needs an
allowance first, which this does not set up). Earnings sit in the market as pull balances.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from inferchain.chain import Chain, TransactionSender
from inferchain.ipfs import Cid
from inferchain.market import ETH, Market
from inferchain.worker.errors import WorkerNotReady
from inferchain.worker.runtimes import canonical_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountStatus:
    address: str
    gas_balance: int
    registered: bool
    stake: int
    min_stake: int
    exiting: bool
    held_jobs: int
    models: list[int]
    earnings: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "address": self.address,
            "gas_balance_wei": self.gas_balance,
            "registered": self.registered,
            "stake_wei": self.stake,
            "min_stake_wei": self.min_stake,
            "exiting": self.exiting,
            "jobs_held": self.held_jobs,
            "models": self.models,
            "withdrawable": self.earnings,
        }


def account_status(chain: Chain, market: Market, address: str) -> AccountStatus:
    reg, jobs = market.workers.functions, market.jobs.functions
    stake, claims, unbonding_ends, registered, _ = chain.call(reg.worker(address))
    count = int(chain.call(market.models.functions.modelCount()))
    served = [m for m in range(1, count + 1) if registered and chain.call(reg.serves(address, m))]
    return AccountStatus(
        address=address,
        gas_balance=chain.balance(address),
        registered=bool(registered),
        stake=int(stake),
        min_stake=int(chain.call(reg.minStake())),
        exiting=unbonding_ends != 0,
        held_jobs=int(claims) - int(chain.call(jobs.settledJobs(address))),
        models=served,
        earnings={ETH: int(chain.call(jobs.balanceOf(address, ETH)))},
    )


def stake_shortfall(stake: int, min_stake: int) -> str:
    """What to tell an operator whose stake is below the minimum."""
    return (
        f"stake below minimum: have {stake} wei, need {min_stake} wei; top up with "
        f"`inferchain worker top-up` (adds the missing {min_stake - stake} wei)"
    )


def standing(chain: Chain, market: Market, address: str) -> str | None:
    """Why the registry would refuse this worker's claims now; None when it would accept."""
    reg = market.workers.functions
    stake, _, unbonding_ends, registered, _ = chain.call(reg.worker(address))
    if not registered:
        return f"{address} is not registered: restart with --register --stake WEI"
    if unbonding_ends != 0:
        return f"{address} is exiting (unbonding) and cannot claim"
    min_stake = int(chain.call(reg.minStake()))
    if stake < min_stake:
        return stake_shortfall(int(stake), min_stake)
    return None


class Standing:
    """The registry's view of this worker, re-read on demand; only changes are logged."""

    def __init__(self, chain: Chain, market: Market, address: str) -> None:
        self._chain, self._market, self._address = chain, market, address
        #: Why claims would be refused (None: they are accepted).
        self.reason: str | None = None

    def check(self, refused: str | None = None) -> None:
        """Re-read; ``refused`` is a claim revert's text, kept if the registry says nothing."""
        reason = standing(self._chain, self._market, self._address) or refused
        if reason == self.reason:
            return
        if reason is not None:
            log.warning("cannot claim: %s", reason, extra={"reason": reason})
        else:
            log.info("claiming again: the registry accepts this worker")
        self.reason = reason


def top_up(chain: Chain, market: Market, sender: TransactionSender, amount: int | None) -> int:
    """Add ``amount`` wei of stake (default: what is missing to the minimum); returns it."""
    status = account_status(chain, market, sender.address)
    if not status.registered:
        raise WorkerNotReady(f"{sender.address} is not registered: run with --register --stake")
    if amount is None:
        amount = status.min_stake - status.stake
    if amount <= 0:
        raise WorkerNotReady(
            f"stake {status.stake} wei already meets the minimum {status.min_stake}: "
            "pass --amount to add more"
        )
    sender.transact(market.workers.functions.addStake(amount), value=amount)
    log.info("stake topped up", extra={"added": amount, "stake": status.stake + amount})
    return amount


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
    stake: int | None = None,
    metadata: bytes | None = None,
) -> AccountStatus:
    """Check gas, registration and stake; register, top up and declare models when asked.

    ``metadata`` (default: a document without a stream) is registered with the worker, or
    replaces the registered one (``updateMetadata``) when its digest differs. The caller
    pins it: the registry holds only its CID's digest.
    """
    status = account_status(chain, market, sender.address)
    if status.gas_balance == 0:
        raise WorkerNotReady(f"{sender.address} has no ETH for gas")
    reg = market.workers.functions
    document = metadata or metadata_document(sender.address, models, None)
    cid = Cid.for_raw_block(document)
    if not status.registered:
        if not register:
            raise WorkerNotReady(f"{sender.address} is not registered: run with --register --stake")
        amount = stake if stake is not None else status.min_stake
        if amount < status.min_stake:
            raise WorkerNotReady(f"stake {amount} is below the minimum {status.min_stake}")
        sender.transact(reg.register(amount, cid.to_bytes(), models), value=amount)
        log.info("registered", extra={"stake": amount, "models": models})
    else:
        if stake is not None and stake > status.stake:
            sender.transact(reg.addStake(stake - status.stake), value=stake - status.stake)
            log.info("stake topped up", extra={"stake": stake})
        if metadata is not None and bytes(chain.call(reg.metadataDigest(sender.address))) != (
            hashlib.sha256(document).digest()
        ):
            sender.transact(reg.updateMetadata(cid.to_bytes()))
            log.info("metadata updated", extra={"metadata_cid": str(cid)})
    status = account_status(chain, market, sender.address)
    if status.exiting:
        raise WorkerNotReady(f"{sender.address} is exiting and cannot claim")
    if status.stake < status.min_stake:
        raise WorkerNotReady(stake_shortfall(status.stake, status.min_stake))
    missing = [m for m in models if m not in status.models]
    if missing:
        sender.transact(reg.addModels(missing))
        log.info("models declared", extra={"models": missing})
        status = account_status(chain, market, sender.address)
    return status
