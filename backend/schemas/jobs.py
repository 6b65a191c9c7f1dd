"""Job schemas: submission, relay, public views and timeline."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator
from pydantic.json_schema import SkipJsonSchema

from inferchain.gateway.schemas.common import Address, Wei
from inferchain.market import JobOutcome, JobRecord
from inferchain.market import JobStatus as ChainStatus

JobStatus = Literal[
    "open",
    "claimed",
    "submitted",
    "disputed",
    "finalized",
    "cancelled",
    "expired",
    "failed",
    "timed_out",
    "refunded",
    "dispute_expired",
    "settled",
]
#: The gateway's word for each chain status. A `Paid` job (its callback not delivered yet) is
#: finalized for everyone but its deliverer; `none` never belongs to an indexed job.
STATUS_WORDS: dict[ChainStatus, str] = {
    ChainStatus.NONE: "none",
    ChainStatus.OPEN: "open",
    ChainStatus.CLAIMED: "claimed",
    ChainStatus.SUBMITTED: "submitted",
    ChainStatus.DISPUTED: "disputed",
    ChainStatus.PAID: "finalized",
    ChainStatus.SETTLED: "settled",
}
#: The word for how a settled job ended (a worker's dispute win is `finalized` too).
OUTCOME_WORDS: dict[JobOutcome, JobStatus] = {
    JobOutcome.CANCELLED: "cancelled",
    JobOutcome.EXPIRED: "expired",
    JobOutcome.FAILED: "failed",
    JobOutcome.TIMED_OUT: "timed_out",
    JobOutcome.PAID: "finalized",
    JobOutcome.REFUNDED: "refunded",
    JobOutcome.DISPUTE_EXPIRED: "dispute_expired",
}
#: The words of jobs that never change again.
TERMINAL: frozenset[str] = frozenset({*OUTCOME_WORDS.values(), "settled"})


def status_word(record: JobRecord) -> str:
    """The gateway's word for a job rebuilt from its events: how it ended, else its status."""
    return OUTCOME_WORDS[record.outcome] if record.outcome else STATUS_WORDS[record.status]


class JobEventPublic(BaseModel):
    event: str
    block_number: int
    block_time: int
    tx_hash: str
    log_index: int
    args: dict[str, Any]


class JobPublic(BaseModel):
    job_id: int
    status: JobStatus
    status_deadline: int | None = Field(description="unix seconds the current status ends")
    requester: str
    model_id: int
    token: str
    price: Wei
    collateral: Wei = Field(description="what the worker's claim locks from its allocation")
    worker: str | None
    input_cid: str
    output_cid: str | None
    evidence_cid: str | None
    request_deadline: int
    work_time: int
    created_block: int
    created_time: int
    created_tx: str
    updated_block: int


class JobDetail(JobPublic):
    timeline: list[JobEventPublic]


class JobPage(BaseModel):
    items: list[JobPublic]
    next_cursor: int | None = Field(description="pass as ?before= for the next page")


class InputUploaded(BaseModel):
    cid: str
    size: int


class JobCreate(BaseModel):
    """A job to prepare: its input inline (``input``) or uploaded first (``input_cid``)."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["input"]}, {"required": ["input_cid"]}]}
    )

    model_id: int = Field(ge=1, lt=2**32)
    input: JsonValue = Field(None, description="JSON input, pinned to IPFS for you")
    input_cid: Annotated[str, Field(max_length=128)] | SkipJsonSchema[None] = Field(
        None, description="CID from POST /inputs"
    )
    mode: Literal["transaction", "signed"] = Field(
        "transaction",
        description="transaction: you send createJob; signed: sign EIP-712, the gateway relays",
    )
    max_price: Wei | None = Field(None, description="defaults to the model's current price")
    request_ttl_s: int | None = Field(None, ge=60, le=30 * 86400)
    work_time_s: int | None = Field(None, ge=1, le=7 * 86400)
    verification: int = Field(0, ge=0, lt=8)

    @model_validator(mode="after")
    def _one_input(self) -> JobCreate:
        given = {"input", "input_cid"} & self.model_fields_set
        if len(given) != 1:
            raise ValueError("give exactly one of input and input_cid")
        if given == {"input_cid"} and self.input_cid is None:
            raise ValueError("input_cid must be a CID string")
        return self


class UnsignedTransaction(BaseModel):
    to: str
    data: str
    value: Wei
    chain_id: int
    description: str


class JobPrepared(BaseModel):
    mode: Literal["transaction", "signed"]
    model_id: int
    input_cid: str
    token: str
    max_price: Wei
    request_deadline: int
    transactions: list[UnsignedTransaction] = Field(
        default_factory=list, description="send in order from your wallet (mode=transaction)"
    )
    typed_data: dict[str, Any] | None = Field(
        None, description="EIP-712 JobRequest to sign, then POST to /jobs/relay (mode=signed)"
    )


class RelayRequest(BaseModel):
    typed_data: dict[str, Any] = Field(description="the typed_data of JobPrepared, unchanged")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class RelayResponse(BaseModel):
    job_id: int
    tx_hash: str
    requester: Address
