"""Read API over an indexed Anvil market: jobs, results, live events, models, workers, stats."""

from __future__ import annotations

import json
import threading
import time

import pytest
from eth_account import Account
from web3 import Web3

from inferchain.ipfs import Cid, IpfsClient
from inferchain.market.deploy import ReexecConfig
from inferchain.market.modes import REEXEC_MODE
from tests.contracts.helpers import (
    ARBITRATION_WINDOW,
    CHALLENGE_WINDOW,
    ETH,
    ETH_PRICE,
    TOKEN_PRICE,
    cid,
    job_tuple,
)
from tests.gateway.conftest import Market, bearer, index, sign_in


@pytest.fixture
def client(api):  # type: ignore[no-untyped-def]
    return api()


def test_job_list_filters_and_pages(client, market: Market) -> None:
    d = market.d
    d.tx("requester", d.token.functions.approve(d.market.address, TOKEN_PRICE))
    ids = [d.create()[0] for _ in range(3)] + [d.create(model=d.token_model)[0]]
    d.create("requester2")
    index(client)
    token = sign_in(client, d.actors.requester)
    first = client.get("/jobs", params={"limit": 2}, headers=bearer(token)).json()
    assert [j["job_id"] for j in first["items"]] == sorted(ids, reverse=True)[:2]
    rest = client.get(
        "/jobs", params={"limit": 2, "before": first["next_cursor"]}, headers=bearer(token)
    ).json()
    assert [j["job_id"] for j in rest["items"]] == sorted(ids, reverse=True)[2:] and rest[
        "next_cursor"
    ] is None
    by_model = client.get("/jobs", params={"model_id": d.token_model}, headers=bearer(token)).json()
    assert [j["job_id"] for j in by_model["items"]] == [ids[3]]
    none = client.get("/jobs", params={"status": "finalized"}, headers=bearer(token)).json()
    assert none["items"] == []
    bad = client.get("/jobs", params={"status": "bogus", "limit": 1000}, headers=bearer(token))
    assert bad.status_code == 422 and len(bad.json()["error"]["details"]) == 2


def test_jobs_are_private_to_requester_and_worker(client, market: Market) -> None:
    d = market.d
    job_id, job = d.create()
    d.claim(job_id, job)
    index(client)
    for role, status in (("requester", 200), ("worker", 200), ("requester2", 404)):
        response = client.get(
            f"/jobs/{job_id}", headers=bearer(sign_in(client, getattr(d.actors, role)))
        )
        assert response.status_code == status
    missing = client.get("/jobs/999", headers=bearer(sign_in(client, d.actors.requester)))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "job.not_found"
    assert client.get(f"/jobs/{job_id}").status_code == 401


def test_result_is_fetched_and_verified_against_the_on_chain_cid(
    client, market: Market, ipfs_api_url
) -> None:
    d = market.d
    output = json.dumps({"result": {"text": "hello"}}).encode()
    with IpfsClient(ipfs_api_url) as ipfs:
        output_cid = ipfs.add_bytes(output)
    job_id, job = d.create()
    job = d.claim(job_id, job)
    token = sign_in(client, d.actors.requester)
    index(client)
    pending = client.get(f"/jobs/{job_id}/result", headers=bearer(token))
    assert pending.status_code == 409 and pending.json()["error"]["code"] == "job.no_result"
    d.submit(job_id, job, output=output_cid.to_bytes())
    index(client)
    result = client.get(f"/jobs/{job_id}/result", headers=bearer(token))
    assert result.status_code == 200 and result.content == output
    assert result.headers["X-Inferchain-Cid"] == str(output_cid)


def report_failure(market: Market, ipfs_api_url: str, reason: str, message: str) -> tuple[int, str]:
    """A job its worker refuses as a worker does: evidence pinned, then reportFailure."""
    d = market.d
    job_id, job = d.create()
    job = d.claim(job_id, job)
    evidence = {"error": "invalid_input", "reason": reason, "message": f"{reason}: {message}"}
    with IpfsClient(ipfs_api_url) as ipfs:
        cid = ipfs.add_bytes(json.dumps({**evidence, "job_id": job_id}).encode())
    d.tx("worker", d.market.functions.reportFailure(job_id, job_tuple(job), cid.to_bytes()))
    return job_id, str(cid)


def test_result_of_a_failed_job_shows_the_workers_evidence(
    client, market: Market, ipfs_api_url
) -> None:
    job_id, evidence = report_failure(
        market, ipfs_api_url, "context_overflow", "prompt is 300 tokens; the context holds 256"
    )
    index(client)
    token = sign_in(client, market.d.actors.requester)
    response = client.get(f"/jobs/{job_id}/result", headers=bearer(token))
    error = response.json()["error"]
    assert response.status_code == 409 and error["code"] == "job.failed"
    assert "context_overflow: prompt is 300 tokens; the context holds 256" in error["message"]
    assert evidence in error["message"] and "no result yet" not in error["message"]


def test_result_of_a_failed_job_names_unreadable_evidence_by_cid(
    api, market: Market, ipfs_api_url
) -> None:
    d = market.d
    job_id, job = d.create()
    missing = cid(b"evidence nobody stored")
    d.tx(
        "worker", d.market.functions.reportFailure(job_id, job_tuple(d.claim(job_id, job)), missing)
    )
    cancelled, created = d.create()
    d.tx("requester", d.market.functions.cancel(cancelled, job_tuple(created)))
    client = api()
    index(client)
    token = sign_in(client, d.actors.requester)
    failed = client.get(f"/jobs/{job_id}/result", headers=bearer(token)).json()["error"]
    assert failed["code"] == "job.failed" and str(Cid.parse(missing)) in failed["message"]
    ended = client.get(f"/jobs/{cancelled}/result", headers=bearer(token)).json()["error"]
    assert ended["code"] == "job.no_result" and "ended cancelled" in ended["message"]


def test_result_missing_from_ipfs_times_out(api, market: Market) -> None:
    client = api(ipfs_timeout_s=1)
    d = market.d
    job_id, job = d.create()
    d.submit(job_id, d.claim(job_id, job))  # a CID nobody stored
    index(client)
    response = client.get(
        f"/jobs/{job_id}/result", headers=bearer(sign_in(client, d.actors.requester))
    )
    assert response.status_code == 504 and response.json()["error"]["code"] == "ipfs.timeout"


def read_events(client, job_id: int, token: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    events = []
    with client.stream("GET", f"/jobs/{job_id}/events", headers=bearer(token)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    return events


def test_events_stream_follows_the_job_until_it_settles(client, market: Market) -> None:
    d = market.d
    job_id, job = d.create()
    index(client)
    token = sign_in(client, d.actors.requester)

    def cancel_later() -> None:
        time.sleep(0.7)
        d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job)))
        index(client)

    worker = threading.Thread(target=cancel_later)
    worker.start()
    events = read_events(client, job_id, token)
    worker.join()
    assert [e["status"] for e in events] == ["open", "cancelled"]


def test_events_follow_a_job_the_index_does_not_have_yet(client, market: Market) -> None:
    d = market.d
    job_id, job = d.create()  # mined; the index has not seen it (and will not: no indexer)
    token = sign_in(client, d.actors.requester)
    stranger = client.get(
        f"/jobs/{job_id}/events", headers=bearer(sign_in(client, d.actors.requester2))
    )
    assert stranger.status_code == 404

    def cancel_later() -> None:
        time.sleep(0.7)
        d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job)))

    canceller = threading.Thread(target=cancel_later)
    canceller.start()
    events = read_events(client, job_id, token)
    canceller.join()
    assert [e["status"] for e in events] == ["open", "cancelled"]
    assert events[0]["requester"] == d.addr("requester") and events[0]["price"] == str(ETH_PRICE)
    assert events[0]["status_deadline"] == events[0]["request_deadline"]
    index(client)  # the index agrees with what the chain said
    indexed = client.get(f"/jobs/{job_id}", headers=bearer(token)).json()
    assert {k: indexed[k] for k in events[-1]} == events[-1]


def test_events_of_a_settled_job_end_at_once(client, market: Market) -> None:
    d = market.d
    job_id, job = d.create()
    d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job)))
    index(client)
    token = sign_in(client, d.actors.requester)
    assert [e["status"] for e in read_events(client, job_id, token)] == ["cancelled"]
    unknown = client.get("/jobs/4242/events", headers=bearer(token))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "job.not_found"


def test_models_workers_and_stats(client, market: Market) -> None:
    d = market.d
    job_id, job = d.create()
    job = d.submit(job_id, d.claim(job_id, job))
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    d.finalize(job_id, job)
    d.create()
    index(client)
    models = client.get("/models").json()
    eth_model = next(m for m in models if m["model_id"] == d.eth_model)
    assert eth_model["price"] == str(ETH_PRICE) and eth_model["task_kind"] == "text-generation"
    assert set(eth_model["workers"]) == {d.addr("worker"), d.addr("worker2")}
    assert client.get(f"/models/{d.eth_model}").json() == eth_model
    assert client.get("/models", params={"task_kind": "image"}).json() == []
    assert client.get("/models/77").status_code == 404
    worker = client.get(f"/workers/{d.addr('worker').lower()}").json()
    assert worker["jobs_finalized"] == 1 and worker["success_rate"] == 1.0
    assert worker["jobs_timed_out"] == worker["jobs_reported_failed"] == 0
    assert worker["models"] == [d.eth_model, d.token_model]
    reg = d.workers.functions
    stake, allocated = reg.stakeOf(d.addr("worker"), ETH).call()
    eth_stakes = [s for s in worker["stakes"] if s["token"] == ETH]
    assert stake > 0 and eth_stakes == [
        {"token": ETH, "stake": str(stake), "allocated": str(allocated), "slashed_total": "0"}
    ]
    allocation = reg.allocationOf(d.addr("worker"), ETH, d.market.address).call()
    eth_allocations = [a for a in worker["allocations"] if a["token"] == ETH]
    assert allocation > 0 and eth_allocations == [
        {"token": ETH, "venue": d.market.address, "amount": str(allocation), "force_at": None}
    ]
    token = bearer(sign_in(client, d.actors.requester))
    detail = client.get(f"/jobs/{job_id}", headers=token).json()
    assert detail["collateral"] == str(job["terms"]["collateral"]) and detail["collateral"] != "0"
    assert client.get("/workers/0x" + "00" * 20).status_code == 404
    assert client.get("/workers/not-an-address").status_code == 422
    assert len(client.get("/workers", params={"model_id": d.eth_model}).json()) == 2
    stats = client.get("/stats").json()
    assert stats["jobs_by_status"] == {"finalized": 1, "open": 1} and stats["jobs_total"] == 2
    assert stats["volume_by_token"] == {ETH: str(ETH_PRICE)} and stats["workers_registered"] == 2
    stakes = sum(reg.stakeOf(d.addr(w), ETH).call()[0] for w in ("worker", "worker2"))
    assert stats["stake_by_token"][ETH] == str(stakes)


def test_model_tiers_quote_each_modes_fee_and_settlement(client, market: Market) -> None:
    """Mode 0 (ManualArbiter) settles after its challenge window for no fee; a mode whose
    module quotes a fee and checks results at submission pays at once, for that fee."""
    d = market.d
    fee = 10**13
    module = d.chain.sender(d.actors.owner).deploy(
        "MockVerifier",
        CHALLENGE_WINDOW,
        ARBITRATION_WINDOW,
        1 | 2,  # QUOTE | ON_SUBMIT
    )
    d.tx("owner", module.functions.setFee(fee))
    d.govern(d.governor.functions.registerMode(d.market.address, 1, module.address))
    index(client)
    tiers = client.get(f"/models/{d.eth_model}/tiers").json()
    assert [(t["mode"], t["available"], t["verify_fee"], t["settles_after_s"]) for t in tiers] == [
        (0, True, "0", CHALLENGE_WINDOW),
        (1, False, str(fee), 0),  # registered, not enabled yet
    ]
    assert tiers[1]["note"] == "disabled on this market"
    d.govern(d.governor.functions.setModeEnabled(d.market.address, 1, True))
    assert client.get(f"/models/{d.eth_model}/tiers").json()[1]["available"] is True
    assert client.get("/models/77/tiers").status_code == 404

    # Mode 2, ReexecVerifier: quoted k times the fee per verifier once its pool can seat a
    # committee; until then unavailable, and why.
    reexec = ReexecConfig(challenge_window=CHALLENGE_WINDOW)
    module = d.chain.sender(d.actors.owner).deploy(
        "ReexecVerifier", d.workers.address, reexec.params()
    )
    d.govern(d.governor.functions.registerMode(d.market.address, REEXEC_MODE, module.address))
    d.govern(d.governor.functions.setModeEnabled(d.market.address, REEXEC_MODE, True))
    third = client.get(f"/models/{d.eth_model}/tiers").json()[2]
    assert (third["mode"], third["available"], third["verify_fee"]) == (REEXEC_MODE, False, "0")
    assert third["note"].startswith("the verifier pool has 0 members, 5 needed")
    for i in range(5):
        key = "0x" + Web3.keccak(text=f"tiers verifier {i}").hex().removeprefix("0x")
        address = Account.from_key(key).address
        d.chain.w3.provider.make_request("anvil_setBalance", [address, hex(10**21)])  # type: ignore[arg-type]
        d.chain.sender(key).transact(module.functions.join(), value=reexec.min_bond)
    third = client.get(f"/models/{d.eth_model}/tiers").json()[2]
    fee = str(reexec.committee_size * reexec.fee_per_verifier)
    assert (third["available"], third["verify_fee"], third["settles_after_s"]) == (
        True, fee, CHALLENGE_WINDOW,
    )  # fmt: skip


def test_background_indexer_thread_picks_up_jobs(api, market: Market) -> None:
    client = api(run_indexer=True, index_poll_s=0.1)
    d = market.d
    job_id, _ = d.create()
    token = sign_in(client, d.actors.requester)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if client.get(f"/jobs/{job_id}", headers=bearer(token)).status_code == 200:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the indexer thread never indexed the job")
    assert client.get("/health").json()["indexer_running"] is True
    assert "inferchain_indexer_block" in client.get("/metrics").text


def test_indexer_service_waits_out_an_unreachable_chain_then_indexes(
    market: Market, sessions, tmp_path
) -> None:
    """The gateway starts while the chain is down: the indexer retries, then indexes."""
    from inferchain.chain import ChainError
    from inferchain.gateway.db.models import Checkpoint
    from inferchain.gateway.indexer.service import IndexerService
    from inferchain.gateway.metrics import GatewayMetrics
    from tests.gateway.conftest import gateway_settings

    attempts = []

    def contracts():  # type: ignore[no-untyped-def]
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise ChainError("connection refused")
        return market.contracts

    settings = gateway_settings(
        tmp_path, index_poll_s=0.05, deployment_block=market.deployment_block
    )
    service = IndexerService(settings, contracts, sessions, GatewayMetrics())
    service.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with sessions() as session:
                if session.query(Checkpoint).count():
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("the indexer never indexed after the chain came back")
        assert service.running and service.failure is None
        assert len(attempts) == 3  # connected once the chain answered, and kept the connection
    finally:
        service.stop(timeout=10.0)
    assert not service.running


def test_the_none_tier_quotes_its_dispute_cost(api, market: Market, anvil) -> None:
    """A default deployment's mode 0 (`none`): a CommitteeArbiter, whose dispute costs the
    bond (the market's bps of the price) and the committee's fee; until the pool can seat a
    committee the quote says no dispute could be judged."""
    from inferchain.market import MarketConfig, ModelSpec, deploy_market

    court = deploy_market(market.d.chain, anvil.keys[0], MarketConfig(), reexec=True)
    assert court.reexec is not None
    spec = ModelSpec(Cid.parse(cid("court model")), b"\x01" * 32, "text-generation", ETH_PRICE, 0)
    market.d.chain.sender(anvil.keys[1]).transact(
        court.models.functions.registerModel(spec.as_abi())
    )
    client = api(market_address=court.jobs.address, deployment_block=court.addresses.deployed_block)
    index(client)
    none = client.get("/models/1/tiers").json()[0]
    reexec = ReexecConfig()
    fee = reexec.committee_size * reexec.fee_per_verifier
    bond = ETH_PRICE * MarketConfig().dispute_bond_bps // 10_000
    assert (none["mode"], none["name"], none["available"], none["verify_fee"]) == (
        0, "none", True, "0",
    )  # fmt: skip
    assert (none["disputes"], none["dispute_bond"], none["dispute_fee"]) == (
        "committee", str(bond), str(fee),
    )  # fmt: skip
    assert none["dispute_bond_bps"] == MarketConfig().dispute_bond_bps
    assert "the pool has 0 members, 5 needed" in none["note"]
    for i in range(5):
        key = "0x" + Web3.keccak(text=f"court verifier {i}").hex().removeprefix("0x")
        address = Account.from_key(key).address
        market.d.chain.w3.provider.make_request("anvil_setBalance", [address, hex(10**21)])  # type: ignore[arg-type]
        market.d.chain.sender(key).transact(court.reexec.functions.join(), value=reexec.min_bond)
    note = client.get("/models/1/tiers").json()[0]["note"]
    assert note.startswith("optimistic, unless disputed: a dispute is judged by 3 verifiers")
    assert "needed" not in note
