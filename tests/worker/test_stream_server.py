"""The worker's token stream, read straight from the worker, and who may read it.

A worker serving tiny-gpt announces its stream URL in its registry metadata (pinned on
IPFS, its digest on-chain). The requester, or a session signer it authorised in the
JobRouter, reads the job's text as server-sent events, replayed from the first token, ending
with the CID of the document the worker pins; anyone else, or a stale or malformed
authorisation, is refused with a JSON error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from inferchain.bundle import publish_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.chain import Chain
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH, ModelSpec
from inferchain.market.stream_auth import sign_stream_read
from inferchain.worker import Worker
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    PRICE,
    PROVIDER,
    REQUESTER,
    ROYALTY_BPS,
    SENTIMENT_INPUT,
    WORKER_KEYS,
    Deployed,
    create_job,
    events_named,
    settings,
    wait_until,
)

PROMPT = json.dumps({"prompt": "Once upon a time", "max_new_tokens": 24}).encode()


@pytest.fixture
def served(
    chain: Chain, anvil: AnvilNode, ipfs: IpfsClient, ipfs_api_url: str, deployed: Deployed,
    tmp_path: Path,
) -> Iterator[tuple[Worker, int]]:  # fmt: skip
    """tiny-gpt registered on the market, and a worker serving it: (worker, model id)."""
    market = deployed.market
    published = publish_bundle(ipfs, demo_bundle_path("tiny-gpt"))
    spec = ModelSpec(
        Cid.parse(published.cid), bytes.fromhex(published.manifest_sha256),
        "text-generation", PRICE, ROYALTY_BPS,
    )  # fmt: skip
    chain.sender(anvil.keys[PROVIDER]).transact(
        market.models.functions.registerModel(spec.as_abi())
    )
    model_id = int(chain.call(market.models.functions.modelCount()))
    s = settings(anvil.rpc_url, ipfs_api_url, anvil.keys[WORKER_KEYS[0]], tmp_path / "w",
                 models=[model_id])  # fmt: skip
    worker = Worker(s, market.addresses, register=True)
    worker.start()
    try:
        yield worker, model_id
    finally:
        worker.stop()
    assert worker.failure is None


def _template(chain: Chain, deployed: Deployed, ipfs: IpfsClient, worker: str) -> str:
    """The stream URL template, as any client finds it: registry digest → IPFS document."""
    digest = bytes(chain.call(deployed.market.workers.functions.metadataDigest(worker)))
    document = json.loads(ipfs.cat(Cid.from_digest32(digest)))
    assert document["stream"]["format"] == "sse" and document["worker"] == worker
    return document["stream"]["url"]


def _auth(chain: Chain, deployed: Deployed, key: str, job_id: int, ttl: int = 300) -> dict:
    expiry = chain.block_timestamp() + ttl
    market = deployed.market.jobs.address
    signature = sign_stream_read(key, chain.chain_id, market, job_id, expiry)
    return {"expiry": str(expiry), "signature": signature}


def _events(response: httpx.Response) -> list[tuple[str, dict]]:
    events, kind = [], ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append((kind, json.loads(line[6:])))
    return events


def test_requester_reads_the_whole_stream_matching_the_pinned_result(
    served: tuple[Worker, int], chain: Chain, anvil: AnvilNode, ipfs: IpfsClient,
    deployed: Deployed,
) -> None:  # fmt: skip
    worker, model_id = served
    me = worker.sender.address
    job_id, _ = create_job(chain, deployed.market, anvil.keys[REQUESTER], model_id,
                           ipfs.add_bytes(PROMPT))  # fmt: skip
    url = _template(chain, deployed, ipfs, me).replace("{job_id}", str(job_id))
    wait_until(lambda: events_named(deployed.market, "JobClaimed"), 20, "the claim")
    # Read once the result is on-chain: every token is replayed from the first.
    wait_until(lambda: events_named(deployed.market, "ResultSubmitted"), 30, "the result")
    params = _auth(chain, deployed, anvil.keys[REQUESTER], job_id)
    with httpx.stream("GET", url, params=params, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
    *tokens, (kind, done) = events
    assert kind == "done" and tokens and all(k == "token" for k, _ in tokens)
    (submitted,) = events_named(deployed.market, "ResultSubmitted")
    cid = Cid.parse(bytes(submitted["outputCid"]))
    assert done["output_cid"] == str(cid)
    result = json.loads(ipfs.cat(cid))["result"]
    assert "".join(t["text"] for _, t in tokens) == result["text"]
    assert done["completion_tokens"] == result["completion_tokens"] > 0
    assert done["prompt_tokens"] == result["prompt_tokens"]


def test_stream_refusals_are_clear_json_errors(
    served: tuple[Worker, int], chain: Chain, anvil: AnvilNode, ipfs: IpfsClient,
    deployed: Deployed,
) -> None:  # fmt: skip
    worker, model_id = served
    job_id, _ = create_job(chain, deployed.market, anvil.keys[REQUESTER], model_id,
                           ipfs.add_bytes(PROMPT))  # fmt: skip
    template = _template(chain, deployed, ipfs, worker.sender.address)
    url = template.replace("{job_id}", str(job_id))
    wait_until(lambda: events_named(deployed.market, "JobClaimed"), 20, "the claim")
    requester = anvil.keys[REQUESTER]

    def refused(status: int, code: str, *, target: str = url, **params: str) -> None:
        response = httpx.get(target, params=params, timeout=10)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        assert "Traceback" not in response.text

    refused(401, "auth.missing")
    ok = _auth(chain, deployed, requester, job_id)
    refused(400, "request.invalid", expiry="soon", signature=ok["signature"])
    refused(401, "auth.bad_signature", expiry=ok["expiry"], signature="0x1234")
    refused(401, "auth.bad_signature", expiry=ok["expiry"], signature="0x" + "00" * 65)
    # Signed for another job, or another expiry: recovers to someone else.
    other = _auth(chain, deployed, requester, job_id + 1)
    refused(403, "auth.not_authorised", expiry=ok["expiry"], signature=other["signature"])
    stranger = Account.create().key.to_0x_hex()
    refused(403, "auth.not_authorised", **_auth(chain, deployed, stranger, job_id))
    refused(401, "auth.expired", **_auth(chain, deployed, requester, job_id, ttl=-10))
    refused(401, "auth.expiry_too_far", **_auth(chain, deployed, requester, job_id, ttl=10**6))
    # A job this worker does not hold (nobody serves sentiment here), and one that is not.
    foreign, _ = create_job(chain, deployed.market, requester, deployed.sentiment,
                            ipfs.add_bytes(SENTIMENT_INPUT))  # fmt: skip
    for unknown in (foreign, 10**9):
        refused(404, "stream.unknown_job", target=template.replace("{job_id}", str(unknown)),
                **_auth(chain, deployed, requester, unknown))  # fmt: skip
    refused(404, "not_found", target=url.replace("/stream", "/streams"), **ok)
    assert httpx.post(url, params=ok, timeout=10).status_code == 405
    huge = httpx.get(url, params=ok, headers={"X-Junk": "a" * 70_000}, timeout=10)
    assert huge.status_code == 431

    # A session signer the requester authorised reads too, until it is revoked.
    session = Account.create()
    router = deployed.market.router.functions
    expiry = chain.block_timestamp() + 3600
    chain.sender(requester).transact(router.increaseSignerCap(session.address, ETH, 1, expiry))
    signed = _auth(chain, deployed, session.key.to_0x_hex(), job_id)
    with httpx.stream("GET", url, params=signed, timeout=30) as response:
        assert response.status_code == 200
        assert _events(response)[-1][0] == "done"
    chain.sender(requester).transact(router.revokeSigner(session.address, ETH))
    refused(403, "auth.not_authorised", **signed)


def test_connections_past_the_cap_are_closed_without_a_thread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Idle (slowloris) connections hold at most ``MAX_CONNECTIONS`` threads; the next is
    closed at once, and a slot freed serves again."""
    import socket

    from inferchain.worker import stream_server
    from inferchain.worker.streams import StreamHub

    monkeypatch.setattr(stream_server, "MAX_CONNECTIONS", 2)
    server = stream_server.bind_stream_server(
        StreamHub(),
        None,
        "127.0.0.1",
        0,
        None,
        remembered=tmp_path / "port",  # type: ignore[arg-type]
    )
    server.start()
    try:
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(2)]
        idle[0].sendall(b"GET /jobs/1/str")  # a request that never completes
        extra = socket.create_connection(("127.0.0.1", server.port))
        extra.settimeout(5)
        assert extra.recv(1) == b""  # closed unanswered
        extra.close()
        for sock in idle:
            sock.close()
        wait_until(
            lambda: httpx.get(server.base_url + "/nope", timeout=5).status_code == 404,
            10, "a freed slot",
        )  # fmt: skip
    finally:
        server.stop()
