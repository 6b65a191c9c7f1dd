#!/usr/bin/env python3
"""Latency of the OpenAI-compatible API on a local stack it starts: Anvil, IPFS, a worker
process serving tiny-gpt, a gateway process, and the official ``openai`` client.

    python scripts/bench_openai.py                     # defaults of worker and gateway
    python scripts/bench_openai.py --worker-poll-s 0.02 --index-poll-s 0.1 --json

Figures (one ``key value`` line each, milliseconds, p50 over the requests):

- ``ttft_p50_ms``: ``stream=True``, request sent → first text chunk (64 tokens asked);
- ``stream_open_p50_ms``: request sent → response headers (the job is created and paid);
- ``completion_p50_ms``: non-streaming, 64 tokens;
- the same with 8 concurrent clients (``…_c8``).

Anvil automines (one block per transaction, no block time). The streaming path reads the
chain (JobClaimed) and the worker directly; the non-streaming path waits for the indexer
(``--index-poll-s``) and polls its database every 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import openai
from eth_account import Account
from eth_account.messages import encode_defunct

from inferchain.bundle import publish_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.chain import Chain
from inferchain.devstack import dev_private_keys, free_port, scratch_stack
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH, MarketConfig, ModelSpec, deploy_market

OWNER, PROVIDER, REQUESTER, WORKER, RELAYER = 0, 2, 3, 4, 5
PRICE = 10**12
PROMPT = "Once upon a time"
TOKENS = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10, help="sequential requests per figure")
    parser.add_argument("--rounds", type=int, default=3, help="requests per client with 8 clients")
    parser.add_argument("--worker-poll-s", type=float, default=None, help="[worker default]")
    parser.add_argument("--index-poll-s", type=float, default=None, help="[gateway default]")
    parser.add_argument("--logs", type=Path, help="copy the worker's and gateway's logs here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with scratch_stack(root) as (anvil, ipfs_node):
            procs: list[subprocess.Popen[bytes]] = []
            try:
                results = _bench(args, root, anvil.url, ipfs_node.url, procs)
            finally:
                for proc in procs:
                    proc.terminate()
                    proc.wait(30)
                if args.logs is not None:
                    args.logs.mkdir(parents=True, exist_ok=True)
                    for log in ("worker.log", "gateway.log"):
                        shutil.copy(root / log, args.logs / log)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key} {value}")


def _bench(
    args: argparse.Namespace, root: Path, rpc: str, ipfs_url: str, procs: list
) -> dict[str, object]:
    keys = dev_private_keys(6)
    accounts = [Account.from_key(k).address for k in keys]
    chain = Chain(rpc)
    market = deploy_market(chain, keys[OWNER], MarketConfig(disputes="manual"))
    with IpfsClient(ipfs_url) as ipfs:
        published = publish_bundle(ipfs, demo_bundle_path("tiny-gpt"))
    spec = ModelSpec(
        Cid.parse(published.cid), bytes.fromhex(published.manifest_sha256), "text-generation",
        PRICE, 500,
    )  # fmt: skip
    chain.sender(keys[PROVIDER]).transact(market.models.functions.registerModel(spec.as_abi()))
    addresses = root / "market.json"
    addresses.write_text(json.dumps(market.addresses.to_dict()))
    worker_env = {
        "RPC_URL": rpc, "IPFS_API_URL": ipfs_url, "PRIVATE_KEY": keys[WORKER],
        "STATE_DIR": str(root / "worker"), "MARKET_ADDRESSES_FILE": str(addresses),
        "MODELS": "[1]", "DEVICE": "cpu", "FINALIZE": "false",
        "STAKE": '{"eth": 10000000000000000000}',  # staked and allocated: jobs' collateral
    }  # fmt: skip
    if args.worker_poll_s is not None:
        worker_env["POLL_INTERVAL_S"] = str(args.worker_poll_s)
    procs.append(
        _spawn(
            [sys.executable, "-m", "inferchain.worker", "run", "--register", "--text-logs"],
            {f"INFERCHAIN_WORKER_{k}": v for k, v in worker_env.items()},
            root / "worker.log",
        )
    )
    port = free_port()
    gateway_env = {
        "RPC_URL": rpc, "IPFS_API_URL": ipfs_url, "MARKET_ADDRESS": market.jobs.address,
        "DEPLOYMENT_BLOCK": str(market.addresses.deployed_block), "RELAYER_KEY": keys[RELAYER],
        "DATABASE_URL": f"sqlite:///{root / 'gateway.db'}", "RATE_PER_MINUTE": "100000",
        "RATE_BURST": "10000",
    }  # fmt: skip
    if args.index_poll_s is not None:
        gateway_env["INDEX_POLL_S"] = str(args.index_poll_s)
    run = "from inferchain.cli.gateway import app; app()"
    procs.append(
        _spawn(
            [sys.executable, "-c", run, "run", "--host", "127.0.0.1", "--port", str(port)],
            {f"INFERCHAIN_GATEWAY_{k}": v for k, v in gateway_env.items()},
            root / "gateway.log",
        )
    )
    url = f"http://127.0.0.1:{port}"
    token = _pay(chain, market, url, keys[REQUESTER], jobs=1000)
    oa = openai.OpenAI(base_url=f"{url}/v1", api_key=token, max_retries=0, timeout=120)
    _wait(lambda: "inferchain-1" in [m.id for m in oa.models.list()], 120, "model indexed")
    _wait(lambda: _worker_announced(chain, market, accounts[WORKER]), 120, "worker ready")
    _stream(oa), _complete(oa)  # warm-up: model loaded, caches filled

    results: dict[str, object] = {}
    for suffix, clients, rounds in (("", 1, args.requests), ("_c8", 8, args.rounds)):
        streamed = _run(clients, rounds, lambda: _stream(oa))
        completed = _run(clients, rounds, lambda: _complete(oa))
        results[f"ttft_p50_ms{suffix}"] = _p50([s[1] for s in streamed])
        results[f"stream_open_p50_ms{suffix}"] = _p50([s[0] for s in streamed])
        results[f"completion_p50_ms{suffix}"] = _p50(completed)
    results["requests"] = args.requests
    results["c8_requests"] = 8 * args.rounds
    return results


def _spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            cmd, env={**os.environ, "OMP_NUM_THREADS": "1", **env}, stdout=sink,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def _pay(chain: Chain, market, url: str, key: str, jobs: int) -> str:  # type: ignore[no-untyped-def]
    """Sign in, deposit and authorise the gateway's session signer for ``jobs`` prices."""
    _wait(lambda: _answers(url), 60, "gateway up")
    address = Account.from_key(key).address
    with httpx.Client(base_url=url, timeout=30) as http:
        message = http.post("/auth/nonce", json={"address": address}).json()["message"]
        signature = Account.sign_message(encode_defunct(text=message), key).signature.to_0x_hex()
        verify = {"message": message, "signature": signature}
        token = http.post("/auth/verify", json=verify).json()["token"]
        sender = chain.sender(key)
        sender.transact(market.jobs.functions.deposit(ETH, jobs * PRICE), value=jobs * PRICE)
        headers = {"Authorization": f"Bearer {token}"}
        tx = http.post("/v1/signers", json={"cap": str(jobs * PRICE)}, headers=headers).json()
    call = tx["transaction"]
    receipt = chain.w3.eth.wait_for_transaction_receipt(
        chain.w3.eth.send_transaction(
            {"from": address, "to": call["to"], "data": call["data"], "value": int(call["value"])}
        )
    )
    assert receipt["status"] == 1, "authorising the session signer failed"
    return str(token)


def _worker_announced(chain: Chain, market, worker: str) -> bool:  # type: ignore[no-untyped-def]
    return bytes(chain.call(market.workers.functions.metadataDigest(worker))) != bytes(32)


def _stream(oa: openai.OpenAI) -> tuple[float, float]:
    """(ms to response headers, ms to the first text chunk)."""
    started = time.perf_counter()
    stream = oa.completions.create(
        model="inferchain-1", prompt=PROMPT, max_tokens=TOKENS, stream=True
    )
    opened = time.perf_counter()
    first = None
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].text:
            first = time.perf_counter()
    assert first is not None, "no text streamed"
    return (opened - started) * 1000, (first - started) * 1000


def _complete(oa: openai.OpenAI) -> float:
    started = time.perf_counter()
    answer = oa.completions.create(model="inferchain-1", prompt=PROMPT, max_tokens=TOKENS)
    assert answer.choices[0].text
    return (time.perf_counter() - started) * 1000


def _run(clients: int, rounds: int, call: Callable[[], object]) -> list:
    """``clients`` threads, each making ``rounds`` calls back to back; every result."""
    results: list = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(rounds):
            value = call()
            with lock:
                results.append(value)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _p50(values: list[float]) -> int:
    return round(statistics.median(values))


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


if __name__ == "__main__":
    main()
