"""The worker's persisted state: last block scanned, open jobs known, jobs held.

One JSON file, replaced atomically (write a temp file, fsync, rename), so a SIGKILL at
any instant leaves either the old or the new state. It is a cache: the contract stays the
source of truth and every job read back is checked with ``jobStatus`` before use.

The file is bound to one deployment on one chain by block hashes (genesis and the market's
deployment block), not by addresses alone: a reset dev chain redeploys to the same
addresses, and a stale ``last_block`` ahead of the new chain would blind discovery. A file
that cannot be used raises :class:`StateFileUnusable` naming the file and the problem; the
node then sets it aside and rebuilds from the chain (docs/worker.md).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inferchain.chain import Chain
from inferchain.ipfs import Cid
from inferchain.market import Job, JobOutcome, JobRecord, JobStatus, JobTerms, MarketAddresses
from inferchain.market.jobs import ZERO32
from inferchain.untrusted_json import UntrustedJsonError, loads
from inferchain.worker.errors import StateFileUnusable, WorkerNotReady
from inferchain.worker.tracked import Phase, TrackedJob

log = logging.getLogger(__name__)

#: 3: contracts v2 slice 3 (the job tuple commits its input and usage; the bond is a term).
#: Disputed jobs (phase ``disputed``, ``arbitration_deadline``) were added without a new
#: version: older files read as they are; a worker older than them sets a newer file aside
#: and rebuilds from the chain, as for any file it cannot read.
VERSION = 3


@dataclass(frozen=True)
class ChainBinding:
    """Which chain and deployment a state file belongs to."""

    chain_id: int
    market: str
    genesis_hash: str
    deployed_block: int
    deployed_block_hash: str

    @classmethod
    def of(cls, chain: Chain, addresses: MarketAddresses) -> ChainBinding:
        """Read the two block hashes from ``chain``."""
        eth = chain.w3.eth
        return cls(
            chain_id=chain.chain_id,
            market=addresses.job_market.lower(),
            genesis_hash=bytes(eth.get_block(0)["hash"]).hex(),
            deployed_block=addresses.deployed_block,
            deployed_block_hash=bytes(eth.get_block(addresses.deployed_block)["hash"]).hex(),
        )


@dataclass
class WorkerState:
    binding: ChainBinding
    last_block: int
    open_jobs: dict[int, JobRecord] = field(default_factory=dict)
    held: dict[int, TrackedJob] = field(default_factory=dict)


def save_state(path: Path, state: WorkerState) -> None:
    doc = {
        "version": VERSION,
        "binding": asdict(state.binding),
        "last_block": state.last_block,
        "open_jobs": [_record_to_json(r) for r in state.open_jobs.values()],
        "held": [_tracked_to_json(t) for t in state.held.values()],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(doc, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(path: Path, binding: ChainBinding, head: int) -> WorkerState | None:
    """The state saved at ``path`` for ``binding``; None when there is no file.

    Raises ``StateFileUnusable`` (naming the file and the problem) when it cannot be read,
    is not the JSON this version writes, belongs to another chain or deployment, or has
    scanned past ``head``.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileUnusable(path, f"cannot be read: {exc.strerror or exc}") from exc
    try:
        doc = loads(raw, source=f"worker state file {path}")
    except UntrustedJsonError as exc:
        raise StateFileUnusable(path, f"is not JSON ({exc.reason}): {exc.detail}") from exc
    if not isinstance(doc, dict):
        raise StateFileUnusable(path, f"holds a JSON {type(doc).__name__}, expected an object")
    if doc.get("version") != VERSION:
        raise StateFileUnusable(
            path, f"has format version {doc.get('version')!r}; this worker reads {VERSION}"
        )
    if doc.get("binding") != asdict(binding):
        raise StateFileUnusable(
            path,
            "was written for another chain or deployment (the genesis or deployment block "
            "hash differs: a reset chain or another market)",
        )
    last_block = doc.get("last_block")
    if type(last_block) is not int or last_block < binding.deployed_block - 1:
        raise StateFileUnusable(path, f"last_block is {last_block!r}, expected a block number")
    if last_block > head:
        raise StateFileUnusable(path, f"last_block {last_block} is ahead of the chain head {head}")
    try:
        records = [_record_from_json(r) for r in doc["open_jobs"]]
        held = [_tracked_from_json(t) for t in doc["held"]]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateFileUnusable(path, f"has a malformed job entry: {exc!r}") from exc
    return WorkerState(
        binding=binding,
        last_block=last_block,
        open_jobs={r.job_id: r for r in records},
        held={t.job_id: t for t in held},
    )


def restore_state(path: Path, binding: ChainBinding, head: int) -> WorkerState | None:
    """The saved state, or None to rebuild it from the chain: no file, or an unusable one.

    An unusable file is renamed next to itself (kept for inspection, never read again) and a
    warning names it and the problem. Rebuilding is safe because the file is only a cache;
    refusing to start instead would leave held jobs to time out and be slashed. Raises
    ``WorkerNotReady`` only when the file cannot even be moved aside.
    """
    try:
        return load_state(path, binding, head)
    except StateFileUnusable as exc:
        unusable = exc
    aside = path.with_name(f"{path.name}.unusable-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    try:
        os.replace(path, aside)
    except OSError as exc:
        raise WorkerNotReady(
            f"{unusable}; it cannot be moved aside ({exc.strerror or exc}): "
            "move or delete it, then start again"
        ) from exc
    log.warning(
        "%s; moved to %s, rebuilding the state from the chain",
        unusable, aside.name, extra={"path": str(path), "problem": unusable.problem},
    )  # fmt: skip
    return None


# -- encoding ---------------------------------------------------------------------------


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def _unhex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def _job_to_json(job: Job) -> dict[str, Any]:
    return {
        "requester": job.requester,
        "model_id": job.model_id,
        "terms": {k: v.hex() if k in _HEX_TERMS else v for k, v in job.terms.__dict__.items()},
        "worker": job.worker,
        "output_codec": job.output_codec,
        "output_digest": job.output_digest.hex(),
        "output_hash": job.output_hash.hex(),
        "usage": job.usage.hex(),
        "input_codec": job.input_codec,
        "input_digest": job.input_digest.hex(),
    }


def _int(d: dict[str, Any], key: str, *, optional: bool = False) -> Any:
    """``d[key]`` if it is an integer (or None when ``optional``); a hand-edited or damaged
    file must fail here, not later inside a transaction."""
    value = d[key]
    if type(value) is int or (optional and value is None):
        return value
    raise TypeError(f"{key} is {value!r}, expected an integer")


def _str(d: dict[str, Any], key: str) -> str:
    value = d[key]
    if type(value) is not str:
        raise TypeError(f"{key} is {value!r}, expected a string")
    return value


_TEXT_TERMS = frozenset({"token", "provider", "callback"})
_HEX_TERMS = frozenset({"pricing_terms"})


def _term(terms: dict[str, Any], key: str) -> Any:
    if key in _HEX_TERMS:
        return bytes.fromhex(_str(terms, key))
    return _str(terms, key) if key in _TEXT_TERMS else _int(terms, key)


def _job_from_json(d: dict[str, Any]) -> Job:
    terms = d["terms"]
    if type(terms) is not dict:
        raise TypeError(f"terms is {terms!r}, expected an object")
    checked = {k: _term(terms, k) for k in terms}
    return Job(
        requester=_str(d, "requester"),
        model_id=_int(d, "model_id"),
        terms=JobTerms(**checked),
        worker=_str(d, "worker"),
        output_codec=_int(d, "output_codec"),
        output_digest=bytes.fromhex(_str(d, "output_digest")),
        output_hash=bytes.fromhex(_str(d, "output_hash")),
        usage=bytes.fromhex(_str(d, "usage")),
        input_codec=_int(d, "input_codec"),
        input_digest=bytes.fromhex(_str(d, "input_digest")),
    )


def _record_to_json(r: JobRecord) -> dict[str, Any]:
    return {
        "job_id": r.job_id,
        "job": _job_to_json(r.job),
        "status": int(r.status),
        "input_cid": r.input_cid.hex(),
        "request_deadline": r.request_deadline,
        "created_block": r.created_block,
        "claim_deadline": r.claim_deadline,
        "challenge_deadline": r.challenge_deadline,
        "output_cid": _hex(r.output_cid),
        "evidence_cid": _hex(r.evidence_cid),
        "outcome": r.outcome.value if r.outcome else None,
    }


def _record_from_json(d: dict[str, Any]) -> JobRecord:
    return JobRecord(
        job_id=_int(d, "job_id"),
        job=_job_from_json(d["job"]),
        status=JobStatus(_int(d, "status")),
        input_cid=bytes.fromhex(_str(d, "input_cid")),
        request_deadline=_int(d, "request_deadline"),
        created_block=_int(d, "created_block"),
        claim_deadline=_int(d, "claim_deadline", optional=True),
        challenge_deadline=_int(d, "challenge_deadline", optional=True),
        output_cid=_unhex(d["output_cid"]),
        evidence_cid=_unhex(d["evidence_cid"]),
        outcome=JobOutcome(d["outcome"]) if d["outcome"] else None,
    )


def _tracked_to_json(t: TrackedJob) -> dict[str, Any]:
    # Unpinned work is redone after a restart (outputs are deterministic), so only the
    # pinned CID and hash survive; earlier phases are saved as `claimed`.
    keep = t.phase in (Phase.PINNED, Phase.SUBMITTED, Phase.DISPUTED)
    start = Phase.OPEN if t.speculative else Phase.CLAIMED
    return {
        "job_id": t.job_id,
        "job": _job_to_json(t.job),
        "input_cid": t.input_cid.hex(),
        "claim_deadline": t.claim_deadline,
        "phase": t.phase.value if keep else start.value,
        "pinned_cid": str(t.pinned_cid) if keep and t.pinned_cid else None,
        "output_hash": _hex(t.output_hash) if keep else None,
        "is_failure": t.is_failure if keep else False,
        "usage": _hex(t.usage) if keep else None,
        "challenge_deadline": t.challenge_deadline,
        "arbitration_deadline": t.arbitration_deadline,
        "speculative": t.speculative,
    }


def _tracked_from_json(d: dict[str, Any]) -> TrackedJob:
    is_failure, speculative = d["is_failure"], d["speculative"]
    if type(is_failure) is not bool or type(speculative) is not bool:
        raise TypeError(f"is_failure, speculative are {is_failure!r}, {speculative!r}: not bools")
    return TrackedJob(
        job_id=_int(d, "job_id"),
        job=_job_from_json(d["job"]),
        input_cid=bytes.fromhex(_str(d, "input_cid")),
        claim_deadline=_int(d, "claim_deadline"),
        phase=Phase(d["phase"]),
        pinned_cid=Cid.parse(_str(d, "pinned_cid")) if d["pinned_cid"] else None,
        output_hash=_unhex(d["output_hash"]),
        is_failure=is_failure,
        challenge_deadline=_int(d, "challenge_deadline", optional=True),
        # files from before disputed jobs were kept have none (and no job disputed)
        arbitration_deadline=_int(d, "arbitration_deadline", optional=True)
        if "arbitration_deadline" in d
        else None,
        speculative=speculative,
        usage=_unhex(d.get("usage")) or ZERO32,  # files from before metering have none
    )
