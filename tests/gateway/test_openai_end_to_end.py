"""The official ``openai`` client against the gateway, a real worker serving ``tiny-gpt``.

A wallet signs in (SIWE), deposits, authorises the gateway's session signer with a cap,
then completes and chat-completes: each answer is the model's text with token usage, and
the deposit and the signer's cap go down by exactly the price per job (``n`` jobs for
``n`` choices). The async client and LangChain's ``ChatOpenAI`` take the same path.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fastapi.testclient import TestClient
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from inferchain.bundle import publish_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.bundle.hf_import import import_hf
from inferchain.chain import Chain
from inferchain.gateway import create_app
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH, MarketConfig, ModelSpec, deploy_market
from inferchain.worker import Worker
from tests.conftest import AnvilNode
from tests.gateway.conftest import bearer, gateway_settings, send_prepared, sign_in
from tests.gateway.test_openai import openai_client
from tests.worker.helpers import (
    FEE_BPS,
    OWNER,
    PRICE,
    PROVIDER,
    REQUESTER,
    ROYALTY_BPS,
    WORKER_KEYS,
    settings,
    wait_until,
)
from tests.worker.runtimes.hf_tiny import save_model

RELAYER = 8  # a key nobody else sends from in this test (the gateway's own Chain sends)


@pytest.fixture
def stack(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> Iterator[tuple[TestClient, int]]:
    """A market with tiny-gpt registered, a worker serving it, and the gateway over both."""
    yield from _serve(chain, anvil, ipfs_api_url, tmp_path, demo_bundle_path("tiny-gpt"))


@pytest.fixture
def hf_stack(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> Iterator[tuple[TestClient, int]]:
    """The same with a tiny random Qwen2 (``hf-transformers``, a chat template of its own)."""
    bundle = import_hf(save_model(tmp_path / "src", "qwen2"), tmp_path / "bundle")
    yield from _serve(chain, anvil, ipfs_api_url, tmp_path, bundle.path)


def indexed(client: TestClient, token: str, path: str) -> dict[str, Any]:
    """``GET path`` once the indexer has it: an answer does not wait for the indexer."""

    def fetch() -> httpx.Response:
        return client.get(path, headers=bearer(token))

    wait_until(lambda: fetch().status_code == 200, 20, f"{path} indexed")
    return fetch().json()  # type: ignore[no-any-return]


def _serve(
    chain: Chain,
    anvil: AnvilNode,
    ipfs_api_url: str,
    tmp_path: Path,
    bundle: Path,
    task: str = "text-generation",
    worker_overrides: dict[str, object] | None = None,
    **gateway_overrides: object,
) -> Iterator[tuple[TestClient, int]]:
    """Register ``bundle`` as a ``task`` model, serve it with a worker, and the gateway."""
    market = deploy_market(
        chain,
        anvil.keys[OWNER],
        MarketConfig(fee_bps=FEE_BPS, disputes="manual"),
    )
    with IpfsClient(ipfs_api_url, timeout=10) as ipfs:
        published = publish_bundle(ipfs, bundle)
    spec = ModelSpec(
        Cid.parse(published.cid),
        bytes.fromhex(published.manifest_sha256),
        task,
        PRICE,
        ROYALTY_BPS,
    )
    chain.sender(anvil.keys[PROVIDER]).transact(
        market.models.functions.registerModel(spec.as_abi())
    )
    model_id = int(chain.call(market.models.functions.modelCount()))
    worker_settings = settings(
        anvil.rpc_url, ipfs_api_url, anvil.keys[WORKER_KEYS[0]], tmp_path / "worker",
        models=[model_id], max_wait_s=0.02, **(worker_overrides or {}),
    )  # fmt: skip
    worker = Worker(worker_settings, market.addresses, register=True)
    gateway = gateway_settings(
        tmp_path,
        rpc_url=anvil.rpc_url,
        market_address=market.jobs.address,
        deployment_block=market.addresses.deployed_block,
        relayer_key=anvil.keys[RELAYER],
        ipfs_api_url=ipfs_api_url,
        completion_timeout_s=45.0,
        run_indexer=True,
        index_poll_s=0.1,
        **gateway_overrides,
    )
    worker.start()
    try:
        with TestClient(create_app(gateway), raise_server_exceptions=False) as client:
            yield client, model_id
    finally:
        worker.stop()
    assert worker.failure is None


def test_openai_client_round_trip_paid_by_a_session_signer(
    stack: tuple[TestClient, int], chain: Chain, anvil: AnvilNode
) -> None:
    client, model_id = stack
    key, wallet = anvil.keys[REQUESTER], anvil.accounts[REQUESTER]
    market = client.app.state.services.contracts().market
    token = sign_in(client, key)
    oa = openai_client(client, token)
    name = f"inferchain-{model_id}"
    wait_until(lambda: name in [m.id for m in oa.models.list().data], 20, "the model indexed")

    def deposit() -> int:
        return int(chain.call(market.functions.balanceOf(wallet, ETH)))

    # Without an authorised signer the wallet's deposit cannot be spent: 402.
    with pytest.raises(openai.APIStatusError) as caught:
        oa.completions.create(model=name, prompt="Once upon a time", max_tokens=4)
    assert caught.value.status_code == 402
    assert caught.value.body["code"] == "openai.signer_not_authorized"  # type: ignore[index]

    chain.sender(key).transact(market.functions.deposit(ETH, 5 * PRICE), value=5 * PRICE)
    prepared = client.post("/v1/signers", json={"cap": str(2 * PRICE)}, headers=bearer(token))
    assert prepared.status_code == 200, prepared.text
    send_prepared(chain, key, prepared.json()["transaction"])
    status = client.get("/v1/signers", headers=bearer(token)).json()
    assert status["signer"] == prepared.json()["signer"] and status["active"] is True
    assert int(status["remaining"]) == 2 * PRICE

    before = deposit()
    started = time.monotonic()
    text = oa.completions.create(model=name, prompt="Once upon a time", max_tokens=8, seed=1)
    assert text.choices[0].text and text.usage is not None
    assert text.usage.completion_tokens > 0 and text.usage.prompt_tokens > 0
    assert text.usage.total_tokens == text.usage.prompt_tokens + text.usage.completion_tokens
    assert deposit() == before - PRICE

    chat = oa.chat.completions.create(
        model=name, messages=[{"role": "user", "content": "Tell me a story"}], max_tokens=8
    )
    assert chat.choices[0].message.role == "assistant" and chat.usage is not None
    assert chat.usage.completion_tokens > 0
    assert deposit() == before - 2 * PRICE
    assert time.monotonic() - started < 60

    # The cap is spent: the next request is refused before any job is created.
    with pytest.raises(openai.APIStatusError) as exhausted:
        oa.completions.create(model=name, prompt="Again", max_tokens=4)
    assert exhausted.value.status_code == 402
    assert exhausted.value.body["code"] == "openai.signer_cap_exhausted"  # type: ignore[index]
    assert deposit() == before - 2 * PRICE

    # The wallet revokes at any time, with its own transaction.
    revoke = client.post("/v1/signers/revoke", json={}, headers=bearer(token))
    send_prepared(chain, key, revoke.json())
    assert client.get("/v1/signers", headers=bearer(token)).json()["expiry"] == 0


def _authorise(client: TestClient, chain: Chain, anvil: AnvilNode, prices: int) -> str:
    """Sign in as the requester, deposit and cap the session signer at ``prices`` jobs."""
    key = anvil.keys[REQUESTER]
    market = client.app.state.services.contracts().market
    token = sign_in(client, key)
    chain.sender(key).transact(market.functions.deposit(ETH, prices * PRICE), value=prices * PRICE)
    prepared = client.post("/v1/signers", json={"cap": str(prices * PRICE)}, headers=bearer(token))
    send_prepared(chain, key, prepared.json()["transaction"])
    return token


def test_n_choices_developer_role_text_parts_async_and_langchain(
    stack: tuple[TestClient, int], chain: Chain, anvil: AnvilNode
) -> None:
    client, model_id = stack
    wallet = anvil.accounts[REQUESTER]
    market = client.app.state.services.contracts().market
    token = _authorise(client, chain, anvil, 4)
    oa = openai_client(client, token)
    name = f"inferchain-{model_id}"
    wait_until(lambda: name in [m.id for m in oa.models.list().data], 20, "the model indexed")
    assert oa.models.retrieve(name).id == name

    def deposit() -> int:
        return int(chain.call(market.functions.balanceOf(wallet, ETH)))

    # n=2: two jobs, two prices, one choice each, usage summed over both.
    before, next_job = deposit(), int(chain.call(market.functions.nextJobId()))
    parts = [{"type": "text", "text": "Once upon "}, {"type": "text", "text": "a time"}]
    chat = oa.chat.completions.create(
        model=name,
        messages=[
            {"role": "developer", "content": "You tell stories."},
            {"role": "user", "content": parts},  # type: ignore[typeddict-item]
        ],
        n=2,
        temperature=1.0,
        seed=5,
        max_tokens=6,
    )
    assert [c.index for c in chat.choices] == [0, 1] and chat.id == f"chatcmpl-{next_job}"
    assert int(chain.call(market.functions.nextJobId())) == next_job + 2
    assert deposit() == before - 2 * PRICE
    outputs = [
        indexed(client, token, f"/jobs/{job}/result")["result"] for job in (next_job, next_job + 1)
    ]
    assert [c.message.content for c in chat.choices] == [o["text"].strip() for o in outputs]
    assert chat.usage is not None
    assert chat.usage.prompt_tokens == sum(o["prompt_tokens"] for o in outputs)
    assert chat.usage.completion_tokens == sum(o["completion_tokens"] for o in outputs)
    inputs = [
        indexed(client, token, f"/jobs/{job}")["input_cid"] for job in (next_job, next_job + 1)
    ]
    assert inputs[0] != inputs[1]  # told apart by their seeds, 5 and 6

    # The async client, non-streaming.
    async def complete() -> openai.types.Completion:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            aoa = openai.AsyncOpenAI(
                base_url="http://testserver/v1", api_key=token, http_client=http, max_retries=0
            )
            return await aoa.completions.create(model=name, prompt="The king", max_tokens=4)

    text = asyncio.run(complete())
    assert text.choices[0].text and text.usage is not None and text.usage.completion_tokens > 0
    assert deposit() == before - 3 * PRICE

    # LangChain's ChatOpenAI pointed at the gateway.
    llm = ChatOpenAI(
        model=name, base_url="http://testserver/v1", api_key=SecretStr(token),
        http_client=client, max_retries=0, max_completion_tokens=4,
    )  # fmt: skip
    answer = llm.invoke([("system", "You tell stories."), ("human", "Tell me one")])
    assert isinstance(answer.content, str) and answer.usage_metadata is not None
    assert answer.usage_metadata["output_tokens"] > 0
    assert deposit() == before - 4 * PRICE


def test_hf_model_chats_through_its_template_with_top_p(
    hf_stack: tuple[TestClient, int], chain: Chain, anvil: AnvilNode
) -> None:
    client, model_id = hf_stack
    token = _authorise(client, chain, anvil, 2)
    oa = openai_client(client, token)
    name = f"inferchain-{model_id}"
    wait_until(lambda: name in [m.id for m in oa.models.list().data], 20, "the model indexed")
    chat = oa.chat.completions.create(
        model=name,
        messages=[
            {"role": "developer", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hello world"}]},
        ],
        temperature=0.8,
        top_p=0.9,
        seed=11,
        max_tokens=6,
    )
    assert chat.usage is not None and chat.usage.completion_tokens > 0
    job_id = int(chat.id.removeprefix("chatcmpl-"))
    cid = indexed(client, token, f"/jobs/{job_id}")["input_cid"]
    with IpfsClient(client.app.state.services.settings.ipfs_api_url) as ipfs:
        document = json.loads(ipfs.cat(cid))
    assert document == {
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hello world"},
        ],
        "max_new_tokens": 6,
        "temperature": 0.8,
        "top_p": 0.9,
        "seed": 11,
    }
