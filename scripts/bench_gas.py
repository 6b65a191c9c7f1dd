#!/usr/bin/env python3
"""Gas benchmark of the contracts: every call, one full lifecycle and a batch of 20 jobs.

    .venv/bin/python scripts/bench_gas.py            # start a private Anvil, print, update snapshot
    .venv/bin/python scripts/bench_gas.py --check    # also fail when a target is missed
    .venv/bin/python scripts/bench_gas.py --rpc-url http://127.0.0.1:8545 --no-write

Caps of issue 12 (Anvil's default hardfork): one paid lifecycle (create + submit on Open,
which claims in the same transaction, + finalize; steady state: the second job) <= 215,000
gas, aim 200,000; a batch of 20 jobs created by batched signed requests, submitted on Open
and finalized in batches <= 95,000 gas per job, aim 90,000. The claim-first lifecycle of
long jobs (create + claim + submit + finalize) is printed for reference, uncapped.
Writes docs/gas-snapshot.json (with the contracts' runtime sizes) so that a reviewer can
diff figures between commits.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the measuring code lives with the contract tests

from inferchain.chain import Chain  # noqa: E402
from inferchain.devstack import dev_private_keys, free_port, start_anvil  # noqa: E402
from inferchain.solidity.config import EVM_VERSION, OPTIMIZER_RUNS, SOLC_VERSION  # noqa: E402
from tests.contracts import gas  # noqa: E402
from tests.contracts.helpers import (  # noqa: E402
    Deployment,
    deploy,
    event,
    job_from_created,
    request_tuple,
)
from tests.contracts.test_contract_sizes import PRODUCTION, SIZES  # noqa: E402

SNAPSHOT = ROOT / "docs" / "gas-snapshot.json"


def measure(rpc_url: str) -> dict[str, object]:
    chain = Chain(rpc_url)
    d = deploy(chain, list(dev_private_keys()))
    first = gas.lifecycle(d)  # pays the one-time zero-to-nonzero writes
    steady = gas.lifecycle(d)
    claim_first = gas.lifecycle_claim_first(d)
    gas.batch(d, nonce_base=0)  # warms the requester's nonce word
    batched = gas.batch(d, nonce_base=gas.BATCH_SIZE)
    node = chain.w3.provider.make_request("anvil_nodeInfo", [])  # type: ignore[arg-type]
    return {
        "compiler": {
            "solc": SOLC_VERSION,
            "evmVersion": EVM_VERSION,
            "optimizerRuns": OPTIMIZER_RUNS,
        },
        "hardfork": node.get("result", {}).get("hardFork", "unknown"),
        "lifecycle": {"firstJob": first, "steadyState": steady, "claimFirst": claim_first},
        "batch20": batched,
        "inputCommitment": _input_commitment(d),
        "calls": gas.calls(d),
        "sizes": {name: SIZES[name] for name in PRODUCTION},
        "targets": {
            "lifecycle": gas.LIFECYCLE_TARGET,
            "batchPerJob": gas.BATCH_PER_JOB_TARGET,
            "lifecycleAim": gas.LIFECYCLE_AIM,
            "batchPerJobAim": gas.BATCH_PER_JOB_AIM,
            "lifecycleMet": steady["total"] <= gas.LIFECYCLE_TARGET,
            "batchPerJobMet": batched["perJob"] <= gas.BATCH_PER_JOB_TARGET,
        },
    }


def _input_commitment(d: Deployment) -> dict[str, int]:
    """Gas the job's input commitment costs per lifecycle: the two input words in the
    calldata of each transaction that carries the tuple (submit, finalize). Hashing them
    adds 2 words to keccak (12 gas) and `Cid.parse` ran before the commitment too."""
    create = d.market.functions.createJob(d.addr("requester"), request_tuple(d.request()))
    created = event(d.market, d.tx("requester", create, value=gas.ETH_PRICE), "JobCreated")
    per_tx = gas.input_commitment_calldata(job_from_created(created))
    return {"perTupleCall": per_tx, "perLifecycle": 2 * per_tx + 2 * 12}


def report(figures: dict[str, object], previous: dict[str, object] | None) -> None:
    def rows(section: str) -> dict[str, int]:
        value = figures[section]
        return value if isinstance(value, dict) else {}

    old_calls = (previous or {}).get("calls", {}) if previous else {}
    print(f"hardfork {figures['hardfork']}, solc {SOLC_VERSION}, optimizer runs {OPTIMIZER_RUNS}\n")
    life = rows("lifecycle")
    b = rows("batch20")
    print(f"{'figure':<34} {'today (v1)':>10} {'cap':>9} {'aim':>9} {'now':>9}")
    print(
        f"{'steady-state paid lifecycle':<34} {gas.LIFECYCLE_V1:>10,} "
        f"{gas.LIFECYCLE_TARGET:>9,} {gas.LIFECYCLE_AIM:>9,} {life['steadyState']['total']:>9,}"
    )
    print(
        f"{'per job, batch of 20, creation in':<34} {gas.BATCH_PER_JOB_V1:>10,} "
        f"{gas.BATCH_PER_JOB_TARGET:>9,} {gas.BATCH_PER_JOB_AIM:>9,} {b['perJob']:>9,}\n"
    )
    for label in ("firstJob", "steadyState", "claimFirst"):
        steps = life[label]
        parts = ", ".join(f"{k} {v:,}" for k, v in steps.items() if k != "total")
        print(f"lifecycle {label:<12} {steps['total']:>9,}   ({parts})")
    parts = ", ".join(
        f"{k} {b[k]:,}" for k in ("createJobsFor", "submitBatch(open)", "finalizeBatch")
    )
    print(f"batch of 20 total      {b['total']:>9,}   ({parts})")
    with_deposit = b["perJobWithDeposit"]
    print(
        f"batch of 20 per job    {b['perJob']:>9,}   (with the funding deposit: {with_deposit:,})"
    )
    commitment = rows("inputCommitment")
    print(
        f"input commitment       {commitment['perLifecycle']:>9,}   "
        f"({commitment['perTupleCall']:,} calldata per call carrying the tuple)\n"
    )
    for name, value in rows("calls").items():
        before = old_calls.get(name) if isinstance(old_calls, dict) else None
        delta = f"  ({value - before:+,})" if isinstance(before, int) and before != value else ""
        print(f"  {name:<26} {value:>9,}{delta}")
    t = rows("targets")
    life_ok = "met" if t["lifecycleMet"] else "MISSED"
    batch_ok = "met" if t["batchPerJobMet"] else "MISSED"
    for name, size in rows("sizes").items():
        print(f"  size {name:<21} {size:>9,} bytes")
    print(
        f"\ntargets: lifecycle <= {gas.LIFECYCLE_TARGET:,}: {life_ok}; "
        f"batch per job <= {gas.BATCH_PER_JOB_TARGET:,}: {batch_ok}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rpc-url", help="use this Anvil instead of starting one (its state changes)"
    )
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--no-write", action="store_true", help="do not update the snapshot file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    previous = json.loads(args.snapshot.read_text()) if args.snapshot.is_file() else None
    if args.rpc_url:
        figures = measure(args.rpc_url)
    else:
        with tempfile.TemporaryDirectory(prefix="inferchain-bench-") as tmp:
            anvil = start_anvil(free_port(), Path(tmp) / "anvil.log")
            try:
                figures = measure(anvil.url)
            finally:
                anvil.stop()
    report(figures, previous)
    if not args.no_write:
        args.snapshot.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.snapshot}")
    targets = figures["targets"]
    assert isinstance(targets, dict)
    return 1 if args.check and not (targets["lifecycleMet"] and targets["batchPerJobMet"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
