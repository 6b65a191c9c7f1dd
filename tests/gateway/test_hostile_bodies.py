"""Hostile JSON bodies get a 400 with a named code on every route, before FastAPI's own
``json.loads`` (which a deeply nested body used to crash, see issue 11) and before sign-in.

In-process through TestClient, then issue 11's payload against a real gateway process.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from inferchain.gateway.api.middleware import JSON_REFUSALS, JsonBodyGuard
from tests.gateway.conftest import bearer, gateway_process, sign_in
from tests.hostile import DEEP

KEY = "0x" + "5" * 64
JSON = {"Content-Type": "application/json"}

#: body -> the code every JSON route answers it with.
HOSTILE = {
    DEEP: "request.json_too_deep",
    b'{"statement": ' + b"[" * 65 + b"]" * 65 + b"}": "request.json_too_deep",
    b'{"statement": NaN}': "request.json_non_finite",
    b'{"model_id": 1, "input": {"x": Infinity}}': "request.json_non_finite",
    b'{"model_id": 1, "input": {"x": 1e400}}': "request.json_non_finite",
    b'{"model_id": 3, "input": {"text": "\\ud800"}}': "request.json_surrogate",
    b'{"statement": "\\udc00"}': "request.json_surrogate",
    b'{"statement": "\xed\xa0\x80"}': "request.json_not_utf8",
    b'{"statement": "caf\xe9"}': "request.json_not_utf8",
    b'{"statement": "x"': "request.json_invalid",
    b'{"statement": "x"} {}': "request.json_invalid",
    b"1" * 5000: "request.json_invalid",
}


def error(response) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return response.json()["error"]


def test_every_refusal_reason_has_a_code() -> None:
    reasons = {"syntax", "not_utf8", "surrogate", "too_deep", "non_finite"}
    assert set(JSON_REFUSALS) == reasons
    assert all(code.startswith("request.json_") for code, _ in JSON_REFUSALS.values())


@pytest.mark.parametrize("path", ["/auth/nonce", "/auth/verify", "/jobs", "/v1/completions"])
@pytest.mark.parametrize(("body", "code"), HOSTILE.items(), ids=lambda v: str(v)[:24])
def test_hostile_body_answers_400_with_its_code(  # type: ignore[no-untyped-def]
    make_client, path: str, body: bytes, code: str
) -> None:
    client = make_client()
    response = client.post(path, content=body, headers=JSON)  # no sign-in: refused before it
    assert response.status_code == 400, response.text
    assert error(response)["code"] == code
    assert error(response)["details"][0]["loc"] == ["body"]
    assert client.get("/health").status_code == 200


def test_lone_surrogate_in_a_signed_in_request_is_400_not_500(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    auth = {**bearer(sign_in(client, KEY)), **JSON}
    bodies = {
        "/jobs": b'{"model_id": 3, "input": {"text": "\\ud800"}}',
        "/v1/completions": b'{"model": "inferchain-1", "prompt": "hi \\ud800"}',
        "/v1/chat/completions": (
            b'{"model": "inferchain-1", "messages": [{"role": "user", "content": "hi"}],'
            b' "stop": ["\\udfff"]}'
        ),
    }
    for path, body in bodies.items():
        response = client.post(path, content=body, headers=auth)
        assert response.status_code == 400, (path, response.text)
        assert error(response)["code"] == "request.json_surrogate"


def test_surrogate_bytes_in_path_or_query_are_4xx(make_client) -> None:  # type: ignore[no-untyped-def]
    """Percent-decoding replaces invalid UTF-8: no lone surrogate gets past the URL either."""
    client = make_client()
    auth = bearer(sign_in(client, KEY))
    for url in ("/jobs?status=%ED%A0%80", "/jobs/%ED%A0%80", "/models/%ED%A0%80%FF"):
        response = client.get(url, headers=auth)
        assert 400 <= response.status_code < 500, (url, response.text)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/vnd.inferchain+json",
        " application/json ;x=1",
    ],
)
def test_every_json_media_type_is_guarded(make_client, content_type: str) -> None:  # type: ignore[no-untyped-def]
    response = make_client().post(
        "/auth/nonce", content=DEEP, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400 and error(response)["code"] == "request.json_too_deep"


def test_first_of_two_content_types_decides_like_fastapi(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    headers = [("Content-Type", "application/json"), ("Content-Type", "text/plain")]
    response = client.post("/auth/nonce", content=DEEP, headers=headers)
    assert response.status_code == 400 and error(response)["code"] == "request.json_too_deep"


def test_non_json_media_type_is_not_parsed(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    for headers in ({"Content-Type": "text/plain"}, {}):
        response = client.post("/auth/nonce", content=DEEP, headers=headers)
        assert response.status_code == 422  # FastAPI never parses it: the schema refuses it


def test_valid_json_body_passes_the_guard_unchanged(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client()
    statement = "Ünïcode 😀 statement"
    body = json.dumps({"address": Account.from_key(KEY).address, "statement": statement})
    response = client.post(
        "/auth/nonce",
        content=body.encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    assert statement in response.json()["message"]
    assert client.post("/auth/nonce", content=b"", headers=JSON).status_code == 422


def test_oversized_json_body_is_413_before_it_is_parsed(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(max_body_bytes=64 * 1024)
    response = client.post("/auth/nonce", content=DEEP, headers=JSON)
    assert response.status_code == 413 and error(response)["code"] == "request.too_large"


def test_guard_joins_chunks_and_replays_them_to_the_app() -> None:
    seen: list[bytes] = []

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        message = await receive()
        seen.append(message["body"])
        assert message["more_body"] is False
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    messages = [
        {"type": "http.request", "body": b'{"a": [1,', "more_body": True},
        {"type": "http.request", "body": b" 2]}", "more_body": False},
    ]
    sent: list[dict] = []  # type: ignore[type-arg]

    async def receive() -> dict:  # type: ignore[type-arg]
        return messages.pop(0)

    async def send(message: dict) -> None:  # type: ignore[type-arg]
        sent.append(message)

    scope = {"type": "http", "headers": [(b"content-type", b"application/json")]}
    asyncio.run(JsonBodyGuard(app)(scope, receive, send))
    assert seen == [b'{"a": [1, 2]}'] and sent[0]["status"] == 204


def test_openapi_documents_the_400_on_every_json_body_route(make_client) -> None:  # type: ignore[no-untyped-def]
    schema = make_client().get("/openapi.json").json()
    json_routes = 0
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                json_routes += 1
                assert "400" in op["responses"], f"{method} {path}"
    assert json_routes >= 6


# --- a real gateway process (uvicorn) ---------------------------------------------------------


def test_deep_body_to_a_real_gateway_answers_400_and_it_keeps_serving(tmp_path: Path) -> None:
    """Issue 11: this request killed the process (SIGSEGV) on every JSON route."""
    with (
        gateway_process(tmp_path) as (url, process),
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        token = sign_in(client, KEY)
        job = b'{"model_id": 1, "input": ' + DEEP + b"}"
        answers = [
            client.post("/auth/nonce", content=DEEP, headers=JSON),  # unauthenticated
            client.post("/jobs", content=job, headers=JSON),  # refused before sign-in is checked
            client.post("/jobs", content=job, headers={**JSON, **bearer(token)}),
            client.post("/v1/completions", content=DEEP, headers={**JSON, **bearer(token)}),
        ]
        for response in answers:
            assert response.status_code == 400, response.text
            assert error(response)["code"] == "request.json_too_deep"
        assert client.get("/health").json()["status"] == "ok"
        normal = client.post("/auth/nonce", json={"address": Account.from_key(KEY).address})
        assert normal.status_code == 200, normal.text
        assert process.poll() is None
