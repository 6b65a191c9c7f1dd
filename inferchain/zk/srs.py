"""The KZG structured reference string, generated on this machine.

A KZG SRS holds powers of a secret tau. Whoever knows tau can forge proofs of any statement,
so a locally generated SRS is a trusted setup by whoever generated it: ``ezkl.gen_srs`` draws
tau from the OS RNG and drops it, and a verifier must trust the model provider who ran it to
have done so. Production uses the public Perpetual Powers of Tau ceremony (``ezkl.get_srs``
downloads it, which needs the internet), which is sound if any one of its many contributors
was honest. Proving and verifying keys are deterministic given the SRS and the circuit.
"""

from __future__ import annotations

from pathlib import Path

from inferchain.zk._ezkl import call, ezkl


def generate_srs(path: Path, logrows: int) -> Path:
    """Write a fresh SRS for circuits of up to 2**logrows rows (random tau, not reproducible)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    call("gen_srs", ezkl().gen_srs, str(path), logrows)
    return path
