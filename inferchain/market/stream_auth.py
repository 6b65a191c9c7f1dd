"""Who may read a job's token stream from its worker: the message a reader signs.

A worker streams a job's text as it is generated (``GET /jobs/{jobId}/stream``, see
docs/worker.md). Any client holding the requester's authorisation may read it: an EIP-191
``personal_sign`` signature, by the job's requester or by a session signer the requester
authorised in the JobRouter (``sessionOf``), over this text::

    Inferchain job stream
    chain: 31337
    market: 0x… (the JobMarket, EIP-55)
    job: 42
    expiry: 1700000300

``expiry`` is a unix time, compared with the chain's latest block time. The worker and the
gateway build the text here, once, so a wallet or another client can sign the same bytes.
"""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import Web3

__all__ = ["MAX_SIGNATURE_HEX", "recover_stream_reader", "sign_stream_read", "stream_read_text"]

#: 65-byte signatures as 0x-prefixed hex; anything longer is refused before any maths.
MAX_SIGNATURE_HEX = 2 + 2 * 65


def stream_read_text(chain_id: int, market: str, job_id: int, expiry: int) -> str:
    """The text a reader signs to read job ``job_id``'s stream until ``expiry``."""
    return (
        "Inferchain job stream\n"
        f"chain: {chain_id}\n"
        f"market: {Web3.to_checksum_address(market)}\n"
        f"job: {job_id}\n"
        f"expiry: {expiry}"
    )


def sign_stream_read(key: str, chain_id: int, market: str, job_id: int, expiry: int) -> str:
    """``personal_sign`` of the read text with ``key``, as 0x-prefixed hex."""
    message = encode_defunct(text=stream_read_text(chain_id, market, job_id, expiry))
    return Account.sign_message(message, key).signature.to_0x_hex()


def recover_stream_reader(
    signature: str, chain_id: int, market: str, job_id: int, expiry: int
) -> str:
    """The address that signed the read text; ``ValueError`` for a malformed signature."""
    if len(signature) != MAX_SIGNATURE_HEX or not signature.startswith("0x"):
        raise ValueError("the signature must be 65 bytes as 0x-prefixed hex")
    try:
        raw = bytes.fromhex(signature[2:])
        message = encode_defunct(text=stream_read_text(chain_id, market, job_id, expiry))
        return str(Account.recover_message(message, signature=raw))
    except Exception as exc:  # eth_keys raises several types for a bad v, r or s
        raise ValueError("the signature does not recover to an address") from exc
