#!/usr/bin/env python3
"""Build the ZK-tier demo model (digits MLP) and, with --circuit, its EZKL circuit and keys.

    python scripts/build_zk_demo.py                       # weights, config, ONNX into the package
    python scripts/build_zk_demo.py --circuit .inferchain/zk/digits-mlp

The model files are committed (~13 KB); the circuit directory is not: its SRS is a local
trusted setup (see docs/verification.md) and its proving key is ~24 MB. Same seed, thread
count and CPU give the same weights.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the builder lives in scripts/demo_models

from inferchain.bundle.demos import BUNDLES_DIR  # noqa: E402
from scripts.demo_models.digits_mlp import NAME, build_digits_mlp, write_manifest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=BUNDLES_DIR / NAME, help="model directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--circuit", type=Path, help="also build the EZKL circuit here")
    args = parser.parse_args()

    started = time.perf_counter()
    built = build_digits_mlp(args.out, seed=args.seed)
    write_manifest(built.root)
    print(
        f"{NAME}: {built.parameters} parameters, held-out accuracy {built.accuracy:.4f} "
        f"on {built.test_size}, {time.perf_counter() - started:.1f} s -> {built.root}"
    )
    if args.circuit:
        from inferchain.zk import build_circuit

        started = time.perf_counter()
        circuit = build_circuit(built.onnx, args.circuit)
        sizes = {p.name: p.stat().st_size for p in sorted(circuit.root.iterdir())}
        print(
            f"circuit: logrows {circuit.logrows}, {circuit.num_rows} rows, "
            f"{time.perf_counter() - started:.1f} s -> {circuit.root}  {sizes}"
        )


if __name__ == "__main__":
    main()
