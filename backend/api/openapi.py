"""The OpenAPI document as served, corrected where FastAPI's own is wrong for this gateway.

- FastAPI validates the document through models that type ``minimum`` and ``maximum`` as
  floats, so ``lt=2**63`` came out as ``9.223372036854776e+18`` and clients doing integer
  arithmetic refused int64's largest value. Whole-number bounds are written as integers
  again; declare bounds a double holds exactly (``lt=2**63``, never ``le=2**63 - 1``).
- Every route is rate-limited (``deps.ClientLimited``), so every operation lists 429.
- Every JSON body passes ``middleware.JsonBodyGuard`` first, so those operations list 400.
- Errors under ``/v1`` take OpenAI's shape, and 400 where others answer 422
  (``errors.is_openai_path``): their operations say so.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from inferchain.gateway.api.errors import is_openai_path

_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_RATE_LIMITED = {
    "description": "rate_limited (see Retry-After)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
}
_OPENAI_ERROR = {"$ref": "#/components/schemas/OpenAIErrorResponse"}
_JSON_REFUSED = {
    "description": "request.json_* (invalid, not_utf8, surrogate, too_deep, non_finite)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
}


def correct_openapi(app: FastAPI) -> None:
    """Wrap ``app.openapi`` (FastAPI caches the document it returns; fixes are idempotent)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        _integer_bounds(schema)
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"].setdefault("429", _RATE_LIMITED)
                    if _takes_json(operation):
                        operation["responses"].setdefault("400", _JSON_REFUSED)
                    if is_openai_path(path):
                        _openai_errors(operation["responses"])
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _openai_errors(responses: dict[str, Any]) -> None:
    """OpenAI's error body on every error status; 422 documented as the 400 it is."""
    if "422" in responses:
        responses.setdefault("400", responses.pop("422"))
    for status, response in list(responses.items()):
        if status.isdigit() and int(status) >= 400:
            response = dict(response)
            response["content"] = {"application/json": {"schema": _OPENAI_ERROR}}
            responses[status] = response


def _takes_json(operation: dict[str, Any]) -> bool:
    content = operation.get("requestBody", {}).get("content", {})
    return any(t == "application/json" or t.endswith("+json") for t in content)


def _integer_bounds(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _BOUNDS and isinstance(value, float) and value.is_integer():
                node[key] = int(value)
            else:
                _integer_bounds(value)
    elif isinstance(node, list):
        for item in node:
            _integer_bounds(item)
