"""Session signer schemas: what a wallet asks to grant or take back, and what it gets back."""

from __future__ import annotations

from pydantic import BaseModel, Field

from inferchain.gateway.schemas.common import Address, Wei
from inferchain.gateway.schemas.jobs import UnsignedTransaction

ETH = "0x0000000000000000000000000000000000000000"
#: The router's bound (JobRouter.MAX_SESSION_TTL).
MAX_SESSION_TTL_S = 90 * 86_400


class SignerCreate(BaseModel):
    token: Address = Field(ETH, description="the token the signer may spend (zero address: ETH)")
    cap: Wei = Field(
        description="what the signer may spend on top of what it has left, in the token's "
        "smallest unit"
    )
    ttl_s: int = Field(
        30 * 86_400, ge=60, le=MAX_SESSION_TTL_S, description="seconds until the signer expires"
    )


class SignerDecrease(BaseModel):
    token: Address = Field(ETH, description="the token whose allowance is lowered")
    amount: Wei = Field(description="taken off what the signer has left (stopping at zero)")


class SignerRevoke(BaseModel):
    token: Address = Field(ETH, description="the token whose authorisation is withdrawn")


class SignerPrepared(BaseModel):
    signer: Address = Field(description="the gateway's session signer for this wallet")
    token: Address
    cap: Wei
    expiry: int
    transaction: UnsignedTransaction = Field(description="send it from your wallet")


class SignerStatus(BaseModel):
    signer: Address
    token: Address
    remaining: Wei = Field(description="what the signer may still spend (zero: none)")
    expiry: int = Field(description="unix time; zero when not authorised or revoked")
    active: bool
