"""The whole path for a Hugging Face model: import-hf, publish to the real IPFS node,
register on Anvil, a real Worker runs a chat job, and the pinned result re-verifies from
the bundle the chain names."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from inferchain.bundle import BundleCache, InvalidInput, ipfs_fetcher, publish_bundle
from inferchain.bundle.hf_import import import_hf
from inferchain.bundle.precheck import fetch_model_limits
from inferchain.chain import Chain
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ModelSpec
from inferchain.worker import Worker
from inferchain.worker.runtimes import infer, load_runtime, outputs_agree
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    PRICE,
    PROVIDER,
    REQUESTER,
    ROYALTY_BPS,
    WORKER_KEYS,
    Deployed,
    create_job,
    events_named,
    settings,
    wait_until,
)
from tests.worker.runtimes.hf_tiny import save_model

CHAT_INPUT = {
    "messages": [{"role": "user", "content": "hello world"}],
    "max_new_tokens": 8,
    "temperature": 0.8,
    "seed": 11,
}


def test_imported_hf_model_runs_on_a_worker_and_its_result_verifies(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    bundle = import_hf(save_model(tmp_path / "src", "qwen2"), tmp_path / "bundle")
    published = publish_bundle(ipfs, bundle.path)
    spec = ModelSpec(
        Cid.parse(published.cid),
        bytes.fromhex(published.manifest_sha256),
        "text-generation",
        PRICE,
        ROYALTY_BPS,
    )
    market = deployed.market
    chain.sender(anvil.keys[PROVIDER]).transact(
        market.models.functions.registerModel(spec.as_abi())
    )
    model_id = int(chain.call(market.models.functions.modelCount()))
    # the gateway's precheck reads the same limits from IPFS and refuses before any job
    limits = fetch_model_limits(ipfs, published.cid, published.manifest_sha256)
    too_long = {"prompt": "hello world " * 40, "max_new_tokens": 8}
    with pytest.raises(InvalidInput, match="context holds 64 tokens"):
        limits.check(json.dumps(too_long).encode(), model=f"model {model_id}")
    limits.check(json.dumps(CHAT_INPUT).encode(), model=f"model {model_id}")

    key = anvil.keys[WORKER_KEYS[0]]
    s = settings(anvil.rpc_url, ipfs_api_url, key, tmp_path / "w", models=[model_id],
                 max_wait_s=0.02)  # fmt: skip
    worker = Worker(s, market.addresses, register=True)
    worker.start()
    try:
        input_cid = ipfs.add_bytes(json.dumps(CHAT_INPUT).encode())
        job_id, _ = create_job(chain, market, anvil.keys[REQUESTER], model_id, input_cid)
        wait_until(lambda: events_named(market, "ResultSubmitted"), 60, "the result")
    finally:
        worker.stop()
    assert worker.failure is None
    (event,) = events_named(market, "ResultSubmitted")
    assert event["jobId"] == job_id
    output = ipfs.cat(Cid.parse(bytes(event["outputCid"])))
    assert hashlib.sha256(output).digest() == bytes(event["outputHash"])
    doc = json.loads(output)
    assert doc["task"] == "text-generation"
    assert doc["model"]["manifest_sha256"] == published.manifest_sha256
    assert 0 < doc["result"]["completion_tokens"] <= 8

    # a verifier: the bundle by the CID and manifest hash on-chain, the same job re-run
    cid = Cid.parse(bytes(chain.call(market.models.functions.bundleCid(model_id))))
    manifest_sha256 = bytes(chain.call(market.models.functions.model(model_id))[7]).hex()
    cache = BundleCache(tmp_path / "verifier", max_bytes=1 << 30, fetch=ipfs_fetcher(ipfs))
    fetched = cache.get(str(cid), expected_manifest_sha256=manifest_sha256)
    (again,) = infer(load_runtime(fetched, "cpu"), [json.dumps(CHAT_INPUT).encode()])
    assert again.to_bytes() == output
    assert outputs_agree(again.to_bytes(), output)
