"""docs/quickstart-user.md as written: every ```bash block marked `<!-- test -->` runs
against the test stack (a fresh market with the demo models, a running worker)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from inferchain.chain import Chain
from inferchain.paths import project_root
from tests.conftest import AnvilNode
from tests.demo.helpers import deploy_demo, running_worker

MARKED = re.compile(r"<!-- test -->\n```bash\n(.*?)```", re.DOTALL)


def marked_blocks(doc: Path) -> list[str]:
    return MARKED.findall(doc.read_text())


def test_user_quickstart_runs_as_written(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> None:
    blocks = marked_blocks(project_root() / "docs" / "quickstart-user.md")
    assert len(blocks) == 4
    demo = deploy_demo(chain, anvil, ipfs_api_url, tmp_path / "deployments")
    assert demo.models == {"text-generation": 1, "image-classification": 2,
                           "text-classification": 3, "chat": 4}  # the quickstart's ids  # fmt: skip
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "INFERCHAIN_LOCAL_RPC_URL": anvil.rpc_url,
        "INFERCHAIN_DEPLOYMENTS_DIR": str(demo.deployments),
        "INFERCHAIN_IPFS_API": ipfs_api_url,
    }
    script = "set -euo pipefail\n" + "\n".join(blocks)
    with running_worker(anvil, ipfs_api_url, demo, tmp_path / "worker"):
        proc = subprocess.run(["bash", "-c", script], cwd=project_root(), env=env,
                              capture_output=True, text=True, timeout=240)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert '"label":"positive"' in out  # the first job's verified output
    assert '"task":"text-generation"' in out
    assert "job 1: paid" in out or "job 1: submitted" in out
    assert "withdrew 10000000000000000" in out


def test_every_quickstart_exists_and_marks_runnable_blocks() -> None:
    docs = project_root() / "docs"
    for name in ("quickstart-user.md", "quickstart-worker.md", "quickstart-deploy.md"):
        text = (docs / name).read_text()
        assert "```bash" in text, name
    assert marked_blocks(docs / "quickstart-user.md")


def test_deploy_quickstart_rehearsal_runs_as_written(anvil: AnvilNode, tmp_path: Path) -> None:
    """The local rehearsal of docs/quickstart-deploy.md: dry run, deploy, verification input."""
    (block,) = marked_blocks(project_root() / "docs" / "quickstart-deploy.md")
    (tmp_path / ".venv").symlink_to(project_root() / ".venv")  # the block calls .venv/bin/...
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "INFERCHAIN_LOCAL_RPC_URL": anvil.rpc_url,
        "INFERCHAIN_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
    }
    proc = subprocess.run(["bash", "-c", "set -euo pipefail\n" + block], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "nothing to do" in proc.stdout  # the third command found everything deployed
    assert (tmp_path / "deployments" / "31337.json").is_file()
    verify = sorted(p.name for p in (tmp_path / "build" / "verify").iterdir())
    assert verify == [
        "CommitteeArbiter.json", "InferchainTimelock.json", "JobMarket.json", "JobRouter.json",
        "MarketGovernor.json", "ModelRegistry.json", "ReexecVerifier.json",
        "TokenMeteredPricing.json", "WorkerRegistry.json", "ZkVerifier.json",
    ]  # fmt: skip
