"""What the demo prints: each verified result, the money flow, and how to go on."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from inferchain.demo.user import JobRun, MoneyFlow
from inferchain.market.modes import MODE_NAMES

#: The tier a job's verification mode names (`--verify`).
TIERS = {mode: name for name, mode in MODE_NAMES.items()}


def eth(wei: int) -> str:
    return f"{Decimal(wei) / Decimal(10**18):f} ETH"


def summary(output: dict[str, Any]) -> str:
    result = output["result"]
    if output["task"] == "text-generation":
        return repr(result["text"])
    if "logits" in result:  # a proven job: the circuit's fixed-point logits, x 2^7
        return f"label {result['label']!r} (logit {max(result['logits']) / 2**7:.2f})"
    top = result["predictions"][0]
    return f"label {result['label']!r} (p={top['probability']:.3f})"


def results(jobs: list[JobRun]) -> list[str]:
    lines = ["Results (each fetched from IPFS and hashed against the CID the worker put on-chain):"]
    for run in jobs:
        lines.append(
            f"  job {run.job_id:<3} via {run.via:7} {run.task:21} → {summary(run.output)}"
            f"\n          output {run.output_cid}  ✓ verified"
        )
        if run.proof is not None:
            lines.append(
                f"          verification {TIERS.get(run.verification, run.verification)} "
                f"(mode {run.verification}): paid in the worker's submission {run.proof.submit_tx}"
                f"\n          ({run.proof.submit_gas:,} gas{_batch(run.proof.jobs_in_tx)}), "
                "no challenge window; proof check "
                f"{run.proof.verifier_gas:,} gas on-chain"
            )
    return lines


def _batch(jobs: int) -> str:
    return f" for {jobs} results" if jobs > 1 else ""


def money(flow: MoneyFlow, user: str) -> list[str]:
    lines = [
        "Money flow (market balances, read from the JobMarket contract):",
        f"  user {user} paid {eth(flow.prices)} for the jobs "
        f"+ {eth(flow.gas)} gas (wallet change {eth(flow.user_wallet_change)})",
    ]
    for who, amount in flow.measured.items():
        check = "✓" if amount == flow.expected[who] else f"✗ expected {eth(flow.expected[who])}"
        lines.append(f"  {flow.roles[who]:25} {who} earned {eth(amount)} {check}")
    lines.append(
        "  every wei accounted for ✓" if flow.exact else "  MISMATCH: see the lines marked ✗"
    )
    return lines
