"""Anvil's on-disk history lives in a HOME of its own, removed when it stops.

Past its in-memory limit Anvil moves old block states to ``$HOME/.foundry/anvil/tmp`` and
leaves them there when it is stopped; a day of test runs once filled the disk with them.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from inferchain.devstack import free_port, start_anvil


def _rpc(url: str, method: str, params: list[object]) -> object:
    answer = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    return answer.json()["result"]


def test_anvil_history_goes_to_its_scratch_home_which_stop_removes(tmp_path: Path) -> None:
    service = start_anvil(free_port(), tmp_path / "anvil.log")
    try:
        assert service.scratch is not None
        scratch = Path(service.scratch)
        assert scratch.is_dir() and scratch.is_relative_to(tmp_path)
        _rpc(service.url, "anvil_mine", [hex(768)])  # past the in-memory history limit
        persisted = list((scratch / ".foundry" / "anvil" / "tmp").rglob("*.json"))
        assert persisted, "Anvil wrote its old states somewhere other than its scratch HOME"
    finally:
        service.stop()
    assert not service.alive()
    assert not scratch.exists()


def test_a_recorded_service_keeps_its_scratch_through_the_state_file(tmp_path: Path) -> None:
    """``dev down`` stops what ``dev up`` recorded: the scratch must survive the round trip."""
    from inferchain.devstack.running import RunningService

    service = start_anvil(free_port(), tmp_path / "anvil.log")
    recorded = RunningService.from_dict(service.to_dict())
    assert recorded == service
    recorded.stop()
    assert not Path(str(service.scratch)).exists()
