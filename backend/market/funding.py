"""Who pays for a job the gateway creates on a wallet's behalf (the OpenAI-compatible API).

The gateway holds no wallet key, and an OpenAI client holds only a bearer token. So the
wallet authorises, once, a session signer the gateway derives for it (see
``session_keys``): a delegated key capped to an amount of one token and an expiry, which
the wallet revokes at any time. ``SessionSignerFunder`` signs each ``JobRequest`` with that
key and relays it through the router's ``createJobFor`` (several at once through
``createJobsFor``, which skips a request a third party made ineligible meanwhile and reports
it with ``RequestSkipped``); the router takes the price from the signer's cap, the market
from the wallet's deposit. ``JobFunder`` stays the seam for other schemes.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from web3.logs import DISCARD

from inferchain.chain import ContractReverted, decode_revert
from inferchain.gateway.errors import GatewayError, Unavailable
from inferchain.gateway.market.requests import JobRequest
from inferchain.gateway.market.signers import gateway_signer, read_session
from inferchain.market import created_job_id, created_job_ids, sign_job_request

if TYPE_CHECKING:
    from pydantic import SecretStr

    from inferchain.gateway.container import Services
    from inferchain.gateway.market.contracts import MarketContracts

#: Seconds a session-signed request stays relayable; the gateway relays it at once.
REQUEST_EXPIRY_S = 300


class JobFunder(Protocol):
    def create_job(self, wallet: str, request: JobRequest) -> int:
        """Create ``request`` on-chain paid by ``wallet``; the new job id."""
        ...


class SessionSignerFunder:
    """Signs with the wallet's session signer, relays with the gateway's relayer key."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def check_funds(self, wallet: str, model_id: int, total: int) -> None:
        """402 unless the session signer may spend ``total`` on model ``model_id`` now and
        the deposit holds it: checked once before the jobs of an ``n``-choice request, so
        that a short cap or deposit creates none of them rather than some."""
        c = self.services.contracts()
        signer = gateway_signer(self.services, c, wallet).address
        token = self._session_check(c, wallet, signer, model_id, total)[1]
        deposit = int(c.chain.call(c.market.functions.balanceOf(wallet, token)))
        if deposit < total:
            raise GatewayError(
                "openai.deposit_insufficient",
                f"this request costs {total} and the wallet's deposit holds {deposit}; "
                "deposit more into the market (deposit(token, amount))",
                status=402,
            )

    def create_job(self, wallet: str, request: JobRequest) -> int:
        relayer = self._relayer()
        c = self.services.contracts()
        signer = gateway_signer(self.services, c, wallet)
        now, _token = self._session_check(
            c, wallet, signer.address, request.model_id, request.max_price
        )
        signed = self._sign(c, signer.key.to_0x_hex(), wallet, request, now)
        receipt = c.chain.sender(relayer).transact(c.router.functions.createJobFor(signed))
        return created_job_id(c.market, receipt)

    def create_jobs(
        self, wallet: str, requests: Sequence[JobRequest]
    ) -> list[int | ContractReverted]:
        """Relay ``requests`` (one model, checked by ``check_funds``) in one ``createJobsFor``:
        per request, in order, its job id, or why the router skipped it (the error its
        ``RequestSkipped`` reason names; the request created nothing and spent nothing)."""
        relayer = self._relayer()
        c = self.services.contracts()
        signer = gateway_signer(self.services, c, wallet)
        now = c.chain.block_timestamp()
        key = signer.key.to_0x_hex()
        signed = [self._sign(c, key, wallet, request, now) for request in requests]
        receipt = c.chain.sender(relayer).transact(c.router.functions.createJobsFor(signed))
        skipped = {
            int(e["args"]["nonce"]): decode_revert(bytes(e["args"]["reason"]))
            for e in c.router.events.RequestSkipped().process_receipt(receipt, errors=DISCARD)
        }
        created = iter(created_job_ids(c.market, receipt))
        return [skipped[s[3]] if s[3] in skipped else next(created) for s in signed]

    def _relayer(self) -> SecretStr:
        relayer = self.services.settings.relayer_key
        if relayer is None:
            raise Unavailable("relay.disabled", "this gateway has no relayer to send jobs")
        return relayer

    @staticmethod
    def _sign(
        c: MarketContracts, key: str, wallet: str, request: JobRequest, now: int
    ) -> tuple[Any, ...]:
        """``request`` for ``wallet`` signed by its session key, as the router's tuple."""
        return sign_job_request(
            key,
            request,
            market=c.market.address,
            nonce=secrets.randbits(128),
            expiry=now + REQUEST_EXPIRY_S,
            chain_id=c.chain.chain_id,
            router_address=c.router.address,
            requester=wallet,
        ).as_abi()

    @staticmethod
    def _session_check(
        c: MarketContracts, wallet: str, signer: str, model_id: int, amount: int
    ) -> tuple[int, str]:
        """402 unless ``signer`` may spend ``amount`` of the model's token now; (chain time,
        token)."""
        _provider, token, _price, _royalty = c.chain.call(c.models.functions.terms(model_id))
        session = read_session(c, wallet, signer, token)
        now = c.chain.block_timestamp()
        _check(session.authorized, "openai.signer_not_authorized", "is not authorised")
        _check(session.active_at(now), "openai.signer_expired", "has expired")
        _check(session.remaining >= amount, "openai.signer_cap_exhausted", "is spent")
        return int(now), token


def _check(ok: bool, code: str, what: str) -> None:
    """402: the wallet must (re)authorise its session signer before the gateway can pay."""
    if not ok:
        message = f"this wallet's session signer {what}; authorise it with POST /v1/signers"
        raise GatewayError(code, message, status=402)
