"""Errors the gateway answers with: each carries a stable ``code`` and an HTTP status.

Clients see ``{"error": {"code": ..., "message": ...}}``; the message is ours, never the
text of a lower-level exception. ``param`` names the request field at fault, for the
OpenAI-shaped errors of ``/v1`` (``api.errors``)::

    InferchainError
    └── GatewayError                 code, status, message
        ├── AuthError                401 auth.*  (also PermissionError)
        ├── NotFound                 404 *.not_found  (also LookupError)
        ├── BadRequest               400/409/422 client mistakes  (also ValueError)
        ├── RateLimited              429 rate_limited
        └── Unavailable              503 a dependency (chain, IPFS) is down (also ConnectionError)
"""

from __future__ import annotations

from inferchain.errors import InferchainError


class GatewayError(InferchainError):
    """An error with a stable code the client can branch on."""

    status = 500

    def __init__(
        self, code: str, message: str, *, status: int | None = None, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        #: Response headers the error answer carries (e.g. the jobs a request paid for).
        self.headers: dict[str, str] = {}
        if status is not None:
            self.status = status


class AuthError(GatewayError, PermissionError):
    status = 401


class NotFound(GatewayError, LookupError):
    status = 404


class BadRequest(GatewayError, ValueError):
    status = 400


class RateLimited(GatewayError):
    status = 429

    def __init__(self, retry_after_s: float) -> None:
        super().__init__("rate_limited", f"too many requests; retry in {retry_after_s:.1f}s")
        self.retry_after_s = retry_after_s


class Unavailable(GatewayError, ConnectionError):
    status = 503


#: OpenAI's ``error.type`` by status; any other 4xx is ``invalid_request_error``.
_OPENAI_TYPES = {
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    429: "rate_limit_error",
}


def openai_error_type(status: int) -> str:
    """The ``error.type`` of ``/v1`` bodies and of errors inside relayed token streams."""
    if status >= 500:
        return "server_error"
    return _OPENAI_TYPES.get(status, "invalid_request_error")
