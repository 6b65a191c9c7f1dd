"""The OpenAI-compatible API: the official client against the gateway, session signer
endpoints, and the formatters. The round trip with a real worker is in
test_openai_end_to_end.py.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import openai
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from fastapi.testclient import TestClient

from inferchain.gateway import create_app
from inferchain.gateway.container import Services
from inferchain.gateway.errors import BadRequest, GatewayError
from inferchain.gateway.market import completion as fmt
from inferchain.gateway.market.openai_input import DEFAULT_MAX_TOKENS, job_inputs
from inferchain.gateway.market.openai_jobs import PaidJobs, collect_outputs
from inferchain.gateway.market.requests import JobRequest, typed_job_request
from inferchain.gateway.market.session_keys import session_account
from inferchain.gateway.market.submission import relay
from inferchain.gateway.schemas.openai import ChatCompletionRequest, ChatMessage, CompletionRequest
from inferchain.ipfs import IpfsClient
from tests.contracts.helpers import ETH, ETH_PRICE, job_from_created, job_tuple
from tests.gateway.conftest import (
    Market,
    bearer,
    gateway_settings,
    index,
    send_prepared,
    sign_in,
)


def openai_client(client: TestClient, token: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url="http://testserver/v1", api_key=token, http_client=client, max_retries=0
    )


def test_models_list_through_the_openai_client(api, market: Market) -> None:
    client = api()
    index(client)
    models = openai_client(client, sign_in(client, market.d.actors.requester)).models.list()
    assert [m.id for m in models.data] == ["inferchain-1", "inferchain-2"]
    assert models.data[0].owned_by == market.d.addr("provider")


def test_completion_without_a_relayer_is_501(api, market: Market) -> None:
    client = api(relayer_key=None)
    index(client)
    oa = openai_client(client, sign_in(client, market.d.actors.requester))
    with pytest.raises(openai.APIStatusError) as caught:
        oa.completions.create(model="inferchain-1", prompt="Once upon a time")
    assert caught.value.status_code == 501
    assert caught.value.body["code"] == "openai.funding_unavailable"  # type: ignore[index]


def test_completion_without_an_authorised_signer_is_402(api, market: Market) -> None:
    client = api()
    index(client)
    oa = openai_client(client, sign_in(client, market.d.actors.requester))
    with pytest.raises(openai.APIStatusError) as caught:
        oa.completions.create(model="inferchain-1", prompt="Once upon a time")
    assert caught.value.status_code == 402
    assert caught.value.body["code"] == "openai.signer_not_authorized"  # type: ignore[index]
    assert market.d.market.functions.nextJobId().call() == 1  # no job was created


def test_expired_signer_is_402(api, market: Market) -> None:
    d = market.d
    client = api()
    index(client)
    token = sign_in(client, d.actors.requester)
    prepared = client.post("/v1/signers", json={"cap": "1", "ttl_s": 60}, headers=bearer(token))
    send_prepared(d.chain, d.actors.requester, prepared.json()["transaction"])
    d.chain.increase_time(61)
    d.chain.mine()
    assert client.get("/v1/signers", headers=bearer(token)).json()["active"] is False
    with pytest.raises(openai.APIStatusError) as caught:
        openai_client(client, token).completions.create(model="inferchain-1", prompt="x")
    assert caught.value.body["code"] == "openai.signer_expired"  # type: ignore[index]


def test_signer_endpoints(api, market: Market) -> None:
    d = market.d
    client = api()
    token = sign_in(client, d.actors.requester)
    status = client.get("/v1/signers", headers=bearer(token)).json()
    assert status["expiry"] == 0 and status["remaining"] == "0" and status["active"] is False
    prepared = client.post(
        "/v1/signers",
        json={"token": d.token.address, "cap": "5", "ttl_s": 3600},
        headers=bearer(token),
    ).json()
    assert prepared["signer"] == status["signer"] and prepared["transaction"]["value"] == "0"
    send_prepared(d.chain, d.actors.requester, prepared["transaction"])
    held = d.router.functions.sessionOf(d.addr("requester"), prepared["signer"], d.token.address)
    assert held.call() == [5, prepared["expiry"]]
    on_token = client.get(
        "/v1/signers", params={"token": d.token.address}, headers=bearer(token)
    ).json()
    assert on_token["remaining"] == "5" and on_token["active"] is True
    lower = client.post(
        "/v1/signers/decrease",
        json={"token": d.token.address, "amount": "2"},
        headers=bearer(token),
    ).json()
    assert lower["to"] == d.router.address
    send_prepared(d.chain, d.actors.requester, lower)
    assert held.call() == [3, prepared["expiry"]]
    revoke = client.post(
        "/v1/signers/revoke", json={"token": d.token.address}, headers=bearer(token)
    )
    send_prepared(d.chain, d.actors.requester, revoke.json())
    assert held.call() == [0, 0]
    # Another wallet gets another signer.
    other = client.get("/v1/signers", headers=bearer(sign_in(client, d.actors.requester2)))
    assert other.json()["signer"] != status["signer"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"cap": str(2**96)}, 400),
        ({"cap": "0"}, 400),
        ({"cap": "1", "ttl_s": 59}, 400),
        ({"cap": "1", "ttl_s": 90 * 86_400 + 1}, 400),
        ({"cap": "-1"}, 400),
        ({"cap": "1", "token": "0x12"}, 400),
        ({}, 400),
    ],
)
def test_signer_requests_out_of_bounds_are_refused(
    api, market: Market, body: dict[str, Any], status: int
) -> None:
    client = api()
    token = sign_in(client, market.d.actors.requester)
    response = client.post("/v1/signers", json=body, headers=bearer(token))
    assert response.status_code == status and "error" in response.json()


def test_signer_endpoints_need_sign_in(api) -> None:
    client = api()
    assert client.get("/v1/signers").status_code == 401
    assert client.post("/v1/signers", json={"cap": "1"}).status_code == 401
    assert client.post("/v1/signers/revoke", json={}).status_code == 401
    assert client.post("/v1/signers/decrease", json={"amount": "1"}).status_code == 401


def test_session_keys_are_per_wallet_router_and_secret() -> None:
    wallet, other = "0x" + "11" * 20, "0x" + "22" * 20
    router = "0x" + "33" * 20
    key = session_account("s" * 32, 31337, router, wallet)
    assert key.address == session_account("s" * 32, 31337, router, wallet).address
    assert key.address != session_account("s" * 32, 31337, router, other).address
    assert key.address != session_account("t" * 32, 31337, router, wallet).address
    assert key.address != session_account("s" * 32, 1, router, wallet).address
    assert key.address != session_account("s" * 32, 31337, "0x" + "44" * 20, wallet).address


def test_openai_client_errors_for_unknown_model_and_bad_key(api, market: Market) -> None:
    client = api()
    index(client)
    oa = openai_client(client, sign_in(client, market.d.actors.requester))
    with pytest.raises(openai.NotFoundError):
        oa.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.NotFoundError):
        oa.completions.create(model="inferchain-99", prompt="x")
    with pytest.raises(openai.AuthenticationError):
        openai_client(client, "not-a-token").models.list()


class WalletSigningFunder:
    """Test double of the JobFunder seam: signs as the wallet would, since the test holds
    its key; production needs an on-chain delegation instead (see market.funding)."""

    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys
        self.services: Services | None = None

    def create_job(self, wallet: str, request: JobRequest) -> int:
        assert self.services is not None
        typed = typed_job_request(
            self.services.contracts(), request, wallet, request.request_deadline
        )
        signature = Account.sign_message(encode_typed_data(full_message=typed), self.keys[wallet])
        return relay(self.services, wallet, typed, signature.signature.to_0x_hex()).job_id


def test_completion_creates_a_paid_job_on_chain_then_times_out_without_a_worker(
    market: Market, tmp_path, ipfs_api_url: str, anvil
) -> None:
    d = market.d
    funder = WalletSigningFunder({d.addr("requester"): d.actors.requester})
    settings = gateway_settings(
        tmp_path,
        rpc_url=anvil.rpc_url,
        market_address=d.market.address,
        deployment_block=market.deployment_block,
        relayer_key=d.actors.relayer,
        ipfs_api_url=ipfs_api_url,
        completion_timeout_s=1.0,
        run_indexer=True,
        index_poll_s=0.1,
    )
    app = create_app(settings, job_funder=funder)
    funder.services = app.state.services
    d.tx("requester", d.market.functions.deposit(ETH, ETH_PRICE), value=ETH_PRICE)
    with TestClient(app, raise_server_exceptions=False) as client:
        deadline = time.monotonic() + 10
        while client.get("/health").json()["indexed_block"] is None and time.monotonic() < deadline:
            time.sleep(0.1)
        oa = openai_client(client, sign_in(client, d.actors.requester))
        with pytest.raises(openai.APIStatusError) as caught:
            oa.chat.completions.create(
                model="inferchain-1",
                messages=[{"role": "user", "content": "Hello"}],
                max_tokens=8,
                seed=3,
            )
        assert caught.value.status_code == 504 and caught.value.body["code"] == "openai.timeout"  # type: ignore[index]
    (job_id,) = [
        e["args"]["jobId"]
        for e in d.market.events.JobCreated().get_logs(from_block=market.deployment_block)
    ]
    assert caught.value.response.headers["Inferchain-Job-Ids"] == str(job_id)  # failed, paid
    assert (
        d.market.functions.balanceOf(d.addr("requester"), ETH).call() == 0
    )  # paid from the deposit
    created = d.market.events.JobCreated().get_logs(from_block=market.deployment_block)[0]["args"]
    with IpfsClient(ipfs_api_url) as ipfs:
        document = json.loads(ipfs.cat(created["inputCid"]))
    assert document == {
        "prompt": "User: Hello\nAssistant:",
        "max_new_tokens": 8,
        "seed": 3,
        "stop": ["\nUser:", "\nSystem:"],
    }
    assert job_id == created["jobId"]


# --- units: translation and formatting ------------------------------------------------------


GPT = "inferchain-gpt"


def test_completion_request_translation() -> None:
    request = CompletionRequest(
        model="inferchain-1", prompt=["Hi"], max_tokens=5, temperature=0.5, stop="\n"
    )
    assert job_inputs(request, GPT) == [
        {"prompt": "Hi", "max_new_tokens": 5, "temperature": 0.5, "stop": ["\n"]}
    ]
    plain = CompletionRequest(model="inferchain-1", prompt="Hi")
    assert job_inputs(plain, GPT) == [{"prompt": "Hi", "max_new_tokens": DEFAULT_MAX_TOKENS}]


def test_chat_request_translation() -> None:
    request = ChatCompletionRequest(
        model="inferchain-2",
        messages=[
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="user", content="Hi"),
        ],
        max_completion_tokens=7,
    )
    (document,) = job_inputs(request, GPT)
    assert (
        document["prompt"] == "System: Be brief.\nUser: Hi\nAssistant:"
        and document["max_new_tokens"] == 7
    )


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (
            CompletionRequest(model="m", prompt="x", stream=True, n=2, temperature=1.0),
            "openai.stream_n_unsupported",
        ),
        (CompletionRequest(model="m", prompt=["a", "b"]), "openai.batch_unsupported"),
        (CompletionRequest(model="m", prompt="x", stop=[""]), "openai.bad_stop"),
        (
            ChatCompletionRequest(
                model="m", messages=[ChatMessage(role="user", content="x")], stop=["a", ""]
            ),
            "openai.bad_stop",
        ),
    ],
)
def test_requests_the_runtime_cannot_honour_are_refused(request_: Any, code: str) -> None:
    with pytest.raises(BadRequest) as caught:
        job_inputs(request_, GPT)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "name",
    [
        "gpt-4",
        "inferchain-",
        "inferchain-0",
        "inferchain-x1",
        f"inferchain-{2**32}",
        "inferchain-01",  # one spelling per model
        "inferchain-\u0661",  # ARABIC-INDIC DIGIT ONE: str.isdigit() says yes
        "inferchain-\uff11",  # FULLWIDTH DIGIT ONE
        "inferchain-1\n",
        "inferchain-+1",
        "inferchain-1_0",
    ],
)
def test_unknown_model_names(name: str) -> None:
    with pytest.raises(BadRequest) as caught:
        fmt.model_id_of(name)
    assert caught.value.status == 404


WORKER_OUTPUT = json.dumps(
    {
        "model": {"name": "tiny-gpt"},
        "task": "text-generation",
        "runtime": {"device": "cpu"},
        "result": {
            "text": " there was",
            "tokens": [5, 6],
            "finish_reason": "length",
            "prompt_tokens": 4,
            "completion_tokens": 2,
        },
    }
).encode()


def test_completion_format() -> None:
    answer = fmt.completion([7], "inferchain-1", 1700000000, [WORKER_OUTPUT])
    assert answer.model_dump() == {
        "id": "cmpl-7",
        "object": "text_completion",
        "created": 1700000000,
        "model": "inferchain-1",
        "choices": [
            {"index": 0, "text": " there was", "logprobs": None, "finish_reason": "length"}
        ],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6},
    }
    chat = fmt.chat_completion([7], "inferchain-1", 1700000000, [WORKER_OUTPUT])
    assert chat.choices[0].message.content == "there was" and chat.object == "chat.completion"


@pytest.mark.parametrize("data", [b"not json", b"{}", b'{"result": {"text": "x"}}', b"[1]"])
def test_malformed_worker_output_is_502(data: bytes) -> None:
    with pytest.raises(GatewayError) as caught:
        fmt.completion([1], "inferchain-1", 0, [data])
    assert caught.value.status == 502 and caught.value.code == "openai.bad_output"


def test_collecting_a_job_that_ends_without_a_result(api, market: Market) -> None:
    """Read from the chain, not the indexer: a cancelled job is a 502 saying so, and a job
    with no result in time a 504."""
    services = api().app.state.services
    d = market.d
    start = d.chain.w3.eth.block_number
    job_id, job = d.create()
    d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job)))
    with pytest.raises(GatewayError) as caught:
        collect_outputs(services, PaidJobs([job_id], start))
    assert (caught.value.code, caught.value.status) == ("openai.job_failed", 502)
    assert caught.value.message == (
        f"job {job_id} ended cancelled: it was cancelled before a worker claimed it"
    )
    services.settings.completion_timeout_s = 0.3
    with pytest.raises(GatewayError) as waited:
        collect_outputs(services, PaidJobs([999], start))
    assert (waited.value.code, waited.value.status) == ("openai.timeout", 504)


def test_model_names_spell_ids_one_way() -> None:
    assert fmt.model_id_of(fmt.model_name(1)) == 1
    assert fmt.model_id_of(f"inferchain-{2**32 - 1}") == 2**32 - 1


def authorised(client: TestClient, market: Market, cap: int) -> str:
    """Sign in as the requester, deposit ``cap`` and authorise the session signer for it."""
    d = market.d
    token = sign_in(client, d.actors.requester)
    d.tx("requester", d.market.functions.deposit(ETH, cap), value=cap)
    prepared = client.post("/v1/signers", json={"cap": str(cap)}, headers=bearer(token))
    send_prepared(d.chain, d.actors.requester, prepared.json()["transaction"])
    return token


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            {"prompt": "Once upon a time", "max_tokens": 4096},
            "max_tokens 4096 exceeds model 1's limit of 255",
        ),
        (
            {"messages": [{"role": "user", "content": "Once upon a time " * 40}], "max_tokens": 64},
            "and max_tokens asks for 64 more; model 1's context holds 256 tokens",
        ),
        ({"prompt": "x" * 8200}, "prompt is 8200 bytes; model 1's limit is 8192"),
    ],
)
def test_completion_the_model_cannot_run_creates_and_spends_nothing(
    api, market: Market, request_: dict[str, Any], message: str
) -> None:
    d = market.d
    client = api(completion_timeout_s=1)
    index(client)
    token = authorised(client, market, 5 * ETH_PRICE)
    oa = openai_client(client, token)
    next_job = d.market.functions.nextJobId().call()
    with pytest.raises(openai.APIStatusError) as caught:
        if "messages" in request_:
            oa.chat.completions.create(model="inferchain-1", **request_)
        else:
            oa.completions.create(model="inferchain-1", **request_)
    assert caught.value.status_code == 400  # OpenAI's status for what other routes answer 422
    assert caught.value.body["code"] == "input.exceeds_model_limit"  # type: ignore[index]
    assert message in caught.value.body["message"]  # type: ignore[index]
    assert d.market.functions.nextJobId().call() == next_job
    status = client.get("/v1/signers", headers=bearer(token)).json()
    assert status["remaining"] == str(5 * ETH_PRICE)  # the cap is untouched


def test_signer_for_a_token_the_market_refuses_is_not_prepared(api, market: Market) -> None:
    client = api()
    token = sign_in(client, market.d.actors.requester)
    stranger = "0x" + "5a" * 20
    response = client.post(
        "/v1/signers", json={"cap": "1", "token": stranger}, headers=bearer(token)
    )
    assert response.status_code == 400  # /v1 answers OpenAI's 400 where others answer 422
    assert response.json()["error"]["code"] == "signer.token_not_allowed"


def test_completion_whose_job_fails_says_why(api, market: Market, ipfs_api_url: str) -> None:
    d = market.d
    client = api(run_indexer=True, index_poll_s=0.1, completion_timeout_s=30)
    deadline = time.monotonic() + 10
    while client.get("/health").json()["indexed_block"] is None and time.monotonic() < deadline:
        time.sleep(0.1)
    token = authorised(client, market, ETH_PRICE)
    start = d.chain.w3.eth.block_number
    evidence = {"error": "invalid_input", "reason": "invalid_param", "message": "invalid_param: "
                "'temperature'=9 is outside [0, 2]"}  # fmt: skip
    with IpfsClient(ipfs_api_url) as ipfs:
        evidence_cid = ipfs.add_bytes(json.dumps(evidence).encode())

    def refuse_it() -> None:  # as a worker would, once the gateway created the job
        while not (created := d.market.events.JobCreated().get_logs(from_block=start)):
            time.sleep(0.1)
        job_id = created[0]["args"]["jobId"]
        job = d.claim(job_id, job_from_created(created[0]["args"]))
        d.tx("worker", d.market.functions.reportFailure(job_id, job_tuple(job),
                                                        evidence_cid.to_bytes()))  # fmt: skip

    worker = threading.Thread(target=refuse_it, daemon=True)
    worker.start()
    with pytest.raises(openai.APIStatusError) as caught:
        openai_client(client, token).completions.create(
            model="inferchain-1", prompt="Once upon a time", max_tokens=4
        )
    worker.join(10)
    body = caught.value.body
    assert caught.value.status_code == 502 and body["code"] == "openai.job_failed"  # type: ignore[index]
    assert "'temperature'=9 is outside [0, 2]" in body["message"]  # type: ignore[index]
    assert str(evidence_cid) in body["message"]  # type: ignore[index]
    job_id = d.market.events.JobCreated().get_logs(from_block=start)[0]["args"]["jobId"]
    assert caught.value.response.headers["Inferchain-Job-Ids"] == str(job_id)
