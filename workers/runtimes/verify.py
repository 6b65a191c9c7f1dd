"""Compare two output documents the way a verifier should: exact where outputs are discrete.

Bytes are identical for the same bundle, input, parameters, runtime, device and batch. Across
machines, devices or batch compositions float sums round differently, so probabilities may
move in the sixth decimal: tokens, text and labels must match exactly, probabilities within
a tolerance (a label may only differ where the two candidates are tied within it).
"""

from __future__ import annotations

from typing import Any

from inferchain import untrusted_json

DEFAULT_TOLERANCE = 1e-4


def outputs_agree(a: bytes, b: bytes, *, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """True when two output documents describe the same answer of the same model.

    Either may come from another worker through IPFS: a document that is not an output
    (not JSON we accept, fields missing or of the wrong type) agrees with nothing.
    """
    try:
        first = untrusted_json.loads(a, source="output document")
        second = untrusted_json.loads(b, source="output document")
        if first["task"] != second["task"] or first["model"] != second["model"]:
            return False
        if first["task"] == "text-generation":
            return bool(first["result"] == second["result"])
        if first["task"] == "embeddings":
            return _embeddings_agree(first["result"], second["result"], tolerance)
        return _classifications_agree(first["result"], second["result"], tolerance)
    except (LookupError, TypeError, ValueError):
        return False


def _embeddings_agree(a: dict[str, Any], b: dict[str, Any], tolerance: float) -> bool:
    """Same size and token count, every component within the tolerance."""
    va, vb = a["embedding"], b["embedding"]
    if a["dims"] != b["dims"] or a["prompt_tokens"] != b["prompt_tokens"] or len(va) != len(vb):
        return False
    return all(abs(float(x) - float(y)) <= tolerance for x, y in zip(va, vb, strict=True))


def _classifications_agree(a: dict[str, Any], b: dict[str, Any], tolerance: float) -> bool:
    pa = {p["index"]: p["probability"] for p in a["predictions"]}
    pb = {p["index"]: p["probability"] for p in b["predictions"]}
    if len(pa) != len(pb):
        return False
    for index in pa.keys() & pb.keys():
        if abs(pa[index] - pb[index]) > tolerance:
            return False
    # an index listed by one side only must sit at the top-k boundary, tied within tolerance
    for mine, theirs in ((pa, pb), (pb, pa)):
        for index in mine.keys() - theirs.keys():
            if mine[index] > min(theirs.values()) + tolerance:
                return False
    top_a = a["predictions"][0]
    top_b = b["predictions"][0]
    return (
        top_a["index"] == top_b["index"]
        or abs(top_a["probability"] - top_b["probability"]) <= tolerance
    )
