"""A wallet using the command line: `inferchain job submit [--wait]`, run as a user would."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferchain.demo.errors import DemoError
from inferchain.wallet import PASSWORD_ENV

#: Follow the job and print its verified result (`--wait`), for up to two minutes.
WAIT = ("--wait", "--timeout", "120")


class CliFailed(DemoError):
    """`inferchain job submit` exited with an error."""


@dataclass(frozen=True)
class CliUser:
    keystore: Path
    password: str
    rpc_url: str
    ipfs_api_url: str
    deployments: Path

    def command(self, model_id: int, input_: str, *options: str) -> list[str]:
        """`inferchain job submit` with ``options``: e.g. :data:`WAIT`, ``--verify zk``."""
        return [
            "inferchain", "job", "submit", "--model", str(model_id), "--input", input_,
            *options, "--keystore", str(self.keystore),
        ]  # fmt: skip

    def printable(self, model_id: int, input_: str, *options: str) -> str:
        return shlex.join(self.command(model_id, input_, *options))

    def submit(self, model_id: int, input_: str, *options: str) -> dict[str, Any]:
        """Run the real CLI in a subprocess; its `--json` answer (job and tx; with
        :data:`WAIT` also output and CID)."""
        cmd = [sys.executable, "-m", "inferchain", *self.command(model_id, input_, *options)[1:]]
        cmd += ["--json", "--network", "local", "--deployments-dir", str(self.deployments),
                "--ipfs-api", self.ipfs_api_url]  # fmt: skip
        env = {**os.environ, PASSWORD_ENV: self.password, "INFERCHAIN_LOCAL_RPC_URL": self.rpc_url}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)
        if proc.returncode != 0:
            raise CliFailed(
                f"`{shlex.join(cmd)}` exited {proc.returncode}: {proc.stderr.strip()[-2000:]}"
            )
        return json.loads(proc.stdout)
