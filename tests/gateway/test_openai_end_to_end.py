"""The official ``openai`` client against the gateway, a real worker serving ``tiny-gpt``.

A wallet signs in (SIWE), deposits, authorises the gateway's session signer with a cap,
then completes and chat-completes: each answer is the model's text with token usage, and
the deposit and the signer's cap go down by exactly the price per request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from fastapi.testclient import TestClient

from inferchain.bundle import publish_bundle
from inferchain.bundle.demos import demo_bundle_path
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

RELAYER = 8  # a key nobody else sends from in this test (the gateway's own Chain sends)


@pytest.fixture
def stack(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> Iterator[tuple[TestClient, int]]:
    """A market with tiny-gpt registered, a worker serving it, and the gateway over both."""
    market = deploy_market(
        chain,
        anvil.keys[OWNER],
        MarketConfig(fee_bps=FEE_BPS),
    )
    with IpfsClient(ipfs_api_url, timeout=10) as ipfs:
        published = publish_bundle(ipfs, demo_bundle_path("tiny-gpt"))
    spec = ModelSpec(
        Cid.parse(published.cid),
        bytes.fromhex(published.manifest_sha256),
        "text-generation",
        PRICE,
        ROYALTY_BPS,
    )
    chain.sender(anvil.keys[PROVIDER]).transact(
        market.models.functions.registerModel(spec.as_abi())
    )
    model_id = int(chain.call(market.models.functions.modelCount()))
    worker_settings = settings(
        anvil.rpc_url, ipfs_api_url, anvil.keys[WORKER_KEYS[0]], tmp_path / "worker",
        models=[model_id], max_wait_s=0.02,
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
