"""Gas targets of the issue, measured on Anvil's default hardfork (see scripts/bench_gas.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.contracts import gas
from tests.contracts.helpers import Deployment

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "gas-snapshot.json"


def test_steady_state_lifecycle_is_within_target(d: Deployment) -> None:
    gas.lifecycle(d)  # the first job pays one-time zero-to-nonzero writes
    steady = gas.lifecycle(d)
    assert steady["total"] <= gas.LIFECYCLE_TARGET, steady


def test_batch_of_20_is_within_target_per_job(d: Deployment) -> None:
    gas.lifecycle(d)
    gas.batch(d, nonce_base=0)
    batched = gas.batch(d, nonce_base=gas.BATCH_SIZE)
    assert batched["perJob"] <= gas.BATCH_PER_JOB_TARGET, batched


@pytest.mark.skipif(not SNAPSHOT.is_file(), reason="no committed gas snapshot")
def test_committed_snapshot_is_current(d: Deployment) -> None:
    """The snapshot must be rerun (`scripts/bench_gas.py`) when the contracts change gas."""
    committed = json.loads(SNAPSHOT.read_text())["lifecycle"]["steadyState"]
    gas.lifecycle(d)
    steady = gas.lifecycle(d)
    for step, value in steady.items():
        # A few gas of slack: calldata cost varies with the bytes of timestamps and CIDs.
        assert abs(value - committed[step]) <= 200, f"{step}: {value} vs snapshot {committed[step]}"
