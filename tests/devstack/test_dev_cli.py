"""`inferchain dev up | status | down` as a user runs it: a real subprocess, real services."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inferchain.devstack import free_port
from inferchain.devstack.anvil import rpc_answers
from inferchain.devstack.process import is_running


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inferchain", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def stack_args(tmp_path: Path) -> Iterator[list[str]]:
    args = [
        "--state-dir", str(tmp_path / "state"),
    ]  # fmt: skip
    yield args
    run_cli("dev", "down", *args)  # never leave services behind, even when a test fails


def port_args() -> list[str]:
    return [
        "--anvil-port", str(free_port()),
        "--ipfs-api-port", str(free_port()),
        "--ipfs-gateway-port", str(free_port()),
        "--ipfs-swarm-port", str(free_port()),
    ]  # fmt: skip


def status_json(stack_args: list[str]) -> tuple[int, dict]:
    proc = run_cli("dev", "status", "--json", *stack_args)
    return proc.returncode, json.loads(proc.stdout)


def test_up_status_down_leaves_no_process(stack_args: list[str]) -> None:
    up = run_cli("dev", "up", *stack_args, *port_args())
    assert up.returncode == 0, up.stderr
    code, status = status_json(stack_args)
    assert code == 0
    assert status["anvil"]["answering"] and status["ipfs"]["answering"]
    pids = [(status[n]["pid"], status[n]["identity"]) for n in ("anvil", "ipfs")]

    again = run_cli("dev", "up", *stack_args)  # reuses: same processes
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout
    assert [status_json(stack_args)[1][n]["pid"] for n in ("anvil", "ipfs")] == [p for p, _ in pids]

    down = run_cli("dev", "down", *stack_args)
    assert down.returncode == 0 and "anvil, ipfs" in down.stdout
    assert not any(is_running(pid, identity) for pid, identity in pids)
    code, status = status_json(stack_args)
    assert code == 1 and not status["anvil"]["running"]


def test_up_restarts_a_service_that_died_on_its_recorded_port(stack_args: list[str]) -> None:
    assert run_cli("dev", "up", *stack_args, *port_args()).returncode == 0
    _, status = status_json(stack_args)
    os.kill(status["anvil"]["pid"], signal.SIGKILL)
    code, after_kill = status_json(stack_args)
    assert code == 1 and not after_kill["anvil"]["running"] and after_kill["ipfs"]["answering"]
    with socket.socket() as blocker:  # the configured port is taken, as 8545 often is
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        configured = str(blocker.getsockname()[1])
        restarted = run_cli("dev", "up", *stack_args, env={"INFERCHAIN_DEV_ANVIL_PORT": configured})
    assert restarted.returncode == 0, restarted.stderr
    assert f"anvil: restarting on {status['anvil']['url']}" in restarted.stdout
    _, healed = status_json(stack_args)
    assert healed["anvil"]["answering"] and healed["anvil"]["pid"] != status["anvil"]["pid"]
    assert healed["anvil"]["ports"] == status["anvil"]["ports"]
    assert healed["anvil"]["url"] == status["anvil"]["url"]
    assert rpc_answers(status["anvil"]["url"])  # clients holding the old URL reach it again
    assert healed["ipfs"]["pid"] == status["ipfs"]["pid"]


def test_restart_on_a_taken_recorded_port_says_how_to_move(stack_args: list[str]) -> None:
    assert run_cli("dev", "up", *stack_args, *port_args()).returncode == 0
    _, status = status_json(stack_args)
    os.kill(status["anvil"]["pid"], signal.SIGKILL)
    port = status["anvil"]["ports"]["rpc"]
    wait_until_free(port)
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        proc = run_cli("dev", "up", *stack_args, "--anvil-port", str(free_port()))
    assert proc.returncode == 1
    assert f"127.0.0.1:{port} but it is in use" in proc.stderr
    assert "inferchain dev down" in proc.stderr and "Traceback" not in proc.stderr


def wait_until_free(port: int, timeout: float = 10.0) -> None:
    """A killed process's listening socket goes away a moment after the signal."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"port {port} still answers {timeout}s after its process was killed")


def test_taken_port_names_the_flag_and_starts_nothing(stack_args: list[str]) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        ports = port_args()
        ports[1] = str(taken)
        proc = run_cli("dev", "up", *stack_args, *ports)
    assert proc.returncode == 1
    assert f"127.0.0.1:{taken} but it is in use" in proc.stderr
    assert "--anvil-port" in proc.stderr
    assert "Traceback" not in proc.stderr
    code, status = status_json(stack_args)
    assert code == 1
    assert not status["anvil"]["running"] and not status["ipfs"]["running"]


def test_missing_install_names_the_install_step(tmp_path: Path, stack_args: list[str]) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "contracts").mkdir(parents=True)
    (checkout / "package.json").write_text("{}")
    path = os.path.dirname(sys.executable) + ":/usr/bin:/bin"
    proc = run_cli(
        "dev", "up", *stack_args, *port_args(),
        env={"INFERCHAIN_ROOT": str(checkout), "PATH": path},
    )  # fmt: skip
    assert proc.returncode == 1
    assert "npm ci" in proc.stderr and "Traceback" not in proc.stderr


def test_invalid_settings_are_reported(stack_args: list[str]) -> None:
    proc = run_cli("dev", "up", *stack_args, "--anvil-port", "5001", "--ipfs-api-port", "5001")
    assert proc.returncode != 0
    assert "ports must differ" in proc.stderr and "Traceback" not in proc.stderr


def test_recorded_extra_service_is_listed_and_stopped_by_down(
    tmp_path: Path, stack_args: list[str]
) -> None:
    """The demo records its worker and gateway; status shows them and down stops them."""
    from inferchain.devstack import DevStack, RunningService
    from inferchain.devstack.process import spawn, start_ticks
    from inferchain.settings import DevStackSettings

    pid = spawn(["sleep", "120"], tmp_path / "sleeper.log")
    stack = DevStack(DevStackSettings(state_dir=tmp_path / "state"))
    stack.record(
        RunningService(
            name="sleeper", pid=pid, url="-", log_path=tmp_path / "sleeper.log",
            executable="sleep", identity=start_ticks(pid), ports={}, started_at=0.0,
            ready_after_s=0.0,
        )
    )  # fmt: skip
    _, status = status_json(stack_args)
    assert status["sleeper"]["running"] and status["sleeper"]["pid"] == pid
    down = run_cli("dev", "down", *stack_args)
    assert "sleeper" in down.stdout
    assert not is_running(pid)
