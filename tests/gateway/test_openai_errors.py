"""The official ``openai`` client, sync and async, against ``/v1`` without a worker: OpenAI's
error shape and statuses, ``models.retrieve``, and requests refused before any job is paid.
The paid round trips with a real worker are in test_openai_end_to_end.py."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from inferchain.gateway.market.funding import SessionSignerFunder
from tests.contracts.helpers import ETH, ETH_PRICE
from tests.gateway.conftest import Market, bearer, index, send_prepared, sign_in
from tests.gateway.test_openai import openai_client

MODEL = "inferchain-1"
USER = [{"role": "user", "content": "Hi"}]


def shape(error: openai.APIStatusError) -> dict[str, Any]:
    """The error object, checked to be OpenAI's shape."""
    body = error.body
    assert isinstance(body, dict)
    assert {"message", "type", "param", "code"} <= set(body), body
    return body


@pytest.fixture
def signed_in(api, market: Market) -> tuple[TestClient, openai.OpenAI]:  # type: ignore[no-untyped-def]
    client = api()
    index(client)
    return client, openai_client(client, sign_in(client, market.d.actors.requester))


def test_n_out_of_range_is_a_400_naming_n(signed_in) -> None:  # type: ignore[no-untyped-def]
    _client, oa = signed_in
    with pytest.raises(openai.BadRequestError) as caught:
        oa.chat.completions.create(model=MODEL, messages=USER, n=9)  # type: ignore[arg-type]
    body = shape(caught.value)
    assert body["type"] == "invalid_request_error" and body["param"] == "n"
    assert body["code"] == "request.invalid" and "less than or equal to 8" in body["message"]


def test_validation_errors_name_the_nested_field(signed_in) -> None:  # type: ignore[no-untyped-def]
    _client, oa = signed_in
    with pytest.raises(openai.BadRequestError) as caught:
        oa.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "x"}, {"role": "tool", "content": "y"}],  # type: ignore[list-item,misc]
        )
    assert shape(caught.value)["param"] == "messages[1].role"
    with pytest.raises(openai.BadRequestError) as temperature:
        oa.completions.create(model=MODEL, prompt="x", temperature=3)
    assert shape(temperature.value)["param"] == "temperature"


def test_non_text_part_is_refused_before_any_job(signed_in, market: Market) -> None:  # type: ignore[no-untyped-def]
    _client, oa = signed_in
    next_job = market.d.market.functions.nextJobId().call()
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    with pytest.raises(openai.BadRequestError) as caught:
        oa.chat.completions.create(
            model=MODEL,
            messages=[
                {"role": "user", "content": [{"type": "text", "text": "What is it?"}, image]}
            ],  # type: ignore[list-item]
        )
    body = shape(caught.value)
    assert body["code"] == "openai.unsupported_content"
    assert body["param"] == "messages[0].content[1]" and "'image_url'" in body["message"]
    assert market.d.market.functions.nextJobId().call() == next_job


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"logprobs": True}, "logprobs"),
        ({"top_p": 0.5, "temperature": 1}, "top_p"),  # tiny-gpt's runtime has no top_p
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
        ({"n": 2}, "n"),  # greedy: n identical answers
        ({"stream": True, "n": 2, "temperature": 1}, "n"),  # one choice per stream
    ],
)
def test_parameters_the_model_cannot_honour_are_400s(
    signed_in, fields: dict[str, Any], param: str
) -> None:  # type: ignore[no-untyped-def]
    _client, oa = signed_in
    with pytest.raises(openai.BadRequestError) as caught:
        oa.chat.completions.create(model=MODEL, messages=USER, **fields)  # type: ignore[arg-type]
    body = shape(caught.value)
    assert body["param"] == param and body["type"] == "invalid_request_error"


def test_unknown_model_and_bad_key_are_openai_errors(signed_in, api) -> None:  # type: ignore[no-untyped-def]
    client, oa = signed_in
    for model in ("gpt-4", "inferchain-99"):
        with pytest.raises(openai.NotFoundError) as caught:
            oa.chat.completions.create(model=model, messages=USER)  # type: ignore[arg-type]
        body = shape(caught.value)
        assert body["code"] == "openai.model_not_found" and body["param"] == "model"
    with pytest.raises(openai.AuthenticationError) as refused:
        openai_client(client, "not-a-token").models.list()
    body = shape(refused.value)
    assert body["type"] == "authentication_error" and body["code"].startswith("auth.")
    assert body["param"] is None


def test_models_retrieve(signed_in, market: Market) -> None:  # type: ignore[no-untyped-def]
    _client, oa = signed_in
    model = oa.models.retrieve(MODEL)
    assert model.id == MODEL and model.owned_by == market.d.addr("provider")
    assert model == oa.models.list().data[0]
    for missing in ("inferchain-99", "gpt-4", "inferchain-01"):
        with pytest.raises(openai.NotFoundError) as caught:
            oa.models.retrieve(missing)
        assert shape(caught.value)["param"] == "model"


def test_v1_paths_answer_openai_errors_and_others_keep_the_gateway_shape(signed_in) -> None:  # type: ignore[no-untyped-def]
    client, _oa = signed_in
    unknown = client.get("/v1/nothing-here").json()["error"]
    assert unknown == {
        "message": "Not Found",
        "type": "invalid_request_error",
        "param": None,
        "code": "not_found",
    }
    elsewhere = client.get("/nothing-here").json()["error"]
    assert set(elsewhere) == {"code", "message"}
    refused = client.post(
        "/v1/completions", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "invalid_request_error"
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            if path.startswith("/v1/"):
                assert "422" not in operation["responses"], path
                ref = operation["responses"]["401"]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/OpenAIErrorResponse"}, path


def test_rate_limited_v1_request_is_an_openai_rate_limit_error(api, market: Market) -> None:  # type: ignore[no-untyped-def]
    client = api(rate_burst=3, rate_per_minute=1)
    oa = openai_client(client, sign_in(client, market.d.actors.requester))  # 2 requests
    with pytest.raises(openai.RateLimitError) as caught:
        for _ in range(3):
            oa.models.list()
    assert shape(caught.value)["type"] == "rate_limit_error"
    assert caught.value.response.headers["Retry-After"]


def test_n_choices_are_paid_all_or_none(api, market: Market) -> None:  # type: ignore[no-untyped-def]
    """A cap or deposit short of n prices refuses the request before any job is created."""
    d = market.d
    client = api()
    index(client)
    token = sign_in(client, d.actors.requester)
    oa = openai_client(client, token)
    prepared = client.post("/v1/signers", json={"cap": str(ETH_PRICE)}, headers=bearer(token))
    send_prepared(d.chain, d.actors.requester, prepared.json()["transaction"])
    d.tx("requester", d.market.functions.deposit(ETH, 3 * ETH_PRICE), value=3 * ETH_PRICE)
    next_job = d.market.functions.nextJobId().call()

    def ask(n: int) -> openai.APIStatusError:
        with pytest.raises(openai.APIStatusError) as caught:
            oa.chat.completions.create(model=MODEL, messages=USER, n=n, temperature=0.8)
        return caught.value

    short_cap = ask(2)
    assert short_cap.status_code == 402 and shape(short_cap)["type"] == "insufficient_quota"
    assert shape(short_cap)["code"] == "openai.signer_cap_exhausted"
    more = client.post("/v1/signers", json={"cap": str(4 * ETH_PRICE)}, headers=bearer(token))
    send_prepared(d.chain, d.actors.requester, more.json()["transaction"])
    short_deposit = ask(4)
    assert shape(short_deposit)["code"] == "openai.deposit_insufficient"
    assert str(3 * ETH_PRICE) in shape(short_deposit)["message"]
    assert d.market.functions.nextJobId().call() == next_job


def test_async_client(api, market: Market) -> None:  # type: ignore[no-untyped-def]
    client = api()
    index(client)
    token = sign_in(client, market.d.actors.requester)

    async def run() -> None:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            oa = openai.AsyncOpenAI(
                base_url="http://testserver/v1", api_key=token, http_client=http, max_retries=0
            )
            assert (await oa.models.retrieve(MODEL)).id == MODEL
            assert [m.id for m in (await oa.models.list()).data] == [MODEL, "inferchain-2"]
            with pytest.raises(openai.BadRequestError) as caught:
                await oa.completions.create(model=MODEL, prompt="x", n=0)
            assert shape(caught.value)["param"] == "n"
            with pytest.raises(openai.NotFoundError):
                await oa.models.retrieve("inferchain-99")

    asyncio.run(run())


def test_n_choices_relayed_in_one_batch_report_a_request_the_router_skipped(
    api, market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The wallet withdraws between the gateway's funds check and its relay (issue 12, attack
    7 from the gateway's side): the router creates the job the deposit still covers, skips
    the other, and the answer names the skip's reason and the job that was paid."""
    d = market.d
    client = api()
    index(client)
    token = sign_in(client, d.actors.requester)
    oa = openai_client(client, token)
    prepared = client.post("/v1/signers", json={"cap": str(3 * ETH_PRICE)}, headers=bearer(token))
    send_prepared(d.chain, d.actors.requester, prepared.json()["transaction"])
    d.tx("requester", d.market.functions.deposit(ETH, 2 * ETH_PRICE), value=2 * ETH_PRICE)
    next_job = d.market.functions.nextJobId().call()
    relay = SessionSignerFunder.create_jobs

    def withdraw_first(self, wallet, requests):  # type: ignore[no-untyped-def]
        d.tx("requester", d.market.functions.withdraw(ETH, d.addr("requester"), ETH_PRICE))
        return relay(self, wallet, requests)

    monkeypatch.setattr(SessionSignerFunder, "create_jobs", withdraw_first)
    with pytest.raises(openai.APIStatusError) as caught:
        oa.chat.completions.create(model=MODEL, messages=USER, n=2, temperature=0.8)
    body = shape(caught.value)
    assert caught.value.status_code == 409 and body["code"] == "openai.request_skipped"
    assert "input 1: JobMarketInsufficientBalance" in body["message"]
    assert caught.value.response.headers["Inferchain-Job-Ids"] == str(next_job)
    assert d.market.functions.nextJobId().call() == next_job + 1
    assert d.balance("requester") == 0  # one job paid, the skipped one nothing
