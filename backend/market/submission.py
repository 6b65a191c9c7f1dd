"""Preparing a job for a wallet and relaying its signed request; no user key ever here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from inferchain.chain import ContractReverted
from inferchain.gateway.container import Services
from inferchain.gateway.errors import BadRequest, NotFound, Unavailable
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.market.limits import check_model_input
from inferchain.gateway.market.requests import (
    JobRequest,
    create_job_calls,
    signed_request_tuple,
    typed_job_request,
)
from inferchain.gateway.schemas.jobs import (
    JobCreate,
    JobPrepared,
    RelayResponse,
    UnsignedTransaction,
)
from inferchain.gateway.translate import chain_errors, ipfs_errors
from inferchain.ipfs import Cid, InvalidCid
from inferchain.market import created_job_id
from inferchain.market.modes import Mode, read_mode, verify_fee, zk_circuit_set


def pin_input(services: Services, data: bytes) -> Cid:
    _check_size(services, data)
    with ipfs_errors("pinning the input"):
        return services.ipfs.add_bytes(data)


def pin_job_input(
    services: Services,
    c: MarketContracts,
    model_id: int,
    data: bytes,
    names: Mapping[str, str] | None = None,
) -> Cid:
    """Pin an inline job input once it is within the gateway's bounds and the model's
    limits (``market.limits``): nothing is pinned, prepared or paid for a refused input."""
    _check_size(services, data)
    check_model_input(services.model_limits, c, model_id, data, names=names)
    return pin_input(services, data)


def _check_size(services: Services, data: bytes) -> None:
    if not data:
        raise BadRequest("input.empty", "the input is empty")
    if len(data) > services.settings.max_input_bytes:
        raise BadRequest(
            "input.too_large",
            f"input is {len(data)} bytes; the limit is {services.settings.max_input_bytes}",
            status=413,
        )


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the job input a worker reads.

    Request bodies are refused before they get here when they hold a lone surrogate or NaN
    (``JsonBodyGuard``); this is the second line, for any other way in.
    """
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(
            "input.surrogate", "the input holds a lone UTF-16 surrogate, which UTF-8 cannot carry"
        ) from exc
    except ValueError as exc:
        raise BadRequest(
            "input.non_finite", "the input holds NaN, Infinity or an integer too long to write"
        ) from exc


def model_terms(c: MarketContracts, model_id: int) -> tuple[str, int]:
    """(token, price) of an active model, from the registry itself."""
    try:
        with chain_errors("reading the model"):
            _provider, token, price, _royalty = c.chain.call(c.models.functions.terms(model_id))
    except BadRequest as exc:
        cause = exc.__cause__
        if isinstance(cause, ContractReverted) and cause.error_name == "ModelRegistryUnknownModel":
            raise NotFound("model.not_found", f"model {model_id} is not registered") from cause
        if isinstance(cause, ContractReverted) and cause.error_name == "ModelRegistryModelInactive":
            raise BadRequest(
                "model.inactive", f"model {model_id} takes no jobs", status=409
            ) from cause
        raise
    return token, int(price)


def check_verification(c: MarketContracts, mode_id: int) -> Mode:
    """The verification mode a job asks for; refused unless the market offers it (createJob
    would revert)."""
    with chain_errors("reading the verification modes"):
        mode = read_mode(c.chain, c.market, mode_id)  # unregistered: disabled
    if not mode.enabled:
        raise BadRequest(
            "job.verification_disabled",
            f"verification mode {mode_id} is not enabled on this market",
            status=422,
        )
    return mode


def check_circuit(c: MarketContracts, mode: Mode, mode_id: int, model_id: int) -> None:
    """Refuse a job of a proof-checking mode (ZK) for a model its ZkVerifier has no circuit
    for: no result could ever be paid, so nothing is pinned or prepared."""
    with chain_errors("reading the model's circuit"):
        provable = zk_circuit_set(c.chain, mode, model_id)
    if provable is False:
        raise BadRequest(
            "job.no_circuit",
            f"model {model_id} has no ZK circuit, so no result of verification mode "
            f"{mode_id} could be proven; its provider publishes one with the model, or use "
            "verification 0",
            status=422,
        )


def prepare_job(services: Services, wallet: str, body: JobCreate) -> JobPrepared:
    s = services.settings
    c = services.contracts()
    token, price = model_terms(c, body.model_id)
    mode = check_verification(c, body.verification)
    check_circuit(c, mode, body.verification, body.model_id)
    with chain_errors("quoting the verification fee"):
        fee = verify_fee(
            c.chain,
            c.market,
            mode,
            requester=wallet,
            model_id=body.model_id,
            token=token,
            price=price,
        )
    # The mode's verification fee is escrowed with the price and counts against maxPrice.
    cost = price + fee
    max_price = cost if body.max_price is None else body.max_price
    if max_price < cost:
        quoted = f"{price} plus a verification fee of {fee}" if fee else f"{price}"
        raise BadRequest(
            "job.price_above_max", f"the model costs {quoted}, above max_price", status=409
        )
    if max_price >= 2**96:
        raise BadRequest("job.price_too_large", "max_price must fit uint96", status=422)
    if body.input_cid is not None:
        try:
            cid = Cid.parse(body.input_cid).to_v1()
        except InvalidCid as exc:
            raise BadRequest(
                "input.invalid_cid", "input_cid is not a sha2-256 CID", status=422
            ) from exc
    else:
        cid = pin_job_input(services, c, body.model_id, canonical_json(body.input))
    with chain_errors("reading the chain time"):
        now = c.chain.block_timestamp()
    deadline = now + (body.request_ttl_s or s.default_request_ttl_s)
    request = JobRequest(
        body.model_id,
        cid,
        max_price,
        deadline,
        body.work_time_s or s.default_work_time_s,
        body.verification,
    )
    prepared = JobPrepared(
        mode=body.mode,
        model_id=body.model_id,
        input_cid=str(cid),
        token=token,
        max_price=max_price,
        request_deadline=deadline,
    )
    if body.mode == "signed":
        prepared.typed_data = typed_job_request(c, request, wallet, expiry=deadline)
        return prepared
    with chain_errors("preparing the transaction"):
        calls = create_job_calls(c, request, token, cost, wallet)
    prepared.transactions = [
        UnsignedTransaction(to=to, data=data, value=value, chain_id=c.chain.chain_id, description=d)
        for to, data, value, d in calls
    ]
    return prepared


def relay(services: Services, wallet: str, typed: dict[str, Any], signature: str) -> RelayResponse:
    """Submit a wallet-signed request with the relayer key (simulated first)."""
    key = services.settings.relayer_key
    if key is None:
        raise Unavailable("relay.disabled", "this gateway has no relayer; send createJob yourself")
    c = services.contracts()
    signed = signed_request_tuple(c, typed, signature, wallet)
    with chain_errors("relaying the job"):
        receipt = c.chain.sender(key).transact(c.router.functions.createJobFor(signed))
    job_id = created_job_id(c.market, receipt)
    return RelayResponse(
        job_id=job_id, tx_hash=receipt["transactionHash"].to_0x_hex(), requester=wallet
    )
