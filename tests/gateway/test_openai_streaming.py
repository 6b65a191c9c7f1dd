"""``stream=True`` with the official ``openai`` client, tokens relayed from a real worker.

The gateway finds the claiming worker on-chain, reads its stream URL from the registry
metadata, authorises the read with the wallet's session signer and relays the worker's
tokens as OpenAI chunks; at the end it checks the streamed text against the pinned result.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from inferchain.bundle import publish_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.bundle.hf_import import import_hf
from inferchain.chain import Chain
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH, MarketConfig, ModelSpec, deploy_market
from tests.conftest import AnvilNode
from tests.gateway.conftest import bearer, gateway_process, send_prepared, sign_in
from tests.gateway.test_openai import openai_client
from tests.gateway.test_openai_end_to_end import RELAYER, _authorise, _serve
from tests.worker.helpers import (
    FEE_BPS,
    OWNER,
    PRICE,
    PROVIDER,
    REQUESTER,
    ROYALTY_BPS,
    STAKE,
    WORKER_KEYS,
    WorkerProcess,
    events_named,
    records,
    wait_until,
)
from tests.worker.runtimes.hf_tiny import save_model


@pytest.fixture
def stack(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> Iterator[tuple[TestClient, int]]:
    yield from _serve(chain, anvil, ipfs_api_url, tmp_path, demo_bundle_path("tiny-gpt"))


def _result(client: TestClient, token: str, job_id: int) -> dict:
    """The job's pinned result, verified by the gateway, once the indexer has it."""

    def fetch() -> httpx.Response:
        return client.get(f"/jobs/{job_id}/result", headers=bearer(token))

    wait_until(lambda: fetch().status_code == 200, 20, f"job {job_id}'s result indexed")
    return fetch().json()["result"]


def test_stream_sync_and_async_equal_the_pinned_results(
    stack: tuple[TestClient, int], chain: Chain, anvil: AnvilNode
) -> None:
    client, model_id = stack
    market = client.app.state.services.contracts().market
    wallet = anvil.accounts[REQUESTER]
    token = _authorise(client, chain, anvil, 4)
    oa = openai_client(client, token)
    name = f"inferchain-{model_id}"
    wait_until(lambda: name in [m.id for m in oa.models.list().data], 20, "the model indexed")

    def deposit() -> int:
        return int(chain.call(market.functions.balanceOf(wallet, ETH)))

    before = deposit()
    chunks = list(
        oa.completions.create(
            model=name, prompt="Once upon a time", max_tokens=12, seed=1, stream=True,
            stream_options={"include_usage": True},
        )
    )  # fmt: skip
    *texts, last = chunks
    assert last.choices == [] and last.usage is not None  # the usage chunk, asked for
    assert texts[-1].choices[0].finish_reason in ("stop", "length")
    job_id = int(last.id.removeprefix("cmpl-"))
    result = _result(client, token, job_id)
    assert "".join(c.choices[0].text for c in texts) == result["text"]
    assert last.usage.completion_tokens == result["completion_tokens"] > 0
    assert last.usage.prompt_tokens == result["prompt_tokens"]
    assert deposit() == before - PRICE

    # The same request without streaming gives the same text (greedy, same seed).
    plain = oa.completions.create(model=name, prompt="Once upon a time", max_tokens=12, seed=1)
    assert plain.choices[0].text == result["text"]

    # Chat, no usage asked: a role chunk, content chunks, a finish chunk, no usage chunk.
    stream = oa.chat.completions.create(
        model=name, messages=[{"role": "user", "content": "Tell me a story"}], max_tokens=10,
        stream=True,
    )  # fmt: skip
    chat = list(stream)
    assert chat[0].choices[0].delta.role == "assistant"
    assert all(c.usage is None for c in chat) and chat[-1].choices[0].finish_reason is not None
    content = "".join(c.choices[0].delta.content or "" for c in chat)
    chat_result = _result(client, token, int(chat[0].id.removeprefix("chatcmpl-")))
    assert content == chat_result["text"].lstrip() and content.strip()

    # The async client, streaming.
    async def complete() -> list[openai.types.Completion]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            aoa = openai.AsyncOpenAI(
                base_url="http://testserver/v1", api_key=token, http_client=http, max_retries=0
            )
            stream = await aoa.completions.create(
                model=name, prompt="The king", max_tokens=6, stream=True,
                stream_options={"include_usage": True},
            )  # fmt: skip
            return [chunk async for chunk in stream]

    async_chunks = asyncio.run(complete())
    assert async_chunks[-1].usage is not None
    async_result = _result(client, token, int(async_chunks[-1].id.removeprefix("cmpl-")))
    streamed = "".join(c.choices[0].text for c in async_chunks if c.choices)
    assert streamed == async_result["text"]
    assert deposit() == before - 4 * PRICE


@pytest.fixture
def fast_path_stack(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> Iterator[tuple[TestClient, int]]:
    """A worker that runs every job first and submits it on Open (no JobClaimed at all):
    streaming models take the fast path only when ``fast_path_streams`` says so."""
    yield from _serve(
        chain, anvil, ipfs_api_url, tmp_path, demo_bundle_path("tiny-gpt"),
        worker_overrides={"fast_path_max_s": 30.0, "fast_path_streams": True},
    )  # fmt: skip


def test_stream_of_a_job_submitted_on_open_replays_the_whole_text(
    fast_path_stack: tuple[TestClient, int], chain: Chain, anvil: AnvilNode
) -> None:
    """With the worker's fast path the job is claimed by its submission, so the gateway
    finds the worker by ``ResultSubmitted`` and reads the ended stream from the start."""
    client, model_id = fast_path_stack
    token = _authorise(client, chain, anvil, 1)
    oa = openai_client(client, token)
    name = f"inferchain-{model_id}"
    wait_until(lambda: name in [m.id for m in oa.models.list().data], 20, "the model indexed")
    chunks = list(
        oa.completions.create(
            model=name, prompt="Once upon a time", max_tokens=12, seed=1, stream=True,
            stream_options={"include_usage": True},
        )
    )  # fmt: skip
    job_id = int(chunks[-1].id.removeprefix("cmpl-"))
    streamed = "".join(c.choices[0].text for c in chunks if c.choices)
    assert streamed == _result(client, token, job_id)["text"] and streamed
    market = client.app.state.services.contracts().market
    logs = market.events.JobClaimed().get_logs(from_block=0)
    assert [e for e in logs if e["args"]["jobId"] == job_id] == []  # the fast path was taken


def test_stream_with_n_above_one_is_refused_before_any_job(
    stack: tuple[TestClient, int], chain: Chain, anvil: AnvilNode
) -> None:
    client, model_id = stack
    token = _authorise(client, chain, anvil, 2)
    oa = openai_client(client, token)
    market = client.app.state.services.contracts().market
    before = int(chain.call(market.functions.nextJobId()))
    with pytest.raises(openai.BadRequestError) as refused:
        oa.completions.create(
            model=f"inferchain-{model_id}", prompt="x", n=2, temperature=1.0, stream=True
        )
    assert refused.value.body["code"] == "openai.stream_n_unsupported"  # type: ignore[index]
    assert refused.value.body["param"] == "n"  # type: ignore[index]
    assert int(chain.call(market.functions.nextJobId())) == before


def test_worker_killed_mid_stream_ends_it_with_an_error_and_the_job_is_refunded(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> None:
    """A real gateway process (so chunks arrive as they are made) and a worker process."""
    market = deploy_market(
        chain, anvil.keys[OWNER], MarketConfig(fee_bps=FEE_BPS, disputes="manual")
    )
    with IpfsClient(ipfs_api_url, timeout=10) as ipfs:
        published = publish_bundle(ipfs, demo_bundle_path("tiny-gpt"))
    spec = ModelSpec(
        Cid.parse(published.cid), bytes.fromhex(published.manifest_sha256),
        "text-generation", PRICE, ROYALTY_BPS,
    )  # fmt: skip
    chain.sender(anvil.keys[PROVIDER]).transact(
        market.models.functions.registerModel(spec.as_abi())
    )
    model_id = int(chain.call(market.models.functions.modelCount()))
    addresses = tmp_path / "market.json"
    addresses.write_text(json.dumps(market.addresses.to_dict()))
    worker_key = anvil.keys[WORKER_KEYS[1]]
    env = {
        **os.environ, "OMP_NUM_THREADS": "1",
        "INFERCHAIN_WORKER_RPC_URL": anvil.rpc_url, "INFERCHAIN_WORKER_IPFS_API_URL": ipfs_api_url,
        "INFERCHAIN_WORKER_PRIVATE_KEY": worker_key, "INFERCHAIN_WORKER_DEVICE": "cpu",
        "INFERCHAIN_WORKER_STATE_DIR": str(tmp_path / "state"),
        "INFERCHAIN_WORKER_MARKET_ADDRESSES_FILE": str(addresses),
        "INFERCHAIN_WORKER_MODELS": f"[{model_id}]", "INFERCHAIN_WORKER_POLL_INTERVAL_S": "0.05",
        "INFERCHAIN_WORKER_STAKE": json.dumps({ETH: STAKE}),
    }  # fmt: skip
    worker = WorkerProcess(env, tmp_path / "worker.log")
    me = Account.from_key(worker_key).address
    try:
        wait_until(
            lambda: bytes(chain.call(market.workers.functions.metadataDigest(me))) != bytes(32),
            60, "the worker registered with its stream",
        )  # fmt: skip
        with gateway_process(
            tmp_path, rpc_url=anvil.rpc_url, market_address=market.jobs.address,
            deployment_block=market.addresses.deployed_block, relayer_key=anvil.keys[RELAYER],
            ipfs_api_url=ipfs_api_url, completion_timeout_s=60, run_indexer="true",
            index_poll_s=0.1,
        ) as (url, _process), httpx.Client(base_url=url, timeout=30) as http:  # fmt: skip
            key, wallet = anvil.keys[REQUESTER], anvil.accounts[REQUESTER]
            token = sign_in(http, key)
            deposit = market.jobs.functions.deposit(ETH, PRICE)
            chain.sender(key).transact(deposit, value=PRICE)
            prepared = http.post("/v1/signers", json={"cap": str(PRICE)}, headers=bearer(token))
            send_prepared(chain, key, prepared.json()["transaction"])
            oa = openai.OpenAI(base_url=f"{url}/v1", api_key=token, max_retries=0)
            name = f"inferchain-{model_id}"
            wait_until(lambda: name in [m.id for m in oa.models.list()], 20, "the model indexed")
            stream = oa.completions.create(
                model=name, prompt="Once upon a time", max_tokens=250,
                stream=True,
            )  # fmt: skip
            texts = []
            with pytest.raises(openai.APIError) as broken:
                for chunk in stream:
                    texts.append(chunk.choices[0].text)
                    if len(texts) == 1:
                        worker.kill()  # at the first token, long before the 250th
            assert texts and broken.value.body["code"] == "stream.broken"  # type: ignore[index]
            assert chain.call(market.jobs.functions.balanceOf(wallet, ETH)) == 0
    finally:
        if worker.proc.poll() is None:
            worker.kill()
    # The usual path: past the claim deadline anyone times the job out; the deposit returns.
    (claimed,) = events_named(market, "JobClaimed")
    chain.increase_time(int(claimed["deadline"]) - chain.block_timestamp() + 1)
    chain.mine()
    job_id = int(claimed["jobId"])
    job = records(market)[job_id].job
    chain.sender(anvil.keys[REQUESTER]).transact(
        market.jobs.functions.timeout(job_id, job.as_abi())
    )
    (timed_out,) = events_named(market, "JobTimedOut")
    assert timed_out["jobId"] == job_id and timed_out["slashed"] > 0
    refunded = chain.call(market.jobs.functions.balanceOf(anvil.accounts[REQUESTER], ETH))
    assert PRICE < refunded <= PRICE + timed_out["slashed"]  # the price, and the slash


@pytest.fixture
def hf_stack(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> Iterator[tuple[TestClient, int]]:
    bundle = import_hf(save_model(tmp_path / "src", "qwen2"), tmp_path / "bundle")
    yield from _serve(chain, anvil, ipfs_api_url, tmp_path, bundle.path)


def test_hf_model_streams_its_chat_through_the_scheduler(
    hf_stack: tuple[TestClient, int], chain: Chain, anvil: AnvilNode
) -> None:
    client, model_id = hf_stack
    token = _authorise(client, chain, anvil, 1)
    oa = openai_client(client, token)
    name = f"inferchain-{model_id}"
    wait_until(lambda: name in [m.id for m in oa.models.list().data], 20, "the model indexed")
    chunks = list(
        oa.chat.completions.create(
            model=name, messages=[{"role": "user", "content": "hello world"}], max_tokens=8,
            temperature=0.8, seed=3, stream=True, stream_options={"include_usage": True},
        )
    )  # fmt: skip
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    result = _result(client, token, int(chunks[0].id.removeprefix("chatcmpl-")))
    assert content == result["text"].lstrip()
    assert chunks[-1].usage.completion_tokens == result["completion_tokens"]
