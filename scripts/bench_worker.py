#!/usr/bin/env python3
"""Marketplace overhead and throughput of worker nodes on a local Anvil + IPFS.

    python scripts/bench_worker.py              # 200 jobs; 1 and 4 workers; batching on/off
    python scripts/bench_worker.py --jobs 100 --json

For each configuration a fresh market is deployed with the `sentiment-bow` demo model, the
workers start (in this process, one thread each), and one requester (another process)
creates the jobs back to back. A watcher polls `ResultSubmitted` logs every 10 ms. Per job,
overhead = (result seen on-chain - job created) - the average model time per job measured
by the workers' runtime (batch time / batch size);
jobs/s = jobs / (last result seen - first job created).
"Without batching" means max batch size 1 and one transaction per claim and per submit.
"Fast path on" means a short job is run before it is claimed and submitted on Open (claim and
submit in one transaction; `fast_path_max_s` 2 s); "off" claims first (the long-job shape).
Anvil automines (one block per transaction).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import threading
import time
from pathlib import Path

import torch

from inferchain.bundle import publish_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.chain import Chain
from inferchain.devstack import dev_private_keys, scratch_stack
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import (
    JobRequest,
    MarketConfig,
    ModelSpec,
    decode_logs,
    deploy_market,
)
from inferchain.worker import Worker, WorkerSettings

OWNER, TREASURY, PROVIDER, REQUESTER = 0, 1, 2, 3
PRICE = 10**15


def create_jobs(
    rpc_url: str, key: str, market_address: str, inputs: list[bytes], jobs: int, rate: float
) -> dict[int, float]:
    """The requester, in its own process: job id -> wall time created.

    Sent from Anvil's unlocked dev account with a fixed gas limit (automine mines each
    before answering), so the requester is not what limits the measured throughput.
    """
    chain = Chain(rpc_url)
    market = chain.contract("JobMarket", market_address)
    requester = chain.sender(key).address
    first = int(chain.call(market.functions.nextJobId()))
    deadline = chain.block_timestamp() + 3600
    created = {}
    start = time.time()
    for i in range(jobs):
        if rate > 0:  # paced arrivals: job i not before start + i / rate
            time.sleep(max(0.0, start + i / rate - time.time()))
        request = JobRequest(1, inputs[i % len(inputs)], PRICE, deadline, 600)
        market.functions.createJob(requester, request.as_abi()).transact(
            {"from": requester, "value": PRICE, "gas": 400_000}
        )
        created[first + i] = time.time()
    return created


def run_config(
    chain: Chain, ipfs_url: str, bundle: tuple[Cid, bytes], inputs: list[Cid], *,
    jobs: int, workers: int, batching: bool, state_dir: Path, rate: float = 0.0,
    fast_path: bool = True,
) -> dict[str, float]:  # fmt: skip
    keys = dev_private_keys(4 + workers)
    market = deploy_market(chain, keys[OWNER], MarketConfig(disputes="manual"))
    spec = ModelSpec(bundle[0], bundle[1], "text-classification", PRICE, 500)
    chain.sender(keys[PROVIDER]).transact(market.models.functions.registerModel(spec.as_abi()))
    nodes = []
    for i in range(workers):
        settings = WorkerSettings(
            rpc_url=chain.rpc_url, ipfs_api_url=ipfs_url, private_key=keys[4 + i],
            state_dir=state_dir / f"{workers}-{batching}-{fast_path}-{rate}-{i}", models=[1],
            device="cpu", fast_path_max_s=2.0 if fast_path else 0.0,
            inference_batch_size=16 if batching else 1, batch_transactions=batching,
            max_wait_s=0.02, poll_interval_s=0.02, max_in_flight=64, finalize=False,
            stake={"eth": 10**18},  # collateral for 1,000 jobs at PRICE in flight
        )  # fmt: skip
        nodes.append(Worker(settings, market.addresses, register=True))
    for node in nodes:
        node.start()

    seen: dict[int, float] = {}
    start_block = chain.w3.eth.block_number + 1
    done = threading.Event()

    def watch() -> None:
        event = market.jobs.events.ResultSubmitted()
        topic = event.topic if hasattr(event, "topic") else None
        next_block = start_block
        while not done.is_set():
            head = chain.w3.eth.block_number
            if head >= next_block:
                logs = chain.w3.eth.get_logs(
                    {"address": market.jobs.address, "fromBlock": next_block, "toBlock": head}
                    | ({"topics": [topic]} if topic else {})
                )
                now = time.time()
                for e in decode_logs(market.jobs, logs):
                    if e["event"] == "ResultSubmitted":
                        seen.setdefault(e["args"]["jobId"], now)
                next_block = head + 1
                if len(seen) >= jobs:
                    return
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        created = pool.apply(
            create_jobs,
            (chain.rpc_url, keys[REQUESTER], market.jobs.address, [c.to_bytes() for c in inputs],
             jobs, rate),
        )  # fmt: skip
    watcher.join(timeout=300)
    done.set()
    for node in nodes:
        node.stop()
    if len(seen) < jobs:
        raise SystemExit(f"only {len(seen)} of {jobs} results arrived")
    model_s = sum(n.metrics.inference_s._sum.get() for n in nodes) / jobs
    overhead = sorted(seen[j] - created[j] - model_s for j in created)
    wall = max(seen.values()) - min(created.values())
    return {
        "workers": workers,
        "batching": batching,
        "fast_path": fast_path,
        "arrivals_per_s": rate or "burst",
        "jobs": jobs,
        "jobs_per_s": round(jobs / wall, 1),
        "overhead_p50_ms": round(1000 * statistics.median(overhead), 1),
        "overhead_p99_ms": round(1000 * overhead[min(len(overhead) - 1, int(0.99 * jobs))], 1),
        "model_ms_per_job": round(1000 * model_s, 3),
        "requester_jobs_per_s": round(jobs / (max(created.values()) - min(created.values())), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", default="1,4", help="comma-separated worker counts")
    parser.add_argument(
        "--rates", default="0,10", help="requester jobs/s per run; 0 = as fast as it can"
    )
    parser.add_argument(
        "--fast-path", default="on,off", help="comma-separated: on (submit on Open), off"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with scratch_stack(root) as (anvil, ipfs_node):
            chain = Chain(anvil.url)
            ipfs = IpfsClient(ipfs_node.url)
            published = publish_bundle(ipfs, demo_bundle_path("sentiment-bow"))
            bundle = (Cid.parse(published.cid), bytes.fromhex(published.manifest_sha256))
            texts = [f"review {i}: a {'fine' if i % 2 else 'dull'} film" for i in range(20)]
            inputs = [ipfs.add_bytes(json.dumps({"text": t}).encode()) for t in texts]
            results = []
            configs = [
                (float(rate), int(workers), batching, fast == "on")
                for rate in args.rates.split(",")
                for workers in args.workers.split(",")
                for batching in (True, False)
                for fast in args.fast_path.split(",")
            ]
            for rate, workers, batching, fast in configs:
                result = run_config(
                    chain, ipfs_node.url, bundle, inputs, jobs=args.jobs, workers=workers,
                    batching=batching, state_dir=root / "state", rate=rate, fast_path=fast,
                )  # fmt: skip
                results.append(result)
                if not args.json:
                    print(
                        f"arrivals {rate or 'burst':>5}/s, {workers} worker(s), batching "
                        f"{'on ' if batching else 'off'}, fast path {'on ' if fast else 'off'}: "
                        f"{result['jobs_per_s']:6.1f} jobs/s, overhead p50 "
                        f"{result['overhead_p50_ms']:7.1f} ms, p99 "
                        f"{result['overhead_p99_ms']:7.1f} ms "
                        f"(model {result['model_ms_per_job']} ms/job; requester created "
                        f"{result['requester_jobs_per_s']} jobs/s)",
                        flush=True,
                    )
            if args.json:
                print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
