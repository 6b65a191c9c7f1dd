"""ASGI middleware: a request body size limit, a JSON body guard and request metrics.

The size limit is pure ASGI so that it counts bytes as they arrive: a client that lies in
Content-Length or streams chunks is cut off at the limit, before the body is buffered. The
JSON guard runs inside it, so it only ever buffers a body within the limit.
"""

from __future__ import annotations

import email.message
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inferchain.gateway.api.errors import error_json
from inferchain.gateway.metrics import GatewayMetrics
from inferchain.untrusted_json import DEFAULT_MAX_DEPTH, UntrustedJsonError, loads


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Answer 413 ``request.too_large`` to any request body over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    if not started and not refused:
                        # Answer now: the app may turn the exception below into its own 400.
                        refused = True
                        await self._refuse(scope, receive, send)
                    raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out already; drop whatever the app answers after it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_json(
            413,
            "request.too_large",
            f"request body exceeds {self.max_bytes} bytes",
            path=scope.get("path"),
        )
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


#: ``UntrustedJsonError.reason`` -> (error code, message) of the 400 answer.
JSON_REFUSALS = {
    "syntax": ("request.json_invalid", "the body is not valid JSON"),
    "not_utf8": ("request.json_not_utf8", "the body is not UTF-8"),
    "surrogate": (
        "request.json_surrogate",
        "a string in the body holds a lone UTF-16 surrogate (\\ud800-\\udfff)",
    ),
    "too_deep": ("request.json_too_deep", f"the body nests deeper than {DEFAULT_MAX_DEPTH} levels"),
    "non_finite": (
        "request.json_non_finite",
        "the body holds NaN, Infinity or a number beyond a double (e.g. 1e400)",
    ),
}


class JsonBodyGuard:
    """Answer 400 ``request.json_*`` to a JSON body that ``untrusted_json`` refuses.

    FastAPI parses JSON bodies with ``json.loads``, which ~200 KB of ``[[[[…`` kills with a
    segfault (see ``inferchain.untrusted_json``), before any route dependency (sign-in
    included) runs. This guard sees every JSON body first, on every route, so what FastAPI
    parses after it is proven shallow, finite and UTF-8. Mount it inside ``BodySizeLimit``:
    the body it buffers is bounded.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _declares_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left; nothing to answer
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            try:
                loads(body, source="request body")
            except UntrustedJsonError as exc:
                code, text = JSON_REFUSALS.get(exc.reason, JSON_REFUSALS["syntax"])
                detail = {"loc": ["body"], "msg": exc.detail, "type": exc.reason}
                refusal = error_json(400, code, text, details=[detail], path=scope.get("path"))
                await refusal(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: only a disconnect can come
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _declares_json(scope: Scope) -> bool:
    """Whether FastAPI will parse the body as JSON, decided exactly as it does.

    The same header (the first one) read the same way (``email.message``): any request
    FastAPI would hand to ``json.loads`` must pass here first. Routes keep FastAPI's default
    ``strict_content_type``: a body without a content type is never parsed as JSON.
    """
    value = Headers(scope=scope).get("content-type")
    if not value:
        return False
    message = email.message.Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class RequestMetrics:
    """Count and time requests by route template (not raw path: ids would explode labels)."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def tracked_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)
