"""Per-key token buckets in memory (one process; put a shared limiter in front for more).

A key (``ip:<addr>`` of a client, or a wallet address) holds up to ``burst`` tokens that
refill at ``per_minute / 60`` per second; each request takes one. Idle buckets are dropped
once there are many, so memory stays bounded by the number of recently active keys.

Every request takes one from its client address's bucket (``ClientRateLimit``, before
routing, so public, unknown and anonymous requests too); a signed-in one also takes one
from its wallet's (``deps.get_wallet_session``), wherever it comes from. The client
address is the socket peer's; ``X-Forwarded-For`` replaces it only when the peer is one
of the ``trusted_proxies`` (uvicorn's proxy headers, set by ``inferchain gateway run``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from inferchain.gateway.api.errors import error_json
from inferchain.gateway.errors import RateLimited
from inferchain.gateway.metrics import GatewayMetrics

_MAX_BUCKETS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_minute <= 0 or burst <= 0:
            raise ValueError("per_minute and burst must be positive")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def check(self, key: str, cost: float = 1.0) -> None:
        """Take ``cost`` tokens from ``key``'s bucket or raise RateLimited."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= _MAX_BUCKETS:
                    self._evict_idle(now)
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens < cost:
                raise RateLimited((cost - bucket.tokens) / self.rate)
            bucket.tokens -= cost

    def _evict_idle(self, now: float) -> None:
        full_after = self.burst / self.rate
        idle = [k for k, b in self._buckets.items() if now - b.updated >= full_after]
        for key in idle or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[key]


class ClientRateLimit:
    """ASGI middleware: 429 ``rate_limited`` (with ``Retry-After``) once a client address
    has spent its bucket, before the request is routed or its body read."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, metrics: GatewayMetrics) -> None:
        self.app = app
        self.limiter = limiter
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        try:
            self.limiter.check(f"ip:{client[0] if client else 'unknown'}")
        except RateLimited as exc:
            self.metrics.rate_limited.inc()
            response = error_json(429, exc.code, exc.message, path=scope.get("path"))
            response.headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
