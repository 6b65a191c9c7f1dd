"""Who may read a job's stream: the requester, or a session signer it authorised, until expiry.

The reader signs ``inferchain.market.stream_auth``'s text for (chain id, market, job id,
expiry). The signature must recover to the job's requester, or to a signer that holds a
live session of the requester in the JobRouter for the job's token (``sessionOf``: set, and
not expired at the latest block). Expiry is checked against the latest block's time and may
lie at most ``MAX_TTL_S`` ahead, so a leaked URL stops working soon.

Every refusal is a ``StreamDenied`` with an HTTP status, a stable code and a message.
"""

from __future__ import annotations

from dataclasses import dataclass

from web3.contract import Contract

from inferchain.chain import Chain, ChainError
from inferchain.market.stream_auth import recover_stream_reader
from inferchain.worker.errors import WorkerError
from inferchain.worker.streams import JobStream

__all__ = ["MAX_TTL_S", "StreamAccess", "StreamDenied"]

#: The furthest ahead (seconds of chain time) a read authorisation may expire.
MAX_TTL_S = 3600


class StreamDenied(WorkerError):
    """A stream request refused: ``status`` (HTTP), ``code`` and a message for the reader."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class StreamAccess:
    """Checks read authorisations against one market's chain (its own connection: the
    stream server's threads must not share the node loop's)."""

    chain: Chain
    market: str
    router: Contract

    def check(self, stream: JobStream, expiry: int, signature: str) -> str:
        """The authorised reader's address; ``StreamDenied`` otherwise. The signature is
        checked first: a malformed one costs no chain call."""
        try:
            reader = recover_stream_reader(
                signature, self.chain.chain_id, self.market, stream.job_id, expiry
            )
        except ValueError as exc:
            raise StreamDenied(401, "auth.bad_signature", str(exc)) from exc
        try:
            now = self.chain.block_timestamp()
        except ChainError as exc:
            raise StreamDenied(503, "chain.unavailable", "the chain node is not answering") from exc
        if expiry < now:
            raise StreamDenied(401, "auth.expired", f"the authorisation expired at {expiry}")
        if expiry > now + MAX_TTL_S:
            raise StreamDenied(
                401, "auth.expiry_too_far", f"expiry may be at most {MAX_TTL_S} s ahead of {now}"
            )
        if reader.lower() == stream.requester.lower():
            return reader
        try:
            _remaining, until = self.chain.call(
                self.router.functions.sessionOf(stream.requester, reader, stream.token)
            )
        except ChainError as exc:
            raise StreamDenied(503, "chain.unavailable", "the chain node is not answering") from exc
        if until == 0:
            raise StreamDenied(
                403,
                "auth.not_authorised",
                f"{reader} is neither job {stream.job_id}'s requester nor a session signer "
                "it authorised in the JobRouter",
            )
        if until < now:
            raise StreamDenied(403, "auth.session_expired", f"{reader}'s session ended at {until}")
        return reader
