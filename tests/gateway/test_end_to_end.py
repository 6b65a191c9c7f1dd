"""Issue 6's end to end: submit through the gateway → a real worker runs the job → the
indexed result is visible through the read API and downloads verified against the CID."""

from __future__ import annotations

import json
import time
from pathlib import Path

from inferchain.chain import Chain
from inferchain.demo import DEMO_MODELS
from inferchain.demo.wallet import fresh_wallet
from inferchain.ipfs import Cid, verify_bytes
from inferchain.wallet import MarketClient
from tests.conftest import AnvilNode
from tests.demo.helpers import FAUCET, WORKER, deploy_demo, gateway_client, running_worker
from tests.gateway.conftest import bearer, send_prepared, sign_in


def test_submit_worker_runs_indexed_result_visible_and_verified(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> None:
    demo = deploy_demo(chain, anvil, ipfs_api_url, tmp_path / "deployments", DEMO_MODELS[1:3])
    wallet = fresh_wallet(chain, anvil.keys[FAUCET], tmp_path / "wallet.json", 10**17)
    digits, sentiment = demo.models["image-classification"], demo.models["text-classification"]
    with (
        running_worker(anvil, ipfs_api_url, demo, tmp_path / "worker"),
        gateway_client(tmp_path, anvil, ipfs_api_url, demo) as client,
    ):
        auth = bearer(sign_in(client, wallet.key))
        array = {"array": [[0.0] * 8 for _ in range(8)]}
        job_ids = []
        for model_id, job_input in ((sentiment, {"text": "a wonderful film"}), (digits, array)):
            prepared = client.post("/jobs", json={"model_id": model_id, "input": job_input},
                                   headers=auth)  # fmt: skip
            assert prepared.status_code == 200, prepared.text
            (tx,) = prepared.json()["transactions"]
            receipt = send_prepared(chain, wallet.key, tx)
            created = demo.market.jobs.events.JobCreated().process_receipt(receipt)
            job_ids.append(int(created[0]["args"]["jobId"]))

        details = {job_id: _wait_for_result(client, auth, job_id) for job_id in job_ids}
        listed = client.get("/jobs", headers=auth).json()["items"]
        downloads = {job_id: client.get(f"/jobs/{job_id}/result", headers=auth)
                     for job_id in job_ids}  # fmt: skip
        stranger = client.get(f"/jobs/{job_ids[0]}/result",
                              headers=bearer(sign_in(client, anvil.keys[8])))  # fmt: skip

    assert sorted(j["job_id"] for j in listed) == sorted(job_ids)
    reader = MarketClient(demo.market)
    for job_id, detail in details.items():
        record = reader.job(job_id)
        onchain = Cid.parse(record.output_cid)  # type: ignore[arg-type]
        assert Cid.parse(detail["output_cid"]) == onchain
        assert detail["status"] == "submitted" and detail["worker"] == anvil.accounts[WORKER]
        events = [e["event"] for e in detail["timeline"]]
        assert events[0] == "JobCreated" and "ResultSubmitted" in events
        download = downloads[job_id]
        assert download.status_code == 200
        assert Cid.parse(download.headers["X-Inferchain-Cid"]) == onchain
        verify_bytes(onchain, download.content)  # the bytes the worker committed to
    outputs = [json.loads(downloads[j].content) for j in job_ids]
    assert [o["task"] for o in outputs] == ["text-classification", "image-classification"]
    assert outputs[0]["result"]["label"] == "positive"
    assert stranger.status_code == 404  # a job is visible to its requester and worker only


def _wait_for_result(client, auth: dict[str, str], job_id: int) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.get(f"/jobs/{job_id}", headers=auth)
        if response.status_code == 200 and response.json()["output_cid"]:
            return response.json()
        time.sleep(0.1)
    raise AssertionError(f"job {job_id}'s result was not indexed within 60s")
