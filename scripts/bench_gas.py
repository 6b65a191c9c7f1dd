#!/usr/bin/env python3
"""Gas benchmark of the contracts: every call, one full lifecycle and a batch of 20 jobs.

    .venv/bin/python scripts/bench_gas.py            # start a private Anvil, print, update snapshot
    .venv/bin/python scripts/bench_gas.py --check    # also fail when a target is missed
    .venv/bin/python scripts/bench_gas.py --rpc-url http://127.0.0.1:8545 --no-write

Targets (Anvil's default hardfork): one paid lifecycle (create + claim + submit + finalize,
steady state: the second job) <= 230k gas; a batch of 20 jobs created by batched signed
requests, claimed, submitted and finalized in batches <= 100k gas per job.
Writes docs/gas-snapshot.json so that a reviewer can diff figures between commits.
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
from tests.contracts.helpers import deploy  # noqa: E402

SNAPSHOT = ROOT / "docs" / "gas-snapshot.json"


def measure(rpc_url: str) -> dict[str, object]:
    chain = Chain(rpc_url)
    d = deploy(chain, list(dev_private_keys()))
    first = gas.lifecycle(d)  # pays the one-time zero-to-nonzero writes
    steady = gas.lifecycle(d)
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
        "lifecycle": {"firstJob": first, "steadyState": steady},
        "batch20": batched,
        "calls": gas.calls(d),
        "targets": {
            "lifecycle": gas.LIFECYCLE_TARGET,
            "batchPerJob": gas.BATCH_PER_JOB_TARGET,
            "lifecycleMet": steady["total"] <= gas.LIFECYCLE_TARGET,
            "batchPerJobMet": batched["perJob"] <= gas.BATCH_PER_JOB_TARGET,
        },
    }


def report(figures: dict[str, object], previous: dict[str, object] | None) -> None:
    def rows(section: str) -> dict[str, int]:
        value = figures[section]
        return value if isinstance(value, dict) else {}

    old_calls = (previous or {}).get("calls", {}) if previous else {}
    print(f"hardfork {figures['hardfork']}, solc {SOLC_VERSION}, optimizer runs {OPTIMIZER_RUNS}\n")
    life = rows("lifecycle")
    for label in ("firstJob", "steadyState"):
        steps = life[label]
        parts = ", ".join(f"{k} {v:,}" for k, v in steps.items() if k != "total")
        print(f"lifecycle {label:<12} {steps['total']:>9,}   ({parts})")
    b = rows("batch20")
    parts = ", ".join(
        f"{k} {b[k]:,}" for k in ("createJobsFor", "claimBatch", "submitBatch", "finalizeBatch")
    )
    print(f"batch of 20 total      {b['total']:>9,}   ({parts})")
    with_deposit = b["perJobWithDeposit"]
    print(
        f"batch of 20 per job    {b['perJob']:>9,}   (with the funding deposit: {with_deposit:,})\n"
    )
    for name, value in rows("calls").items():
        before = old_calls.get(name) if isinstance(old_calls, dict) else None
        delta = f"  ({value - before:+,})" if isinstance(before, int) and before != value else ""
        print(f"  {name:<26} {value:>9,}{delta}")
    t = rows("targets")
    life_ok = "met" if t["lifecycleMet"] else "MISSED"
    batch_ok = "met" if t["batchPerJobMet"] else "MISSED"
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
