"""Prometheus metrics of one gateway instance, on its own registry (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class GatewayMetrics:
    """Everything ``/metrics`` exposes; one object per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "inferchain_gateway_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "inferchain_gateway_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=r,
        )
        self.rate_limited = Counter(
            "inferchain_gateway_rate_limited_total",
            "Requests refused by the rate limit",
            registry=r,
        )
        self.indexed_block = Gauge(
            "inferchain_indexer_block", "Last block the indexer committed", registry=r
        )
        self.indexer_lag = Gauge(
            "inferchain_indexer_lag_blocks", "Chain head minus the last indexed block", registry=r
        )
        self.logs_indexed = Counter(
            "inferchain_indexer_logs_total", "Contract logs stored", registry=r
        )
        self.reorgs = Counter("inferchain_indexer_reorgs_total", "Reorgs rolled back", registry=r)
        self.reconcile_mismatches = Counter(
            "inferchain_indexer_reconcile_mismatches_total",
            "Rows corrected from contract state",
            ["kind"],
            registry=r,
        )
        self.indexer_errors = Counter(
            "inferchain_indexer_errors_total", "Failed index steps (retried)", registry=r
        )
