"""Job submission against real Anvil and IPFS: prepared transactions, EIP-712 relay, inputs."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from inferchain.ipfs import Cid, IpfsClient
from tests.contracts.helpers import (
    DAG_PB_CODEC,
    ETH,
    ETH_PRICE,
    TOKEN_PRICE,
    cid,
    event,
    model_spec,
)
from tests.gateway.conftest import Market, bearer, index, send_prepared, sign_in


def error_code(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["error"]["code"]


@pytest.fixture
def client(api):  # type: ignore[no-untyped-def]
    return api()


@pytest.fixture
def token(client, market: Market) -> str:  # type: ignore[no-untyped-def]
    return sign_in(client, market.d.actors.requester)


def prepare(client, token: str, **body: Any):  # type: ignore[no-untyped-def]
    return client.post("/jobs", json=body, headers=bearer(token))


def sign_typed(typed: dict[str, Any], key: str) -> str:
    return Account.sign_message(encode_typed_data(full_message=typed), key).signature.to_0x_hex()


def test_transaction_mode_pins_input_and_the_wallet_creates_the_job(
    client, token, market, ipfs_api_url
) -> None:
    d = market.d
    response = prepare(
        client, token, model_id=d.eth_model, input={"prompt": "Once upon", "max_new_tokens": 4}
    )
    assert response.status_code == 200, response.text
    prepared = response.json()
    assert prepared["max_price"] == str(ETH_PRICE) and prepared["token"] == ETH
    (tx,) = prepared["transactions"]
    assert tx["to"] == d.market.address and tx["value"] == str(ETH_PRICE)
    with IpfsClient(ipfs_api_url) as ipfs:
        assert json.loads(ipfs.cat(prepared["input_cid"])) == {
            "max_new_tokens": 4,
            "prompt": "Once upon",
        }
    receipt = send_prepared(d.chain, d.actors.requester, tx)
    job_id = event(d.market, receipt, "JobCreated")["jobId"]
    index(client)
    detail = client.get(f"/jobs/{job_id}", headers=bearer(token)).json()
    assert detail["status"] == "open" and detail["input_cid"] == prepared["input_cid"]
    assert [e["event"] for e in detail["timeline"]] == ["JobCreated"]


def test_token_model_needs_an_approval_first(client, token, market) -> None:
    d = market.d
    prepared = prepare(client, token, model_id=d.token_model, input={"prompt": "hello"}).json()
    approve, create = prepared["transactions"]
    assert approve["to"] == d.token.address and create["value"] == "0"
    send_prepared(d.chain, d.actors.requester, approve)
    again = prepare(client, token, model_id=d.token_model, input={"prompt": "hello"}).json()
    assert len(again["transactions"]) == 1  # the allowance is there now
    receipt = send_prepared(d.chain, d.actors.requester, create)
    assert event(d.market, receipt, "JobCreated")["terms"]["price"] == TOKEN_PRICE


def signed_job(client, token, market, **body: Any) -> tuple[dict[str, Any], str]:  # type: ignore[no-untyped-def]
    d = market.d
    d.tx("requester", d.market.functions.deposit(ETH, ETH_PRICE), value=ETH_PRICE)
    prepared = prepare(
        client, token, model_id=d.eth_model, input={"prompt": "x"}, mode="signed", **body
    ).json()
    typed = prepared["typed_data"]
    return typed, sign_typed(typed, d.actors.requester)


def test_signed_mode_is_relayed_from_the_deposit(client, token, market) -> None:
    d = market.d
    typed, signature = signed_job(client, token, market)
    assert typed["message"]["requester"] == d.addr("requester")
    relayed = client.post(
        "/jobs/relay", json={"typed_data": typed, "signature": signature}, headers=bearer(token)
    )
    assert relayed.status_code == 201, relayed.text
    job_id = relayed.json()["job_id"]
    index(client)
    job = client.get(f"/jobs/{job_id}", headers=bearer(token)).json()
    assert job["requester"] == d.addr("requester") and job["price"] == str(ETH_PRICE)
    balances = client.get("/balances", headers=bearer(token)).json()
    assert {"token": ETH, "amount": "0"} in [
        {k: b[k] for k in ("token", "amount")} for b in balances
    ]
    replay = client.post(
        "/jobs/relay", json={"typed_data": typed, "signature": signature}, headers=bearer(token)
    )
    assert replay.status_code == 409 and error_code(replay) == "chain.rejected"
    assert "JobRouterNonceUsed" in replay.json()["error"]["message"]


def test_relay_without_deposit_is_refused_before_sending(client, token, market) -> None:
    d = market.d
    typed = prepare(
        client, token, model_id=d.eth_model, input={"prompt": "x"}, mode="signed"
    ).json()["typed_data"]
    response = client.post(
        "/jobs/relay",
        json={"typed_data": typed, "signature": sign_typed(typed, d.actors.requester)},
        headers=bearer(token),
    )
    assert (
        response.status_code == 409
        and "JobMarketInsufficientBalance" in response.json()["error"]["message"]
    )


def test_relay_rejects_foreign_tampered_or_misaddressed_requests(client, token, market) -> None:
    d = market.d
    typed, signature = signed_job(client, token, market)

    def relay(doc: dict[str, Any], sig: str = signature, tok: str = token):  # type: ignore[no-untyped-def]
        return client.post(
            "/jobs/relay", json={"typed_data": doc, "signature": sig}, headers=bearer(tok)
        )

    other = relay(typed, sign_typed(typed, d.actors.requester2))
    assert other.status_code == 403 and error_code(other) == "relay.not_signer"
    tampered = {**typed, "message": {**typed["message"], "maxPrice": str(ETH_PRICE * 2)}}
    assert error_code(relay(tampered)) == "relay.not_signer"
    foreign = {**typed, "domain": {**typed["domain"], "chainId": 1}}
    assert error_code(relay(foreign)) == "relay.foreign_request"
    elsewhere = {**typed, "message": {**typed["message"], "market": d.addr("outsider")}}
    signed_elsewhere = sign_typed(elsewhere, d.actors.requester)
    assert error_code(relay(elsewhere, signed_elsewhere)) == "relay.foreign_request"
    missing = {**typed, "message": {k: v for k, v in typed["message"].items() if k != "nonce"}}
    assert error_code(relay(missing)) == "relay.malformed"
    overflow = {**typed, "message": {**typed["message"], "workTime": 2**40}}
    assert error_code(relay(overflow)) in {"relay.malformed", "relay.not_signer"}
    someone_else = sign_in(client, d.actors.requester2)
    assert relay(typed, tok=someone_else).status_code == 403
    no_sig = client.post(
        "/jobs/relay", json={"typed_data": typed, "signature": "0x12"}, headers=bearer(token)
    )
    assert no_sig.status_code == 422


def test_relay_disabled_without_a_relayer_key(api, market) -> None:
    client = api(relayer_key=None)
    token = sign_in(client, market.d.actors.requester)
    typed, signature = signed_job(client, token, market)
    response = client.post(
        "/jobs/relay", json={"typed_data": typed, "signature": signature}, headers=bearer(token)
    )
    assert response.status_code == 503 and error_code(response) == "relay.disabled"


def test_file_input_upload_then_job_by_cid(client, token, market, ipfs_api_url) -> None:
    data = bytes(range(256)) * 10
    uploaded = client.post(
        "/inputs",
        content=data,
        headers={**bearer(token), "Content-Type": "application/octet-stream"},
    )
    assert uploaded.status_code == 201 and uploaded.json()["size"] == len(data)
    cid = uploaded.json()["cid"]
    with IpfsClient(ipfs_api_url) as ipfs:
        assert ipfs.cat(cid) == data
    prepared = prepare(client, token, model_id=market.d.eth_model, input_cid=cid)
    assert prepared.status_code == 200 and prepared.json()["input_cid"] == cid


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"model_id": 999, "input": {}}, 404, "model.not_found"),
        ({"model_id": 1, "input": {}, "input_cid": "bafkqaaa"}, 422, "request.invalid"),
        ({"model_id": 1}, 422, "request.invalid"),
        ({"model_id": 1, "input_cid": "not-a-cid"}, 422, "input.invalid_cid"),
        ({"model_id": 1, "input": "x" * 5000}, 413, "input.too_large"),
        ({"model_id": 1, "input": {}, "max_price": "1"}, 409, "job.price_above_max"),
        ({"model_id": 1, "input": {}, "max_price": str(2**96)}, 422, "job.price_too_large"),
        ({"model_id": 1, "input": {}, "max_price": "-1"}, 422, "request.invalid"),
        ({"model_id": 0, "input": {}}, 422, "request.invalid"),
        ({"model_id": 1, "input": {}, "mode": "custodial"}, 422, "request.invalid"),
    ],
)
def test_bad_job_requests(api, market, body: dict[str, Any], status: int, code: str) -> None:
    client = api(max_input_bytes=4096)
    token = sign_in(client, market.d.actors.requester)
    response = prepare(client, token, **body)
    assert response.status_code == status and error_code(response) == code, response.text


def test_inactive_model_is_refused(client, token, market) -> None:
    d = market.d
    d.tx("provider", d.models.functions.setActive(d.eth_model, False))
    response = prepare(client, token, model_id=d.eth_model, input={})
    assert response.status_code == 409 and error_code(response) == "model.inactive"


def test_bad_uploads(api, market) -> None:
    client = api(max_input_bytes=100)
    token = sign_in(client, market.d.actors.requester)
    empty = client.post("/inputs", content=b"", headers=bearer(token))
    assert empty.status_code == 400 and error_code(empty) == "input.empty"
    big = client.post("/inputs", content=b"x" * 101, headers=bearer(token))
    assert big.status_code == 413 and error_code(big) == "input.too_large"
    anonymous = client.post("/inputs", content=b"x")
    assert anonymous.status_code == 401


def test_ipfs_down_is_503(api, market) -> None:
    client = api(ipfs_api_url="http://127.0.0.1:9")
    token = sign_in(client, market.d.actors.requester)
    response = prepare(client, token, model_id=market.d.eth_model, input={"prompt": "x"})
    assert response.status_code == 503 and error_code(response) == "model.bundle_unavailable"
    upload = client.post("/inputs", content=b"x", headers=bearer(token))
    assert upload.status_code == 503 and error_code(upload) == "ipfs.unavailable"


def test_chain_down_is_503(api, market) -> None:
    client = api(rpc_url="http://127.0.0.1:9")
    token = sign_in(client, market.d.actors.requester)
    response = prepare(client, token, model_id=market.d.eth_model, input={})
    assert response.status_code == 503 and error_code(response) == "chain.unavailable"


# --- inputs checked against the model's limits (its bundle: tiny-gpt) ------------------------


@pytest.mark.parametrize(
    ("job_input", "code", "message"),
    [
        (
            {"prompt": "Once", "max_new_tokens": 4096},
            "input.exceeds_model_limit",
            "max_new_tokens 4096 exceeds model 1's limit of 255",  # config.json's, not 256
        ),
        (
            {"prompt": "x" * 9000},
            "input.exceeds_model_limit",
            "prompt is 9000 bytes; model 1's limit is 8192",
        ),
        (
            {"prompt": "Once upon a time " * 60, "max_new_tokens": 8},
            "input.exceeds_model_limit",
            "max_new_tokens asks for 8 more; model 1's context holds 256 tokens",
        ),
        ({"prompt": "x", "stop": ["a"] * 5}, "input.exceeds_model_limit", "limit of 4"),
        ({"prompt": "x", "pad": "y" * 17_000}, "input.exceeds_model_limit", "limit is 16384"),
        ("Once upon a time", "input.unreadable", "the input must be a JSON object"),
    ],
)
def test_inputs_the_model_would_refuse_are_not_pinned_nor_prepared(
    client, token, market, ipfs_api_url, job_input: Any, code: str, message: str
) -> None:
    response = prepare(client, token, model_id=market.d.eth_model, input=job_input)
    assert response.status_code == 422 and error_code(response) == code, response.text
    assert message in response.json()["error"]["message"]
    data = json.dumps(job_input, sort_keys=True, separators=(",", ":")).encode()
    with IpfsClient(ipfs_api_url) as ipfs:
        assert not ipfs.is_pinned(ipfs.add_bytes(data, only_hash=True))


def test_model_limits_are_cached_by_bundle(market, ipfs_api_url, tiny_gpt) -> None:
    from inferchain.gateway.market.limits import ModelLimitsCache

    bundle, manifest_sha256 = tiny_gpt
    with IpfsClient(ipfs_api_url) as ipfs:
        cache = ModelLimitsCache(ipfs, timeout_s=5)
        first = cache.get(bundle, manifest_sha256.hex())
    assert first.context_length == 256
    assert cache.get(bundle, manifest_sha256.hex()) is first  # the closed client is not asked


@pytest.mark.parametrize("bundle", ["raw block", "wrong manifest hash"])
def test_model_whose_bundle_is_unusable_is_refused(
    client, token, market, tiny_gpt, bundle: str
) -> None:
    d = market.d
    spec = (
        (Cid.for_raw_block(b"not a bundle"), tiny_gpt[1])
        if bundle == "raw block"
        else (tiny_gpt[0], b"\x42" * 32)
    )
    receipt = d.tx(
        "provider", d.models.functions.registerModel(model_spec(ETH, ETH_PRICE, 0, bundle=spec))
    )
    model_id = event(d.models, receipt, "ModelRegistered")["modelId"]
    response = prepare(client, token, model_id=model_id, input={"prompt": "x"})
    assert response.status_code == 409 and error_code(response) == "model.bundle_invalid"
    assert f"model {model_id}'s bundle" in response.json()["error"]["message"]


def test_bundle_ipfs_cannot_find_is_503(api, market, tiny_gpt) -> None:
    d = market.d
    client = api(ipfs_timeout_s=1)
    token = sign_in(client, d.actors.requester)
    missing = (Cid.parse(cid(b"nobody has this bundle", DAG_PB_CODEC)), tiny_gpt[1])
    receipt = d.tx(
        "provider", d.models.functions.registerModel(model_spec(ETH, ETH_PRICE, 0, bundle=missing))
    )
    model_id = event(d.models, receipt, "ModelRegistered")["modelId"]
    response = prepare(client, token, model_id=model_id, input={"prompt": "x"})
    assert response.status_code == 503 and error_code(response) == "model.bundle_unavailable"
    assert "no job was created" in response.json()["error"]["message"]
    started = time.monotonic()  # the failure is remembered: no second wait for IPFS
    again = prepare(client, token, model_id=model_id, input={"prompt": "x"})
    assert error_code(again) == "model.bundle_unavailable" and time.monotonic() - started < 0.5


def test_verification_mode_the_market_does_not_offer_is_refused(client, token, market) -> None:
    d = market.d
    assert not d.market.functions.modeOf(7).call()[3]  # not enabled
    response = prepare(client, token, model_id=d.eth_model, input={"prompt": "x"}, verification=7)
    assert response.status_code == 422 and error_code(response) == "job.verification_disabled"
    assert "verification mode 7" in response.json()["error"]["message"]
