"""Static analysis: run Slither over contracts/ and fail on any untriaged High/Medium finding.

Usage: .venv/bin/python scripts/slither.py

Slither pins web3 < 8, so it lives in its own virtual environment (.venv-slither, made on
first use). It compiles the same standard-JSON input as `inferchain contracts build`
through scripts/solc, a native-looking wrapper over the pinned solcjs. Reviewed findings
and their reasons are in contracts/slither-triage.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

from inferchain.solidity import standard_json_input

ROOT = Path(__file__).resolve().parent.parent
SLITHER_VENV = ROOT / ".venv-slither"
SLITHER_VERSION = "0.11.6"
TRIAGE = ROOT / "contracts" / "slither-triage.json"
BLOCKING = {"High", "Medium"}


def slither_binary() -> Path:
    binary = SLITHER_VENV / "bin" / "slither"
    if not binary.exists():
        venv.create(SLITHER_VENV, with_pip=True)
        subprocess.run(
            [
                SLITHER_VENV / "bin" / "pip",
                "install",
                "--quiet",
                f"slither-analyzer=={SLITHER_VERSION}",
            ],
            check=True,
        )
    return binary


def run_slither(workdir: Path) -> list[dict]:
    solc_input = standard_json_input()
    solc_input["settings"]["outputSelection"] = {
        "*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode"], "": ["ast"]}
    }
    input_path, report_path = workdir / "input.json", workdir / "slither.json"
    input_path.write_text(json.dumps(solc_input))
    proc = subprocess.run(
        [
            slither_binary(), str(input_path),
            "--compile-force-framework", "solc-json",
            "--solc", str(ROOT / "scripts" / "solc"),
            "--filter-paths", "node_modules|@openzeppelin|contracts/test/",
            "--exclude-informational", "--exclude-low", "--exclude-optimization",
            "--json", str(report_path),
        ],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if not report_path.exists():
        sys.exit(f"slither did not run:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    report = json.loads(report_path.read_text())
    if not report.get("success"):
        sys.exit(f"slither failed: {report.get('error')}")
    return report.get("results", {}).get("detectors", [])


def main() -> None:
    triaged = {(f["check"], f["element"]) for f in json.loads(TRIAGE.read_text())["findings"]}
    with tempfile.TemporaryDirectory(prefix="inferchain-slither-") as tmp:
        findings = run_slither(Path(tmp))
    blocking = [f for f in findings if f["impact"] in BLOCKING]
    new = [f for f in blocking if (f["check"], f["elements"][0]["name"]) not in triaged]
    print(f"slither: {len(findings)} High/Medium findings, {len(blocking) - len(new)} triaged")
    for finding in new:
        print(f"UNTRIAGED {finding['impact']} {finding['check']}: {finding['description'].strip()}")
    if new:
        sys.exit(f"{len(new)} untriaged finding(s): fix them or explain them in {TRIAGE.name}")


if __name__ == "__main__":
    main()
