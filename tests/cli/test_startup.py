"""The `inferchain` command starts without torch, though it mounts the worker's own commands."""

from __future__ import annotations

import subprocess
import sys


def test_cli_mounts_the_worker_commands_without_loading_the_node_or_torch() -> None:
    code = (
        "import sys, inferchain.cli, inferchain.worker.cli\n"
        "sys.exit(sorted({'torch', 'inferchain.worker.node'} & set(sys.modules)) or None)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_worker_package_names_load_on_first_use() -> None:
    import inferchain.worker as worker

    assert set(worker.__all__) <= set(dir(worker))
    assert worker.Worker.__module__ == "inferchain.worker.node"
    assert worker.WorkerSettings.__module__ == "inferchain.worker.settings"
