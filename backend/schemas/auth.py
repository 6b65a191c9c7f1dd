"""Sign-in schemas."""

from __future__ import annotations

from pydantic import BaseModel, Field

from inferchain.gateway.schemas.common import Address


class NonceRequest(BaseModel):
    address: Address = Field(description="the wallet signing in; only it can use the nonce")
    statement: str | None = Field(None, max_length=200, pattern=r"^[^\n\r]*$")


class NonceResponse(BaseModel):
    nonce: str
    expires_at: int = Field(description="unix seconds; sign in before then")
    domain: str
    uri: str
    chain_id: int
    version: str = "1"
    address: Address = Field(description="the only address this nonce signs in")
    message: str = Field(description="EIP-4361 text to sign")


class VerifyRequest(BaseModel):
    message: str = Field(max_length=4096)
    signature: str = Field(max_length=200, description="0x-hex personal_sign signature")


class SessionResponse(BaseModel):
    token: str
    token_type: str = "bearer"
    address: str
    expires_at: int


class MeResponse(BaseModel):
    address: str
    expires_at: int
