"""The market's job values as Python types, in the exact ABI order of IJobMarket.

The contract stores one commitment per job, so every transition takes the whole `Job`
tuple. These frozen dataclasses mirror it and apply the same updates the contract applies
(claim sets the worker; submit the worker, the output fields and the usage; a dispute
changes nothing in the tuple), so any party can rebuild the tuple from events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from eth_abi import encode as abi_encode
from web3 import Web3
from web3.contract import Contract

from inferchain.chain import Chain
from inferchain.ipfs import Cid

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
#: The `token` of ETH-priced models and jobs.
ETH = ZERO_ADDRESS
ZERO32 = b"\0" * 32
#: IJobMarket.Job as one ABI type (JobTerms nested), for abi.encode.
JOB_ABI_TYPE = (
    "(address,uint32,uint16,bytes32,"
    "(address,uint96,address,uint16,uint16,uint8,uint8,uint32,uint32,uint96,uint96,uint96,"
    "address,uint32,uint96,bytes32),"
    "address,uint16,bytes32,bytes32,bytes32)"
)


class JobStatus(IntEnum):
    """IJobMarket.JobStatus; `SETTLED` is what a freed slot reads as.

    `PAID`: a callback job is paid and waits for `deliver` (within one day of payment).
    """

    NONE = 0
    OPEN = 1
    CLAIMED = 2
    SUBMITTED = 3
    DISPUTED = 4
    PAID = 5
    SETTLED = 6


@dataclass(frozen=True)
class JobState:
    """What `jobStatus` answers: the stored status and that status's deadline (request,
    claim, challenge, arbitration or delivery deadline; 0 when it has none)."""

    status: JobStatus
    deadline: int


def read_job_state(
    chain: Chain, jobs: Contract, job_id: int, *, block: int | str = "latest"
) -> JobState:
    """Job `job_id`'s state in the market `jobs` (one eth_call) at `block`."""
    status, deadline = chain.call(jobs.functions.jobStatus(job_id), block=block)
    return JobState(JobStatus(status), int(deadline))


@dataclass(frozen=True)
class JobTerms:
    """Terms snapshot into a job at creation (IJobMarket.JobTerms).

    `price` is the flat price, or for a metered job (`pricing` nonzero) the most it may charge
    (`pricing_terms` from its pricing module). The escrow is `escrow` (price, the verification
    mode's `verify_fee` and the `deliver` bounty `callback_fee`). `collateral` stays zero until
    contracts v2 slice 6.
    """

    token: str
    price: int
    provider: str
    royalty_bps: int
    fee_bps: int
    verification: int
    work_time: int
    challenge_window: int
    callback: str
    callback_gas: int
    dispute_bond: int = 0
    pricing: int = 0
    collateral: int = 0
    verify_fee: int = 0
    callback_fee: int = 0
    pricing_terms: bytes = ZERO32

    @property
    def escrow(self) -> int:
        """What the job holds until it settles: price + verification fee + callback fee."""
        return self.price + self.verify_fee + self.callback_fee

    @property
    def has_callback(self) -> bool:
        """Whether payment leaves the job `Paid`, waiting for `deliver`."""
        return int(self.callback, 16) != 0

    def as_abi(self) -> tuple[Any, ...]:
        return (
            self.token,
            self.price,
            self.provider,
            self.royalty_bps,
            self.fee_bps,
            self.verification,
            self.pricing,
            self.work_time,
            self.challenge_window,
            self.collateral,
            self.dispute_bond,
            self.verify_fee,
            self.callback,
            self.callback_gas,
            self.callback_fee,
            self.pricing_terms,
        )

    @classmethod
    def from_abi(cls, terms: Mapping[str, Any]) -> JobTerms:
        return cls(
            token=terms["token"],
            price=terms["price"],
            provider=terms["provider"],
            royalty_bps=terms["royaltyBps"],
            fee_bps=terms["feeBps"],
            verification=terms["verification"],
            work_time=terms["workTime"],
            challenge_window=terms["challengeWindow"],
            callback=terms["callback"],
            callback_gas=terms["callbackGas"],
            dispute_bond=terms["disputeBond"],
            pricing=terms["pricing"],
            collateral=terms["collateral"],
            verify_fee=terms["verifyFee"],
            callback_fee=terms["callbackFee"],
            pricing_terms=bytes(terms["pricingTerms"]),
        )


@dataclass(frozen=True)
class Job:
    """The tuple every transition takes (IJobMarket.Job)."""

    requester: str
    model_id: int
    terms: JobTerms
    worker: str = ZERO_ADDRESS
    output_codec: int = 0
    output_digest: bytes = ZERO32
    output_hash: bytes = ZERO32
    usage: bytes = ZERO32
    #: The input the job commits to (parsed from the CID in `JobCreated`).
    input_codec: int = 0
    input_digest: bytes = ZERO32

    @classmethod
    def new(
        cls, requester: str, model_id: int, input_cid: bytes | str | Cid, terms: JobTerms
    ) -> Job:
        """The tuple of a job just created: its input parsed from `input_cid`."""
        cid = Cid.parse(input_cid)
        return cls(
            requester=requester,
            model_id=model_id,
            terms=terms,
            input_codec=cid.codec,
            input_digest=cid.digest,
        )

    def as_abi(self) -> tuple[Any, ...]:
        return (
            self.requester,
            self.model_id,
            self.input_codec,
            self.input_digest,
            self.terms.as_abi(),
            self.worker,
            self.output_codec,
            self.output_digest,
            self.output_hash,
            self.usage,
        )

    @classmethod
    def from_abi(cls, job: Mapping[str, Any]) -> Job:
        """A job from its ABI field names (a decoded struct or a dict keyed the same way)."""
        return cls(
            requester=job["requester"],
            model_id=job["modelId"],
            terms=JobTerms.from_abi(job["terms"]),
            worker=job["worker"],
            output_codec=job["outputCodec"],
            output_digest=job["outputDigest"],
            output_hash=job["outputHash"],
            usage=bytes(job["usage"]),
            input_codec=job["inputCodec"],
            input_digest=bytes(job["inputDigest"]),
        )

    def claimed_by(self, worker: str) -> Job:
        return replace(self, worker=worker)

    def with_output(
        self,
        output_cid: bytes | str | Cid,
        output_hash: bytes,
        usage: bytes = ZERO32,
        worker: str | None = None,
    ) -> Job:
        """The tuple after `submitResult`; `worker` is set when it claimed an Open job."""
        cid = Cid.parse(output_cid)
        return replace(
            self,
            worker=self.worker if worker is None else worker,
            output_codec=cid.codec,
            output_digest=cid.digest,
            output_hash=output_hash,
            usage=usage,
        )

    @property
    def bond(self) -> int:
        """The dispute bond, fixed at creation."""
        return self.terms.dispute_bond

    def abi_hash(self) -> bytes:
        """keccak256(abi.encode(job)): how a signed `Dispute` names the job it contests."""
        return bytes(Web3.keccak(abi_encode([JOB_ABI_TYPE], [self.as_abi()])))


@dataclass(frozen=True)
class JobRequest:
    """What a requester asks for (IJobMarket.JobRequest); `input_cid` as CID bytes.

    A parsed `Cid` is accepted for `input_cid` and stored as its bytes, the form the ABI
    and the signature take.
    """

    model_id: int
    input_cid: bytes
    max_price: int
    request_deadline: int
    work_time: int
    verification: int = 0
    callback: str = ZERO_ADDRESS
    callback_gas: int = 0
    pricing: int = 0
    pricing_data: bytes = ZERO32
    callback_fee: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.input_cid, Cid):
            object.__setattr__(self, "input_cid", self.input_cid.to_bytes())

    def as_abi(self) -> tuple[Any, ...]:
        return (
            self.model_id,
            self.input_cid,
            self.max_price,
            self.request_deadline,
            self.work_time,
            self.verification,
            self.pricing,
            self.pricing_data,
            self.callback,
            self.callback_gas,
            self.callback_fee,
        )

    def typed_message(self) -> dict[str, Any]:
        """The request's fields under their EIP-712 names."""
        return {
            "modelId": self.model_id,
            "inputCid": self.input_cid,
            "maxPrice": self.max_price,
            "requestDeadline": self.request_deadline,
            "workTime": self.work_time,
            "verification": self.verification,
            "pricing": self.pricing,
            "pricingData": self.pricing_data,
            "callback": self.callback,
            "callbackGas": self.callback_gas,
            "callbackFee": self.callback_fee,
        }

    @classmethod
    def from_typed_message(cls, message: Mapping[str, Any]) -> JobRequest:
        """The request in an EIP-712 message (the inverse of `typed_message`)."""
        return cls(
            model_id=message["modelId"],
            input_cid=message["inputCid"],
            max_price=message["maxPrice"],
            request_deadline=message["requestDeadline"],
            work_time=message["workTime"],
            verification=message["verification"],
            callback=message["callback"],
            callback_gas=message["callbackGas"],
            pricing=message.get("pricing", 0),
            pricing_data=bytes(message.get("pricingData", ZERO32)),
            callback_fee=message.get("callbackFee", 0),
        )


@dataclass(frozen=True)
class Result:
    """What a worker submits (IJobMarket.Result); `output_cid` as CID bytes."""

    output_cid: bytes
    output_hash: bytes
    usage: bytes = ZERO32
    proof: bytes = b""

    def __post_init__(self) -> None:
        if isinstance(self.output_cid, Cid):
            object.__setattr__(self, "output_cid", self.output_cid.to_bytes())

    def as_abi(self) -> tuple[Any, ...]:
        return (self.output_cid, self.output_hash, self.usage, self.proof)
