"""One JSON error shape for every failure, and its OpenAPI documentation.

Handlers turn GatewayError, FastAPI validation errors, Starlette HTTP errors (404 on an
unknown path, 405) and any unexpected exception into ``ErrorResponse``; nothing a
lower layer said is echoed to the client.

Under ``/v1`` (the OpenAI-compatible API) the same errors take OpenAI's shape,
``OpenAIErrorResponse``: ``{"error": {"message", "type", "param", "code"}}``, ``code``
still the gateway's dotted code (and ``details`` where a refused body has them), and a
request the schema refuses is 400 as OpenAI answers it (422 elsewhere), so OpenAI
clients raise ``BadRequestError``.
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

from inferchain.gateway.errors import GatewayError, RateLimited, openai_error_type

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


class OpenAIErrorInfo(BaseModel):
    message: str = Field(description="human-readable; may change between versions")
    type: str = Field(description="the kind of error, by HTTP status (docs/gateway.md)")
    param: str | None = Field(description="the request field at fault, when one is")
    code: str = Field(description="stable, dotted identifier, e.g. openai.model_not_found")
    details: list[ErrorDetail] | None = Field(
        None, description="the gateway's own addition: every field a refused body got wrong"
    )


class OpenAIErrorResponse(BaseModel):
    """OpenAI's error body, as ``/v1`` answers every error."""

    error: OpenAIErrorInfo


def is_openai_path(path: str | None) -> bool:
    """Whether ``path`` is under ``/v1``, whose errors take OpenAI's shape."""
    return path is not None and (path == "/v1" or path.startswith("/v1/"))


def openai_status(status: int) -> int:
    """OpenAI answers 400 where the rest of the gateway answers 422."""
    return 400 if status == 422 else status


def error_json(
    status: int,
    code: str,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    param: str | None = None,
    path: str | None = None,
) -> JSONResponse:
    """The error response; OpenAI's shape when ``path`` is under ``/v1``."""
    if is_openai_path(path):
        status = openai_status(status)
        info = OpenAIErrorInfo(
            message=message,
            type=openai_error_type(status),
            param=param,
            code=code,
            details=[ErrorDetail(**d) for d in details] if details is not None else None,
        )
        shaped = info.model_dump(exclude={"details"} if details is None else set())
        return JSONResponse({"error": shaped}, status_code=status)
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


def openai_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses`` for a ``/v1`` route: OpenAI's error body, 422 answered as 400."""
    entries = sorted({openai_status(s) for s in statuses})
    return {
        s: {"model": OpenAIErrorResponse, "description": _HTTP_CODES.get(s, "error")}
        for s in entries
    }


async def _gateway_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GatewayError)
    response = error_json(exc.status, exc.code, exc.message, param=exc.param, path=request.url.path)
    response.headers.update(exc.headers)
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
    path = request.url.path
    if is_openai_path(path) and details:
        params = [_param_name(d["loc"]) for d in details]
        problems = [f"{p or 'body'}: {d['msg']}" for p, d in zip(params, details, strict=True)]
        message = "; ".join(problems)
        return error_json(
            422, "request.invalid", message, details=details, param=params[0], path=path
        )
    return error_json(
        422, "request.invalid", "the request does not match the schema", details=details
    )


def _param_name(loc: list[str | int]) -> str | None:
    """OpenAI's name of a field: ``messages[0].content`` for loc body/messages/0/content."""
    name = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path") else loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name or None


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http.{exc.status_code}")
    message = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else code
    response = error_json(exc.status_code, code, message, path=request.url.path)
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
    return error_json(500, "internal", "internal error; it was logged", path=request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
