"""Per-token metered jobs through ``/v1/chat/completions``, a real worker serving tiny-gpt.

The provider sets per-token rates; the gateway creates a metered job that escrows the most
the request can cost; the worker commits its token counts; the answer's usage is those
counts; settlement charges base + per-token rates and credits the rest to the requester,
which ``/balances`` shows. A requester who under-states its prompt gets its job refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from fastapi.testclient import TestClient

from inferchain.bundle.demos import demo_bundle_path
from inferchain.chain import Chain
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH, JobRequest, created_job_id, decode_logs
from inferchain.market.metering import MeteredTerms, TokenCounts, metered_pricing
from tests.conftest import AnvilNode
from tests.gateway.conftest import bearer, send_prepared, sign_in
from tests.gateway.test_openai import openai_client
from tests.gateway.test_openai_end_to_end import _serve, indexed
from tests.worker.helpers import FEE_BPS, PROVIDER, REQUESTER, ROYALTY_BPS, wait_until

BASE, PER_IN, PER_OUT = 10**12, 10**11, 10**12
FUNDS = 10**16
CHALLENGE = 3_600  # MarketConfig's default window


@pytest.fixture
def metered(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> Iterator[tuple[TestClient, int]]:
    """tiny-gpt served by a worker, its provider's per-token rates set."""
    for client, model_id in _serve(
        chain, anvil, ipfs_api_url, tmp_path, demo_bundle_path("tiny-gpt")
    ):
        market = client.app.state.services.contracts().market
        module = metered_pricing(chain, market)
        assert module is not None  # the deployment registered it as pricing id 1
        setter = module.functions.setRates(model_id, BASE, PER_IN, PER_OUT)
        chain.sender(anvil.keys[PROVIDER]).transact(setter)
        yield client, model_id


def _events(chain: Chain, market, job_id: int) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    topics = [None, "0x" + job_id.to_bytes(32, "big").hex()]
    logs = chain.w3.eth.get_logs({"address": market.address, "fromBlock": 0, "topics": topics})
    return {e["event"]: dict(e["args"]) for e in decode_logs(market, logs)}


def _session(client: TestClient, chain: Chain, key: str) -> str:
    """Sign in, deposit FUNDS and grant the gateway's session signer that much."""
    market = client.app.state.services.contracts().market
    token = sign_in(client, key)
    chain.sender(key).transact(market.functions.deposit(ETH, FUNDS), value=FUNDS)
    prepared = client.post("/v1/signers", json={"cap": str(FUNDS)}, headers=bearer(token))
    send_prepared(chain, key, prepared.json()["transaction"])
    return token


def test_metered_chat_completion_charges_its_tokens_and_refunds_the_rest(
    metered: tuple[TestClient, int], chain: Chain, anvil: AnvilNode
) -> None:
    client, model_id = metered
    key, wallet = anvil.keys[REQUESTER], anvil.accounts[REQUESTER]
    market = client.app.state.services.contracts().market
    token = _session(client, chain, key)

    def deposit() -> int:
        return int(chain.call(market.functions.balanceOf(wallet, ETH)))

    before = deposit()
    oa = openai_client(client, token)
    name = f"inferchain-{model_id}"
    wait_until(lambda: name in [m.id for m in oa.models.list().data], 20, "the model indexed")
    raw = oa.chat.completions.with_raw_response.create(
        model=name, messages=[{"role": "user", "content": "Tell me a story"}], max_tokens=8
    )
    chat = raw.parse()
    job_id = int(raw.headers["Inferchain-Job-Ids"])
    assert chat.usage is not None and chat.usage.completion_tokens > 0
    used = TokenCounts(chat.usage.prompt_tokens, chat.usage.completion_tokens)

    events = _events(chain, market, job_id)
    terms = events["JobCreated"]["terms"]
    metering = MeteredTerms.from_word(bytes(terms["pricingTerms"]))
    assert terms["pricing"] == 1 and metering.limits.output_tokens == 8
    # The prompt's tokens are counted exactly for tiny-gpt: the escrow is the true most.
    assert metering.limits.input_tokens == used.input_tokens
    most = BASE + PER_IN * used.input_tokens + PER_OUT * 8
    assert terms["price"] == metering.max_price == most
    assert deposit() == before - most
    # The answer's usage is what the worker committed on-chain, which settlement charges.
    assert TokenCounts.from_word(bytes(events["ResultSubmitted"]["usage"])) == used

    chain.increase_time(CHALLENGE + 1)
    chain.mine()
    wait_until(lambda: "JobCharged" in _events(chain, market, job_id), 30, "the worker finalizes")
    events = _events(chain, market, job_id)
    charged = BASE + PER_IN * used.input_tokens + PER_OUT * used.output_tokens
    assert events["JobCharged"] == {"jobId": job_id, "charged": charged, "refund": most - charged}
    paid = events["JobFinalized"]
    assert paid["royalty"] == charged * ROYALTY_BPS // 10_000
    assert paid["fee"] == charged * FEE_BPS // 10_000
    assert paid["workerAmount"] == charged - paid["royalty"] - paid["fee"]
    assert deposit() == before - charged
    # The wallet's balance view (indexed) shows the refund.
    wait_until(
        lambda: (
            [int(b["amount"]) for b in indexed(client, token, "/balances")] == [before - charged]
        ),
        20,
        "the refund indexed",
    )


def test_a_requester_understating_its_prompt_gets_the_job_refused_and_refunded(
    metered: tuple[TestClient, int], chain: Chain, anvil: AnvilNode, ipfs_api_url: str
) -> None:
    """pricingData says 1 prompt token; the prompt is longer. The worker refuses the job before
    decoding (reportFailure, reason over_limits): no text, nothing charged, the escrow back
    with the failure fee (1 % of the collateral for so early a report)."""
    client, model_id = metered
    key, wallet = anvil.keys[REQUESTER], anvil.accounts[REQUESTER]
    market = client.app.state.services.contracts().market
    prompt = json.dumps({"prompt": "Once upon a time there was", "max_new_tokens": 4})
    with IpfsClient(ipfs_api_url, timeout=10) as ipfs:
        cid = ipfs.add_bytes(prompt.encode())
    limits = TokenCounts(1, 4)
    most = BASE + PER_IN + PER_OUT * 4
    deadline = chain.block_timestamp() + 600
    request = JobRequest(model_id, cid, most, deadline, 300, pricing=1,
                         pricing_data=limits.to_word())  # fmt: skip
    receipt = chain.sender(key).transact(
        market.functions.createJob(wallet, request.as_abi()), value=most
    )
    job_id = created_job_id(market, receipt)
    before = int(chain.call(market.functions.balanceOf(wallet, ETH)))
    wait_until(lambda: "JobFailed" in _events(chain, market, job_id), 30, "the worker refuses")
    events = _events(chain, market, job_id)
    assert "ResultSubmitted" not in events and "JobCharged" not in events
    with IpfsClient(ipfs_api_url, timeout=10) as ipfs:
        evidence = json.loads(ipfs.cat(Cid.parse(bytes(events["JobFailed"]["evidenceCid"]))))
    assert evidence["reason"] == "over_limits" and "at most 1 and 4" in evidence["message"]
    fee = events["JobFailed"]["fee"]
    assert most // 100 <= fee < most // 10  # of the collateral: the escrowed most, by default
    assert int(chain.call(market.functions.balanceOf(wallet, ETH))) == before + most + fee


def _stream_a_story(metered: tuple[TestClient, int], chain: Chain, anvil: AnvilNode):  # type: ignore[no-untyped-def]
    """A fresh requester's session, then a streamed chat completion with usage: its job id
    and the raw response (iterate ``raw.parse()`` for the chunks)."""
    client, model_id = metered
    token = _session(client, chain, anvil.keys[REQUESTER])
    oa = openai_client(client, token)
    name = f"inferchain-{model_id}"
    wait_until(lambda: name in [m.id for m in oa.models.list().data], 20, "the model indexed")
    raw = oa.chat.completions.with_raw_response.create(
        model=name, messages=[{"role": "user", "content": "Tell me a story"}], max_tokens=6,
        stream=True, stream_options={"include_usage": True},
    )  # fmt: skip
    return int(raw.headers["Inferchain-Job-Ids"]), raw


def test_metered_streamed_completion_reports_the_usage_it_is_charged(
    metered: tuple[TestClient, int], chain: Chain, anvil: AnvilNode
) -> None:
    """`stream=True` creates the same metered job; the usage chunk is the committed usage."""
    market = metered[0].app.state.services.contracts().market
    job_id, raw = _stream_a_story(metered, chain, anvil)
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    usage = chunks[-1].usage
    assert text and usage is not None and 0 < usage.completion_tokens <= 6
    events = _events(chain, market, job_id)
    assert events["JobCreated"]["terms"]["pricing"] == 1
    committed = TokenCounts.from_word(bytes(events["ResultSubmitted"]["usage"]))
    assert committed == TokenCounts(usage.prompt_tokens, usage.completion_tokens)


def test_a_worker_committing_other_usage_than_it_streamed_ends_the_stream_with_an_error(
    metered: tuple[TestClient, int], chain: Chain, anvil: AnvilNode,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A hostile worker streams and pins a document with honest counts but commits other
    counts on-chain (what the job is charged). The usage chunk would state a count the chain
    does not charge: the gateway ends the stream with ``openai.usage_mismatch`` instead."""
    import inferchain.worker.tracked as tracked
    from inferchain.worker.metering import metered_limits

    honest = tracked.usage_word

    def inflated(job, output: bytes) -> bytes:  # type: ignore[no-untyped-def]
        counts = TokenCounts.from_word(honest(job, output))
        limits = metered_limits(job)
        assert limits is not None
        step = 1 if counts.output_tokens < limits.output_tokens else -1
        return TokenCounts(counts.input_tokens, counts.output_tokens + step).to_word()

    monkeypatch.setattr(tracked, "usage_word", inflated)
    market = metered[0].app.state.services.contracts().market
    job_id, raw = _stream_a_story(metered, chain, anvil)
    chunks = []
    with pytest.raises(openai.APIError) as broken:
        for chunk in raw.parse():
            chunks.append(chunk)
    assert broken.value.body["code"] == "openai.usage_mismatch"  # type: ignore[index]
    assert not any(c.usage for c in chunks)  # no usage chunk was sent
    events = _events(chain, market, job_id)
    assert "ResultSubmitted" in events  # the worker's claim stands on-chain, for a dispute
