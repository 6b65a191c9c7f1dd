"""Prometheus metrics of one worker, and a tiny HTTP server for /metrics and /health.

Each worker gets its own registry, so two workers in one process (tests, benchmarks) do not
collide. The server binds 127.0.0.1 by default; /health answers 200 only while the worker
can do its job (status ``ok``) and 503 with the reasons otherwise: ``unhealthy`` when the
loop has had no good tick for too long (RPC down or frozen) or IPFS is not answering,
``cannot_claim`` when the registry refuses its claims (stake below minimum, exiting).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

_LATENCY = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class WorkerMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.claimed = Counter("inferchain_worker_jobs_claimed", "Jobs claimed", registry=r)
        self.completed = Counter(
            "inferchain_worker_jobs_completed", "Results submitted", registry=r
        )
        self.failed = Counter("inferchain_worker_jobs_failed", "Jobs reported invalid", registry=r)
        self.abandoned = Counter(
            "inferchain_worker_jobs_abandoned", "Jobs left (deadline, settled)", registry=r
        )
        self.finalized = Counter("inferchain_worker_jobs_finalized", "Jobs paid", registry=r)
        self.disputed = Counter(
            "inferchain_worker_jobs_disputed", "Results found disputed when finalizing", registry=r
        )
        self.disputes_ended = Counter(
            "inferchain_worker_disputes_ended",
            "Disputes of this worker's results ended: won, expired (the result stood) or lost",
            ["outcome"],
            registry=r,
        )
        self.slashed = Counter(
            "inferchain_worker_slashed", "Collateral slashed on lost disputes (token units)",
            ["token"], registry=r,
        )  # fmt: skip
        self.fast_path = Counter(
            "inferchain_worker_jobs_fast_path",
            "Results submitted on Open (claim and submit in one transaction)",
            registry=r,
        )
        self.races_lost = Counter(
            "inferchain_worker_races_lost",
            "Jobs a rival took first (its claim or submission was skipped)",
            ["stage"],
            registry=r,
        )
        self.retries = Counter(
            "inferchain_worker_retries", "Transient failures", ["stage"], registry=r
        )
        self.batch_size = Histogram(
            "inferchain_worker_batch_size", "Jobs per inference batch",
            buckets=(1, 2, 4, 8, 16, 32, 50), registry=r,
        )  # fmt: skip
        self.inference_s = Histogram(
            "inferchain_worker_inference_seconds", "Model time per batch",
            buckets=_LATENCY, registry=r,
        )  # fmt: skip
        self.end_to_end_s = Histogram(
            "inferchain_worker_claim_to_submit_seconds", "Claim to result on-chain",
            buckets=_LATENCY, registry=r,
        )  # fmt: skip
        self.queue_depth = Gauge("inferchain_worker_queue_depth", "Open jobs known", registry=r)
        self.in_flight = Gauge("inferchain_worker_in_flight", "Claimed, unsubmitted", registry=r)
        self.earnings = Counter(
            "inferchain_worker_earnings", "Earned on finalize (token units)", ["token"], registry=r
        )
        self.last_block = Gauge("inferchain_worker_last_block", "Last block scanned", registry=r)
        self.healthy = Gauge("inferchain_worker_healthy", "1 while /health is ok", registry=r)


class HealthServer:
    """Serves ``/metrics`` and ``/health`` in a daemon thread."""

    def __init__(
        self, metrics: WorkerMetrics, health: Callable[[], dict[str, object]], host: str, port: int
    ) -> None:
        registry = metrics.registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    body, ctype, code = generate_latest(registry), CONTENT_TYPE_LATEST, 200
                elif self.path == "/health":
                    doc = health()
                    body = json.dumps(doc).encode()
                    ctype, code = "application/json", 200 if doc.get("ok") else 503
                else:
                    body, ctype, code = b"not found\n", "text/plain", 404
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="worker-health", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def health_doc(
    last_tick: float,
    max_age_s: float,
    *,
    tick_error: str | None = None,
    ipfs_error: str | None = None,
    cannot_claim: str | None = None,
    **extra: object,
) -> dict[str, object]:
    """The /health document: ``ok``, ``status`` and the ``reasons`` when not ok."""
    age = time.monotonic() - last_tick
    reasons = []
    if age > max_age_s:
        why = f"last error: {tick_error}" if tick_error else "stuck (chain RPC not answering?)"
        reasons.append(f"no good tick for {age:.0f} s (limit {max_age_s:g} s); {why}")
    if ipfs_error:
        reasons.append(f"IPFS not answering: {ipfs_error}")
    status = "unhealthy" if reasons else "cannot_claim" if cannot_claim else "ok"
    if cannot_claim:
        reasons.append(f"cannot claim: {cannot_claim}")
    return {
        "ok": status == "ok",
        "status": status,
        "reasons": reasons,
        "last_tick_age_s": round(age, 3),
        **extra,
    }
