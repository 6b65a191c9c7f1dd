"""One JSON error shape for every failure, and its OpenAPI documentation.

Handlers turn GatewayError, FastAPI validation errors, Starlette HTTP errors (404 on an
unknown path, 405) and any unexpected exception into ``ErrorResponse``; nothing a
lower layer said is echoed to the client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from inferchain.gateway.errors import GatewayError, RateLimited

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "request.bad",
    401: "auth.missing",
    403: "auth.forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    429: "rate_limited",
}


class ErrorDetail(BaseModel):
    loc: list[str | int] = Field(description="where in the request the problem is")
    msg: str
    type: str


class ErrorInfo(BaseModel):
    code: str = Field(description="stable, dotted identifier, e.g. auth.expired")
    message: str = Field(description="human-readable; may change between versions")
    details: list[ErrorDetail] | None = None


class ErrorResponse(BaseModel):
    error: ErrorInfo


def error_json(
    status: int, code: str, message: str, *, details: list[dict[str, Any]] | None = None
) -> JSONResponse:
    body = ErrorResponse(
        error=ErrorInfo(
            code=code,
            message=message,
            details=[ErrorDetail(**d) for d in details] if details is not None else None,
        )
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer."""
    return {
        s: {"model": ErrorResponse, "description": _HTTP_CODES.get(s, "error")} for s in statuses
    }


async def _gateway_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GatewayError)
    response = error_json(exc.status, exc.code, exc.message)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
    return response


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "loc": [str(p) if not isinstance(p, int) else p for p in e.get("loc", ())],
            "msg": str(e.get("msg", "invalid")),
            "type": str(e.get("type", "value_error")),
        }
        for e in exc.errors()
    ]
    return error_json(
        422, "request.invalid", "the request does not match the schema", details=details
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http.{exc.status_code}")
    message = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else code
    response = error_json(exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
    return response


def _allowed_methods(request: Request) -> set[str]:
    """Every method a route serves at this path: Starlette's 405 names the first route's."""
    routes = request.app.router.routes
    return {
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    }


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_json(500, "internal", "internal error; it was logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
