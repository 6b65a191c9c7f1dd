"""Why a job ended without a result, in words its requester can act on.

A worker that refuses an input calls ``reportFailure`` with the CID of its evidence: a
small canonical JSON document ``{"error": "invalid_input", "reason", "message", "job_id",
"input_cid"}`` (``inferchain.worker.pinner``). The answer always names that CID, which is
on-chain; it adds the worker's reason and message when IPFS serves the evidence quickly
and it is small. The worker's words are shown as data: truncated, printable text only.
"""

from __future__ import annotations

from inferchain import untrusted_json
from inferchain.gateway.db.models import Job
from inferchain.ipfs import IpfsClient, IpfsError

#: Evidence larger than this is not read (the worker's own documents are ~300 bytes).
MAX_EVIDENCE_BYTES = 4096
#: Seconds an answer waits for the evidence; it names the CID either way.
EVIDENCE_TIMEOUT_S = 3.0
_MAX_SHOWN = 300

_ENDINGS = {
    "timed_out": "its worker submitted no result in time; the price was refunded",
    "cancelled": "it was cancelled before a worker claimed it",
    "expired": "no worker claimed it before its request deadline",
    "refunded": "its result lost a dispute; the price was refunded",
    "dispute_expired": "its dispute was never decided; the result stood and the bond went back",
}


def describe_ending(ipfs: IpfsClient, job: Job) -> str:
    """One sentence on how ``job`` (settled, without a result) ended."""
    if job.status != "failed":
        why = _ENDINGS.get(job.status, "it has no result")
        return f"job {job.job_id} ended {job.status}: {why}"
    if job.evidence_cid is None:
        return f"job {job.job_id} failed: its worker reported it without evidence"
    reason = evidence_reason(ipfs, job.evidence_cid)
    said = f" ({reason})" if reason else ""
    return (
        f"job {job.job_id} failed: its worker refused the input{said}; the price was "
        f"refunded; evidence {job.evidence_cid}"
    )


def evidence_reason(ipfs: IpfsClient, cid: str) -> str | None:
    """``"<reason>: <message>"`` from the evidence at ``cid``, or None when unreadable."""
    try:
        data = ipfs.cat(cid, max_size=MAX_EVIDENCE_BYTES, timeout=EVIDENCE_TIMEOUT_S)
        doc = untrusted_json.loads(data, source="failure evidence")
    except (IpfsError, untrusted_json.UntrustedJsonError):
        return None
    if not isinstance(doc, dict):
        return None
    reason, message = doc.get("reason"), doc.get("message")
    parts = [p for p in (reason, message) if isinstance(p, str) and p]
    if not parts:
        return None
    text = (
        parts[-1] if len(parts) == 2 and parts[1].startswith(f"{parts[0]}:") else ": ".join(parts)
    )
    return _printable(text)


def _printable(text: str) -> str:
    clean = "".join(c if c.isprintable() else " " for c in text).strip()
    return clean if len(clean) <= _MAX_SHOWN else clean[: _MAX_SHOWN - 1] + "…"
