"""Compiles contracts/ with the pinned solcjs and writes ABI + bytecode artifacts."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferchain.artifacts import ARTIFACTS_DIR, Artifact
from inferchain.errors import ConfigError
from inferchain.paths import INSTALL_HINT, node_modules, project_root
from inferchain.solidity.config import SOLC_VERSION, compiler_settings
from inferchain.solidity.errors import CompilationError
from inferchain.solidity.sources import collect_sources

_DRIVER = Path(__file__).with_name("compile.mjs")

#: OpenZeppelin interfaces shipped beside our contracts: clients bind any ERC-20 token with
#: these (never with a test token's ABI), and revert decoding knows ERC-6093's errors.
SHIPPED_INTERFACES: dict[str, tuple[str, ...]] = {
    "@openzeppelin/contracts/token/ERC20/IERC20.sol": ("IERC20",),
    "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol": ("IERC20Metadata",),
    "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol": ("IERC20Permit",),
    "@openzeppelin/contracts/interfaces/draft-IERC6093.sol": ("IERC20Errors",),
}


@dataclass(frozen=True)
class BuildResult:
    artifacts: dict[str, Artifact]
    warnings: list[str]
    standard_json_input: dict[str, Any]


def standard_json_input(root: Path | None = None) -> dict[str, Any]:
    """The self-contained solc input for every contract (also what explorers verify)."""
    root = root or project_root()
    modules = root / "node_modules" if (root / "node_modules").is_dir() else node_modules()
    sources = collect_sources(root, root / "contracts", modules, also=tuple(SHIPPED_INTERFACES))
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": compiler_settings(),
    }


def compile_contracts(root: Path | None = None) -> BuildResult:
    """Compile every contract under contracts/; raise CompilationError with file:line messages."""
    root = root or project_root()
    solc_input = standard_json_input(root)
    output = _run_solcjs(solc_input)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilationError([_describe(e) for e in errors])
    warnings = [_describe(e) for e in output.get("errors", []) if e.get("severity") != "error"]
    artifacts: dict[str, Artifact] = {}
    for source_name, contracts in output.get("contracts", {}).items():
        ours = source_name.startswith("contracts/")
        for name, data in contracts.items():
            if not ours and name not in SHIPPED_INTERFACES.get(source_name, ()):
                continue  # libraries from node_modules are compiled in, not shipped
            bytecode = data["evm"]["bytecode"]["object"]
            if name in artifacts:
                raise CompilationError(
                    [
                        f"{source_name}: contract name {name} is also used in "
                        f"{artifacts[name].source_name}; names must be unique"
                    ]
                )
            artifacts[name] = Artifact(
                contract_name=name,
                source_name=source_name,
                abi=data["abi"],
                bytecode="0x" + bytecode if bytecode else "0x",
                deployed_bytecode="0x" + data["evm"]["deployedBytecode"]["object"],
                compiler_version=SOLC_VERSION,
            )
    return BuildResult(artifacts=artifacts, warnings=warnings, standard_json_input=solc_input)


def compile_standard_json(solc_input: dict[str, Any]) -> dict[str, Any]:
    """Compile any standard-JSON input (e.g. a generated ZK verifier) with the pinned solcjs.

    Returns solc's output; raises CompilationError when it reports errors.
    """
    output = _run_solcjs(solc_input)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilationError([_describe(e) for e in errors])
    return output


def write_artifacts(result: BuildResult, out_dir: Path = ARTIFACTS_DIR) -> list[Path]:
    """Replace the artifact JSON files in out_dir (and its test/) with result's (stale ones
    are removed)."""
    for stale in [*out_dir.glob("*.json"), *out_dir.glob("test/*.json")]:
        stale.unlink()
    written = []
    for _, artifact in sorted(result.artifacts.items()):
        path = out_dir / artifact.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(artifact.to_json(), encoding="utf-8")
        written.append(path)
    return written


def _run_solcjs(solc_input: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        raise ConfigError("node is not on PATH: install Node.js 20 to compile contracts")
    solc_pkg = node_modules() / "solc"
    if not solc_pkg.is_dir():
        raise ConfigError(f"{solc_pkg} is missing: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="inferchain-solc-") as tmp:
        input_path, output_path = Path(tmp) / "input.json", Path(tmp) / "output.json"
        input_path.write_text(json.dumps(solc_input), encoding="utf-8")
        proc = subprocess.run(
            [node, str(_DRIVER), str(solc_pkg), str(input_path), str(output_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise CompilationError(
                [f"solcjs failed (exit {proc.returncode}): {proc.stderr.strip()}"]
            )
        version = (output_path.parent / "output.json.version").read_text().strip()
        if not version.startswith(SOLC_VERSION + "+"):
            raise ConfigError(
                f"node_modules has solc {version}, expected {SOLC_VERSION}: {INSTALL_HINT}"
            )
        return json.loads(output_path.read_text(encoding="utf-8"))


def _describe(error: dict[str, Any]) -> str:
    """`file:line:col: severity: message` — the location solc gives, as editors expect it."""
    formatted = error.get("formattedMessage")
    location = error.get("sourceLocation")
    if location and formatted:
        # formattedMessage already reads "Type: message\n --> file:line:col: ..."
        for line in formatted.splitlines():
            stripped = line.strip()
            if stripped.startswith("-->"):
                return f"{stripped[3:].strip()}: {error.get('type')}: {error.get('message')}"
    return f"{error.get('type', 'Error')}: {error.get('message', formatted)}"
