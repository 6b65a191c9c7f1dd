"""Test-side helpers for the contracts: deployment, job tuples, signatures, expected reverts.

The market stores one commitment per job, so every transition takes the job tuple. These
helpers keep that tuple as a dict (ABI field name -> value) so tests can tamper with any field,
update it the way the contract does after claim / submit / dispute, and turn it into the ABI
tuple through the shared bindings (`inferchain.market`) for calls.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from inferchain.chain import Chain, ContractReverted, TransactionFailed
from inferchain.ipfs import Cid
from inferchain.market import (
    ETH,
    Job,
    JobRequest,
    MarketConfig,
    ModelSpec,
    Operation,
    Result,
    deploy_market,
    sign_deposit,
    sign_dispute,
    sign_job_request,
)
from inferchain.market.deploy import ETHER
from inferchain.market.jobs import ZERO32
from inferchain.market.signing import DOMAIN_TYPES

ZERO = ETH
RAW_CODEC = 0x55
DAG_PB_CODEC = 0x70

# Defaults of the test deployment (see `deploy`).
#: ETH `worker2` stakes and allocates to the market (`worker`: twice that).
STAKE = 1 * ETHER
#: Tokens each worker stakes and allocates to the market: collateral for 100 token jobs.
TOKEN_STAKE = 10_000 * ETHER
FEE_BPS = 250
COLLATERAL_BPS = 10_000
CHALLENGE_WINDOW = 3_600
ARBITRATION_WINDOW = 86_400
DISPUTE_BOND_BPS = 1_000
TIMELOCK_DELAY = 2 * 86_400
ETH_PRICE = 10**16
ETH_ROYALTY_BPS = 1_000
TOKEN_PRICE = 100 * ETHER
TOKEN_ROYALTY_BPS = 500
WORK_TIME = 600
REQUEST_TTL = 3_600


# --- CIDs ---------------------------------------------------------------------------------


def cid(data: bytes | str, codec: int = RAW_CODEC) -> bytes:
    """CIDv1 bytes with a sha2-256 multihash of `data`."""
    raw = data.encode() if isinstance(data, str) else data
    return Cid.from_digest32(hashlib.sha256(raw).digest(), codec).to_bytes()


def cid_parts(value: bytes) -> tuple[int, bytes]:
    """(codec, digest) of a CID, as the job tuple stores its output."""
    parsed = Cid.parse(value)
    return parsed.codec, parsed.digest32


# --- jobs ---------------------------------------------------------------------------------


def job_tuple(job: dict[str, Any]) -> tuple[Any, ...]:
    """The ABI tuple of a job dict (terms nested)."""
    return Job.from_abi(job).as_abi()


def request_tuple(request: dict[str, Any]) -> tuple[Any, ...]:
    """The ABI tuple of a request dict keyed by the EIP-712 / ABI field names."""
    return JobRequest.from_typed_message(request).as_abi()


def job_from_created(args: Any) -> dict[str, Any]:
    """The job dict a JobCreated event describes: requester, model, input (parsed from the
    input CID) and terms; the rest zero."""
    input_codec, input_digest = cid_parts(bytes(args["inputCid"]))
    return {
        "requester": args["requester"],
        "modelId": args["modelId"],
        "inputCodec": input_codec,
        "inputDigest": input_digest,
        "terms": dict(args["terms"]),
        "worker": ZERO,
        "outputCodec": 0,
        "outputDigest": ZERO32,
        "outputHash": ZERO32,
        "usage": ZERO32,
    }


def result_tuple(output: bytes, output_hash: bytes = b"\x11" * 32, usage: bytes = ZERO32) -> tuple:
    """The ABI tuple of an IJobMarket.Result (no proof)."""
    return Result(output, output_hash, usage).as_abi()


def event(contract: Contract, receipt: TxReceipt, name: str) -> Any:
    """The args of the only `name` event `contract` emitted in `receipt`."""
    logs = getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
    assert len(logs) == 1, f"expected one {name}, got {len(logs)}"
    return logs[0]["args"]


def events(contract: Contract, receipt: TxReceipt, name: str) -> list[Any]:
    return [
        log["args"]
        for log in getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
    ]


# --- reverts ------------------------------------------------------------------------------


@dataclass
class Revert:
    error: ContractReverted | None = None

    @property
    def args(self) -> dict[str, Any]:
        """The error's arguments, addresses checksummed like web3 returns them elsewhere."""
        assert self.error is not None
        return {k: _checksum(v) for k, v in self.error.error_args.items()}


def _checksum(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return Web3.to_checksum_address(value)
    return value


@contextmanager
def reverts(error_name: str) -> Iterator[Revert]:
    """Expect the block to revert with custom error `error_name` (decoded from the ABIs)."""
    caught = Revert()
    try:
        yield caught
    except ContractReverted as exc:
        caught.error = exc
    except TransactionFailed as exc:
        assert exc.reason is not None, f"mined revert without a decodable reason: {exc}"
        caught.error = exc.reason
    else:
        raise AssertionError(f"expected revert {error_name}, but the call succeeded")
    assert caught.error.error_name == error_name, f"expected {error_name}, got {caught.error}"


# --- signatures ---------------------------------------------------------------------------


def sign_request(
    d: Deployment,
    key: str,
    request: dict[str, Any],
    *,
    nonce: int,
    expiry: int,
    requester: str | None = None,
    market: str | None = None,
) -> tuple[Any, ...]:
    """A SignedJobRequest tuple for the router: `request` to `market` (by default the
    deployment's) signed (EIP-712) with `key` for `requester`."""
    return sign_job_request(
        key,
        JobRequest.from_typed_message(request),
        market=market or d.market.address,
        nonce=nonce,
        expiry=expiry,
        chain_id=d.chain.chain_id,
        router_address=d.router.address,
        requester=requester,
    ).as_abi()


def sign_dispute_tuple(
    d: Deployment,
    key: str,
    job_id: int,
    job: dict[str, Any],
    *,
    nonce: int,
    expiry: int | None = None,
    market: str | None = None,
) -> tuple[Any, ...]:
    """A SignedDispute tuple for the router: a dispute of `job_id` signed with `key`."""
    return sign_dispute(
        key,
        job_id,
        Job.from_abi(job),
        market=market or d.market.address,
        nonce=nonce,
        expiry=d.now() + 600 if expiry is None else expiry,
        chain_id=d.chain.chain_id,
        router_address=d.router.address,
    ).as_abi()


def sign_deposit_tuple(
    d: Deployment, key: str, token: str, amount: int, *, nonce: int, expiry: int | None = None
) -> tuple[Any, ...]:
    """A SignedDeposit tuple for the router: `amount` of `token` from `key`'s address."""
    return sign_deposit(
        key,
        token,
        amount,
        market=d.market.address,
        nonce=nonce,
        expiry=d.now() + 600 if expiry is None else expiry,
        chain_id=d.chain.chain_id,
        router_address=d.router.address,
    ).as_abi()


def sign_permit(
    token: Contract, chain_id: int, key: str, spender: str, value: int, deadline: int
) -> tuple[int, bytes, bytes]:
    """(v, r, s) of an EIP-2612 permit signed with `key`."""
    owner = Account.from_key(key).address
    typed = {
        "types": {
            "EIP712Domain": DOMAIN_TYPES,
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {
            "name": token.functions.name().call(),
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": token.address,
        },
        "message": {
            "owner": owner,
            "spender": spender,
            "value": value,
            "nonce": token.functions.nonces(owner).call(),
            "deadline": deadline,
        },
    }
    signed = Account.sign_message(encode_typed_data(full_message=typed), key)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


# --- deployment ---------------------------------------------------------------------------


@dataclass
class Actors:
    """Test keys by role. `owner` deploys and proposes to the timelock; `arbiter` owns the
    ManualArbiter (never the proposer); `guardian` may only stop new jobs."""

    owner: str
    guardian: str
    provider: str
    worker: str
    worker2: str
    requester: str
    requester2: str
    relayer: str
    outsider: str
    arbiter: str

    @classmethod
    def from_keys(cls, keys: list[str]) -> Actors:
        return cls(*keys[:10])

    def address(self, role: str) -> str:
        return Account.from_key(getattr(self, role)).address


@dataclass
class Deployment:
    """Everything a contracts test needs; `tx` sends from a role's key."""

    chain: Chain
    actors: Actors
    models: Contract
    workers: Contract
    market: Contract
    arbiter: Contract
    router: Contract
    governor: Contract
    timelock: Contract
    token: Contract
    eth_model: int
    token_model: int
    addresses: dict[str, str] = field(default_factory=dict)
    #: The first block of the deployment (where event scans start).
    deployed_block: int = 0
    _salt: int = 0

    @property
    def fees(self) -> str:
        """The account protocol fees are credited to: the governor's."""
        return self.governor.address

    def schedule(self, call: Any, *, delay: int = TIMELOCK_DELAY) -> Operation:
        """The proposer (`owner`) schedules `call` (a governor call) through the timelock."""
        self._salt += 1
        operation = Operation.of(call, salt=self._salt.to_bytes(32, "big"))
        self.tx("owner", operation.schedule(self.timelock, delay))
        return operation

    def govern(self, call: Any) -> TxReceipt:
        """Make a governor call the way production does: schedule it through the timelock,
        wait out the delay, and execute it (as anyone). Returns the execution's receipt."""
        operation = self.schedule(call)
        self.chain.increase_time(TIMELOCK_DELAY)
        return self.tx("outsider", operation.execute(self.timelock))

    def another_market(self, workers: str | None = None) -> Contract:
        """A second JobMarket on the same governor, router and model registry (and worker
        registry, unless `workers`), with the same config, mode 0 and token."""
        return self.chain.sender(self.actors.owner).deploy(
            "JobMarket",
            self.governor.address,
            self.router.address,
            self.models.address,
            workers or self.workers.address,
            tuple(self.market.functions.config().call()),
            [(0, self.arbiter.address)],
            [self.token.address],
        )

    def addr(self, role: str) -> str:
        if role not in self.addresses:
            self.addresses[role] = self.actors.address(role)
        return self.addresses[role]

    def tx(self, role: str, call: Any, *, value: int = 0, block: str = "latest") -> TxReceipt:
        sender = self.chain.sender(getattr(self.actors, role))
        return sender.transact(call, value=value, block=block)

    def tx_at(self, timestamp: int, role: str, call: Any, *, value: int = 0) -> TxReceipt:
        """Send `call` in a block stamped `timestamp`, simulated in that (pending) block:
        simulating at the latest block would see an earlier time than deadline edges need."""
        self.at(timestamp)
        return self.tx(role, call, value=value, block="pending")

    def now(self) -> int:
        return self.chain.block_timestamp()

    def at(self, timestamp: int) -> None:
        """Make the next block carry `timestamp`."""
        self.chain.set_next_block_timestamp(timestamp)

    def request(self, model: int | None = None, **overrides: Any) -> dict[str, Any]:
        base = {
            "modelId": self.eth_model if model is None else model,
            "inputCid": cid(f"input {self.now()} {overrides}"),
            "maxPrice": ETH_PRICE if model in (None, self.eth_model) else TOKEN_PRICE,
            "requestDeadline": self.now() + REQUEST_TTL,
            "workTime": WORK_TIME,
            "verification": 0,
            "pricing": 0,
            "pricingData": ZERO32,
            "callback": ZERO,
            "callbackGas": 0,
            "callbackFee": 0,
        }
        base.update(overrides)
        return base

    # -- lifecycle shortcuts returning the updated job dict ----------------------------

    def create(
        self,
        role: str = "requester",
        *,
        value: int | None = None,
        requester: str | None = None,
        **overrides: Any,
    ) -> tuple[int, dict[str, Any]]:
        """`role` pays for a job whose requester is `requester` (a role or address;
        by default `role` itself)."""
        request = self.request(**overrides)
        if value is None:
            escrow = request["maxPrice"] + request["callbackFee"]
            value = escrow if request["modelId"] == self.eth_model else 0
        for_ = requester or role
        for_ = for_ if for_.startswith("0x") else self.addr(for_)
        receipt = self.tx(
            role, self.market.functions.createJob(for_, request_tuple(request)), value=value
        )
        created = event(self.market, receipt, "JobCreated")
        return created["jobId"], job_from_created(created)

    def claim(
        self,
        job_id: int,
        job: dict[str, Any],
        role: str = "worker",
        *,
        market: Contract | None = None,
    ) -> dict[str, Any]:
        self.tx(role, (market or self.market).functions.claim(job_id, job_tuple(job)))
        return {**job, "worker": self.addr(role)}

    def submit(
        self,
        job_id: int,
        job: dict[str, Any],
        role: str = "worker",
        output: bytes | None = None,
        output_hash: bytes = b"\x11" * 32,
        *,
        market: Contract | None = None,
    ) -> dict[str, Any]:
        """Submit as `role`: on its claimed job, or on an Open job (claim and submit at once)."""
        output = output or cid(f"output {job_id}")
        call = (market or self.market).functions.submitResult(
            job_id, job_tuple(job), result_tuple(output, output_hash)
        )
        self.tx(role, call)
        codec, digest = cid_parts(output)
        return {
            **job,
            "worker": self.addr(role),
            "outputCodec": codec,
            "outputDigest": digest,
            "outputHash": output_hash,
        }

    def dispute(
        self,
        job_id: int,
        job: dict[str, Any],
        role: str = "requester",
        *,
        market: Contract | None = None,
    ) -> dict[str, Any]:
        market = market or self.market
        bond = job["terms"]["disputeBond"]
        value = bond if job["terms"]["token"] == ETH else 0
        if job["terms"]["token"] != ETH:
            allowance = self.token.functions.allowance(self.addr(role), market.address).call()
            if allowance < bond:
                self.tx(role, self.token.functions.approve(market.address, allowance + bond))
        receipt = self.tx(role, market.functions.dispute(job_id, job_tuple(job)), value=value)
        assert event(market, receipt, "JobDisputed")["bond"] == bond
        return job

    def finalize(
        self,
        job_id: int,
        job: dict[str, Any],
        role: str = "outsider",
        *,
        market: Contract | None = None,
    ) -> TxReceipt:
        return self.tx(role, (market or self.market).functions.finalize(job_id, job_tuple(job)))

    def deliver(self, job_id: int, job: dict[str, Any], role: str = "outsider") -> TxReceipt:
        return self.tx(role, self.market.functions.deliver(job_id, job_tuple(job)))

    def status(self, job_id: int, market: Contract | None = None) -> tuple[int, int]:
        status, deadline = (market or self.market).functions.jobStatus(job_id).call()
        return status, deadline

    def balance(self, role_or_address: str, token: str = ETH) -> int:
        account = (
            self.addr(role_or_address) if not role_or_address.startswith("0x") else role_or_address
        )
        return self.market.functions.balanceOf(account, token).call()

    def register_worker(
        self,
        role: str = "worker",
        stake: int = STAKE,
        models: list[int] | None = None,
        *,
        token_stake: int = TOKEN_STAKE,
        venue: str | None = None,
    ) -> None:
        """Register `role` serving `models`, then stake and allocate `stake` ETH and
        `token_stake` tokens to `venue` (the market by default); zero skips that token."""
        models = [self.eth_model, self.token_model] if models is None else models
        self.tx(role, self.workers.functions.register(cid(f"meta {role}"), models))
        self.stake_and_allocate(role, ETH, stake, venue=venue)
        self.stake_and_allocate(role, self.token.address, token_stake, venue=venue)

    def stake_and_allocate(
        self, role: str, token: str, amount: int, *, venue: str | None = None
    ) -> None:
        """`role` stakes `amount` of `token` and allocates it to `venue` (the market by
        default), approving the registry first for an ERC-20; zero does nothing."""
        if amount == 0:
            return
        venue = venue or self.market.address
        if token != ETH:
            self.tx(role, self.token.functions.approve(self.workers.address, amount))
        call = self.workers.functions.stakeAndAllocate(venue, token, amount)
        self.tx(role, call, value=amount if token == ETH else 0)

    def stake_of(self, role: str, token: str = ETH) -> tuple[int, int]:
        """(stake, allocated) of `role` in `token`."""
        staked, allocated = self.workers.functions.stakeOf(self.addr(role), token).call()
        return staked, allocated

    def allocation(self, role: str, token: str = ETH, venue: str | None = None) -> int:
        venue = venue or self.market.address
        return self.workers.functions.allocationOf(self.addr(role), token, venue).call()

    def locked(self, role: str, token: str = ETH, market: Contract | None = None) -> int:
        return (market or self.market).functions.lockedOf(self.addr(role), token).call()

    def exposure(
        self, role: str, token: str = ETH, market: Contract | None = None
    ) -> dict[str, int]:
        """IJobMarket.Exposure of `role` in `token`, by field name."""
        values = (market or self.market).functions.exposureOf(self.addr(role), token).call()
        names = ("locked", "paid", "failed", "timedOut", "disputesLost", "disputesWon")
        return dict(zip(names, values, strict=True))


# Job statuses as the contract numbers them.
NONE, OPEN, CLAIMED, SUBMITTED, DISPUTED, PAID, SETTLED = range(7)
# IVerifier.Verdict
PENDING, WORKER_WINS, WORKER_LOSES = range(3)


def deploy(
    chain: Chain,
    keys: list[str],
    *,
    workers: bool = True,
    bundle: tuple[Cid, bytes] | None = None,
) -> Deployment:
    """Deploy a permit token, then registries, router, timelock, governor, arbiter and market
    (the token allowed from the start); register two models (ETH and token priced) and, with
    `workers`, two workers serving both, each with stake allocated to the market: `worker`
    2 ETH, `worker2` 1 ETH, both TOKEN_STAKE tokens. `bundle` (CID, manifest sha-256) is the
    models' bundle, for tests that read it; by default a CID nobody serves."""
    actors = Actors.from_keys(keys)
    owner = chain.sender(actors.owner)
    token = owner.deploy("MockERC20Permit", "Mock Dollar", "MUSD")
    config = MarketConfig(
        fee_bps=FEE_BPS,
        collateral_bps=COLLATERAL_BPS,
        dispute_bond_bps=DISPUTE_BOND_BPS,
        timelock_delay=TIMELOCK_DELAY,
        proposer=actors.address("owner"),
        guardian=actors.address("guardian"),
        disputes="manual",  # these tests rule disputes with the arbiter's key
        arbiter_owner=actors.address("arbiter"),
        challenge_window=CHALLENGE_WINDOW,
        arbitration_window=ARBITRATION_WINDOW,
        allowed_tokens=(token.address,),
    )
    m = deploy_market(chain, actors.owner, config)
    deployment = Deployment(
        chain,
        actors,
        m.models,
        m.workers,
        m.jobs,
        m.arbiter,
        m.router,
        m.governor,
        m.timelock,
        token,
        0,
        0,
        deployed_block=m.addresses.deployed_block,
    )
    deployment.eth_model = _register_model(deployment, ETH, ETH_PRICE, ETH_ROYALTY_BPS, bundle)
    deployment.token_model = _register_model(
        deployment, token.address, TOKEN_PRICE, TOKEN_ROYALTY_BPS, bundle
    )
    for role in ("requester", "requester2", "worker", "worker2"):
        deployment.tx("owner", token.functions.mint(deployment.addr(role), 10**6 * ETHER))
    if workers:
        deployment.register_worker("worker", stake=2 * STAKE)
        deployment.register_worker("worker2", stake=STAKE)
    return deployment


def model_spec(
    token: str,
    price: int,
    royalty_bps: int,
    task: bytes = b"text-generation",
    bundle: tuple[Cid, bytes] | None = None,
) -> tuple:
    cid_, manifest = bundle or (Cid.parse(cid(b"bundle", DAG_PB_CODEC)), b"\x42" * 32)
    return ModelSpec(cid_, manifest, task.decode(), price, royalty_bps, token).as_abi()


def _register_model(
    d: Deployment, token: str, price: int, royalty_bps: int, bundle: tuple[Cid, bytes] | None
) -> int:
    spec = model_spec(token, price, royalty_bps, bundle=bundle)
    receipt = d.tx("provider", d.models.functions.registerModel(spec))
    return event(d.models, receipt, "ModelRegistered")["modelId"]
