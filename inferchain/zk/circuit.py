"""An EZKL circuit for one ONNX model: settings, compiled circuit, SRS and keys in one directory.

Layout of a circuit directory (``build_circuit`` writes it, ``load_circuit`` reads it)::

    model.onnx       the graph, as the provider published it
    settings.json    EZKL circuit settings (scales, visibility, rows)
    model.compiled   the compiled circuit the prover and keygen read
    kzg.srs          the SRS (see inferchain.zk.srs for what trusting it means)
    vk.key, pk.key   verification and proving keys (pk is tens of MB: never committed)
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferchain.zk._ezkl import call, ezkl
from inferchain.zk.errors import ZkError
from inferchain.zk.srs import generate_srs

ONNX_FILE = "model.onnx"
SETTINGS_FILE = "settings.json"

#: Rows halo2 keeps for blinding factors and the last-row checks, on top of the circuit's rows.
_RESERVED_ROWS = 64


@dataclass(frozen=True)
class CircuitSpec:
    """The EZKL run arguments, pinned: they decide rows, proving time and verifier gas.

    Inputs and outputs are public (the binding reads them); parameters are fixed in the
    circuit, so the verifying key commits to the weights. ``input_scale`` 4 quantizes x/16 to
    the integer x (the ZK input file's pixels). One inner column trades rows (2**13) for fewer
    commitments: 475k gas instead of 604k with two, and a faster proof.
    """

    input_scale: int = 4
    param_scale: int = 7
    num_inner_cols: int = 1
    decomp_base: int = 256
    decomp_legs: int = 3
    min_logrows: int = 10

    def run_args(self, logrows: int) -> Any:
        args = ezkl().PyRunArgs()
        args.input_visibility = "public"
        args.output_visibility = "public"
        args.param_visibility = "fixed"
        args.input_scale = self.input_scale
        args.param_scale = self.param_scale
        args.num_inner_cols = self.num_inner_cols
        args.decomp_base = self.decomp_base
        args.decomp_legs = self.decomp_legs
        args.logrows = logrows
        return args


@dataclass(frozen=True)
class Circuit:
    """A built circuit directory and the facts the prover and the binding need."""

    root: Path
    logrows: int
    num_rows: int
    input_scale: int
    output_scale: int
    num_inputs: int
    num_outputs: int

    @property
    def onnx(self) -> Path:
        return self.root / ONNX_FILE

    @property
    def settings(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def compiled(self) -> Path:
        return self.root / "model.compiled"

    @property
    def srs(self) -> Path:
        return self.root / "kzg.srs"

    @property
    def vk(self) -> Path:
        return self.root / "vk.key"

    @property
    def pk(self) -> Path:
        return self.root / "pk.key"


def build_circuit(
    onnx: Path, out: Path, spec: CircuitSpec | None = None, *, srs: Path | None = None
) -> Circuit:
    """Settings, compiled circuit, SRS and keys for ``onnx`` in ``out``.

    ``srs`` reuses a provider's SRS (keys are then the provider's, byte for byte); without it
    a fresh SRS is generated here. Steps whose output exists are skipped, so a second call
    only loads; a directory built for another ONNX graph is refused.
    """
    spec = spec or CircuitSpec()
    if not onnx.is_file():
        raise ZkError(f"{onnx} is missing: export the model to ONNX first")
    out.mkdir(parents=True, exist_ok=True)
    graph = onnx.read_bytes()
    copy = out / ONNX_FILE
    if copy.is_file() and copy.read_bytes() != graph:
        raise ZkError(f"{out} holds the circuit of another ONNX graph; use a fresh directory")
    copy.write_bytes(graph)
    if not (out / SETTINGS_FILE).is_file():
        _write_settings(copy, out / SETTINGS_FILE, spec)
    circuit = load_circuit(out, require_keys=False)
    if not circuit.compiled.is_file():
        call(
            "compile_circuit",
            ezkl().compile_circuit,
            str(circuit.onnx),
            str(circuit.compiled),
            str(circuit.settings),
        )
    if not circuit.srs.is_file():
        if srs is None:
            generate_srs(circuit.srs, circuit.logrows)
        else:
            shutil.copyfile(srs, circuit.srs)
    if not (circuit.vk.is_file() and circuit.pk.is_file()):
        setup_keys(circuit, circuit.vk, circuit.pk)
    return circuit


def setup_keys(circuit: Circuit, vk: Path, pk: Path) -> None:
    """Keygen from the compiled circuit and the SRS (deterministic: same inputs, same keys)."""
    call(
        "setup",
        ezkl().setup,
        str(circuit.compiled),
        str(vk),
        str(pk),
        str(circuit.srs),
        None,
        False,
    )


def load_circuit(root: Path, *, require_keys: bool = True) -> Circuit:
    """Read a circuit directory's settings; ZkError names a missing or malformed file."""
    settings_path = root / "settings.json"
    try:
        settings = json.loads(settings_path.read_text(encoding="utf-8"))
        run_args = settings["run_args"]
        inputs, outputs = settings["model_instance_shapes"]
        circuit = Circuit(
            root=root,
            logrows=int(run_args["logrows"]),
            num_rows=int(settings["num_rows"]),
            input_scale=int(settings["model_input_scales"][0]),
            output_scale=int(settings["model_output_scales"][0]),
            num_inputs=_count(inputs),
            num_outputs=_count(outputs),
        )
    except FileNotFoundError as exc:
        raise ZkError(f"{settings_path} is missing: build the circuit first") from exc
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ZkError(f"{settings_path} is not EZKL circuit settings: {exc!r}") from exc
    if require_keys:
        for path in (circuit.compiled, circuit.srs, circuit.vk, circuit.pk):
            if not path.is_file():
                raise ZkError(f"{path} is missing: build the circuit first")
    return circuit


def _write_settings(onnx: Path, settings: Path, spec: CircuitSpec) -> None:
    """gen_settings twice: once to count rows, once with the smallest logrows that fits them."""
    gen = ezkl().gen_settings
    call("gen_settings", gen, str(onnx), str(settings), spec.run_args(spec.min_logrows))
    rows = int(json.loads(settings.read_text(encoding="utf-8"))["num_rows"])
    logrows = max(spec.min_logrows, (rows + _RESERVED_ROWS).bit_length())
    call("gen_settings", gen, str(onnx), str(settings), spec.run_args(logrows))


def _count(shape: list[int]) -> int:
    total = 1
    for dim in shape:
        total *= int(dim)
    return total
