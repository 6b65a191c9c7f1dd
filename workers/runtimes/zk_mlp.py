"""``inferchain-mlp``: the ZK tier's small MLPs, run as their EZKL circuit computes them.

A job's input is the ZK input file (one byte per model input, 0..max_input) and its output is
exactly the circuit's output file (:mod:`inferchain.zk.binding`: one int256 per logit, times
``2**output_scale``), so the proof a worker adds for the ZK mode binds the very bytes it pins.
The output comes from EZKL's witness generation over the bundle's compiled circuit (a few ms):
the circuit's fixed-point arithmetic is the model here, and float torch logits would differ
in the last bits. Needs the ``zk`` extra; ``workers/proving.py`` proves off the job path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch

from inferchain.bundle import Bundle, BundleError, InferenceFailed, InvalidInput
from inferchain.errors import ConfigError
from inferchain.worker.runtimes.base import Output, model_info, pick_device, runtime_info

RUNTIME_NAME = "inferchain-mlp"


@dataclass(frozen=True)
class CircuitOutput(Output):
    """An Output whose pinned bytes are the circuit's output file, not a JSON document."""

    file: bytes = b""

    def to_bytes(self) -> bytes:
        return self.file


class MlpRuntime:
    """Loads the bundle's circuit (settings and compiled circuit in ``zk/``)."""

    name: ClassVar[str] = RUNTIME_NAME

    def __init__(self, bundle: Bundle, device: str | torch.device | None = None) -> None:
        zk = bundle.manifest.zk
        if zk is None or zk.circuit is None:
            raise BundleError(
                f"{bundle.manifest.name}: no built circuit in the bundle's zk section"
            )
        from inferchain.zk import ZkError, load_circuit  # ezkl itself is imported lazily

        root = (bundle.path / zk.circuit.settings).parent
        expected = {"settings.json": zk.circuit.settings, "model.compiled": zk.circuit.compiled}
        for name, listed in expected.items():
            if Path(listed).name != name or (bundle.path / listed).parent != root:
                raise BundleError(f"{listed}: the circuit files must be {root.name}/{name}")
        try:
            self.circuit = load_circuit(root, require_keys=False)
        except ZkError as exc:
            raise BundleError(str(exc)) from exc
        self.bundle = bundle
        self.device = pick_device(device)  # the circuit runs on the CPU whatever this says
        self.max_input = zk.max_input
        labels = bundle.config().get("labels")
        self.labels = [str(v) for v in labels] if isinstance(labels, list) else None

    def prepare(self, raw: object) -> bytes:
        """The input file, checked: ``num_inputs`` bytes, each at most ``max_input``."""
        from inferchain.zk import ZkInputInvalid, parse_input

        if not isinstance(raw, bytes | bytearray):
            raise InvalidInput("wrong_type", "the input must be raw bytes (the ZK input file)")
        try:
            parse_input(bytes(raw), self.circuit.num_inputs, self.max_input)
        except ZkInputInvalid as exc:
            reason = "oversize" if len(raw) > self.circuit.num_inputs else "wrong_type"
            raise InvalidInput(reason, str(exc)) from exc
        return bytes(raw)

    def run(self, batch: Sequence[bytes]) -> list[Output]:
        from inferchain.zk import ZkError, decode_output, evaluate

        outputs: list[Output] = []
        for input_file in batch:
            try:
                file = evaluate(self.circuit, input_file, self.max_input).output_file
            except (ZkError, ConfigError) as exc:
                raise InferenceFailed(f"the circuit could not run: {exc}") from exc
            logits = decode_output(file)
            best = max(range(len(logits)), key=logits.__getitem__)
            label = self.labels[best] if self.labels and best < len(self.labels) else str(best)
            outputs.append(
                CircuitOutput(
                    task=self.bundle.manifest.task,
                    model=model_info(self.bundle),
                    result={"label": label, "logits": list(logits)},
                    runtime=runtime_info(self.name, torch.device("cpu"), "fixed-point"),
                    file=file,
                )
            )
        return outputs
