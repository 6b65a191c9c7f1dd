"""Errors, limits, CORS, health, metrics, settings and the OpenAPI schema."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from inferchain.devstack import dev_private_keys
from inferchain.errors import ConfigError
from inferchain.gateway import GatewaySettings
from inferchain.gateway.api.ratelimit import RateLimiter
from inferchain.gateway.errors import RateLimited
from inferchain.settings import load_settings
from tests.gateway.conftest import bearer, sign_in

KEY = "0x" + "7" * 64
REAL_SECRET = "a-real-production-secret-of-more-than-32-chars"


def error(response) -> dict:  # type: ignore[no-untyped-def,type-arg]
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    return body["error"]  # type: ignore[no-any-return]


def test_unknown_path_and_method_use_the_error_shape(make_client) -> None:
    client = make_client()
    missing = client.get("/nope")
    assert missing.status_code == 404 and error(missing)["code"] == "not_found"
    wrong = client.delete("/health")
    assert wrong.status_code == 405 and error(wrong)["code"] == "method_not_allowed"


def test_validation_errors_list_locations_without_echoing_input(make_client) -> None:
    client = make_client()
    response = client.post("/auth/nonce", json={"address": "not-an-address-secret-value"})
    body = error(response)
    assert response.status_code == 422 and body["code"] == "request.invalid"
    assert body["details"][0]["loc"] == ["body", "address"]
    assert "secret-value" not in response.text
    broken = client.post(
        "/auth/nonce", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and error(broken)["code"] == "request.json_invalid"


def test_unexpected_errors_are_500_without_details(make_client) -> None:
    client = make_client()

    @client.app.get("/boom")
    def boom() -> None:
        raise RuntimeError("database password is hunter2")

    response = client.get("/boom")
    assert response.status_code == 500 and error(response)["code"] == "internal"
    assert "hunter2" not in response.text


def test_request_body_limit(make_client) -> None:
    client = make_client(max_body_bytes=1024)
    declared = client.post(
        "/auth/verify", content=b"x" * 2048, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413 and error(declared)["code"] == "request.too_large"

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(4):
            yield b"x" * 512

    streamed = client.post(
        "/auth/verify", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413 and error(streamed)["code"] == "request.too_large"


def test_rate_limit_per_wallet_and_per_client(make_client) -> None:
    client = make_client(rate_burst=3, rate_per_minute=1)
    token = sign_in(client, KEY)  # two requests from this client (nonce, verify)
    assert client.get("/auth/me", headers=bearer(token)).status_code == 200
    refused = client.get("/auth/me", headers=bearer(token))  # the client's fourth
    assert refused.status_code == 429 and error(refused)["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    # The wallet's own bucket follows it to other addresses: two requests left of three.
    elsewhere = TestClient(client.app, raise_server_exceptions=False, client=("10.0.0.2", 1))
    statuses = [elsewhere.get("/auth/me", headers=bearer(token)).status_code for _ in range(2)]
    assert statuses == [200, 200]
    fresh = TestClient(client.app, raise_server_exceptions=False, client=("10.0.0.3", 1))
    assert fresh.get("/auth/me", headers=bearer(token)).status_code == 429
    assert fresh.get("/models").status_code == 200  # that address has tokens, the wallet none


@pytest.mark.parametrize(
    ("path", "status"),
    [("/health", 200), ("/models", 200), ("/openapi.json", 200), ("/nope", 404), ("/auth/me", 401)],
)
def test_public_and_anonymous_requests_are_limited_per_client(
    make_client, path: str, status: int
) -> None:
    client = make_client(rate_burst=2, rate_per_minute=1)
    assert [client.get(path).status_code for _ in range(3)] == [status, status, 429]
    other = TestClient(client.app, raise_server_exceptions=False, client=("10.0.0.3", 1))
    assert other.get(path).status_code == status  # another address has its own bucket


def test_token_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(60, 2, clock=lambda: now[0])
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(RateLimited) as caught:
        limiter.check("a")
    assert caught.value.retry_after_s == pytest.approx(1.0)
    limiter.check("b")  # buckets are per key
    now[0] = 1.0
    limiter.check("a")
    with pytest.raises(ValueError):
        RateLimiter(0, 1)


def test_cors_only_for_configured_origins(make_client) -> None:
    client = make_client(cors_origins=["https://app.example"])
    allowed = client.options(
        "/jobs", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    other = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    closed = make_client().get("/health", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in closed.headers


def test_health_and_metrics(make_client) -> None:
    client = make_client()
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["database"] is True
    client.get("/nope")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert (
        'inferchain_gateway_requests_total{method="GET",route="/health",status="200"} 1.0'
        in metrics.text
    )
    assert 'route="unmatched",status="404"' in metrics.text


def test_chain_routes_answer_503_without_a_market(make_client) -> None:
    client = make_client()
    token = sign_in(client, KEY)
    response = client.post(
        "/jobs", json={"model_id": 1, "input": {"prompt": "hi"}}, headers=bearer(token)
    )
    assert response.status_code == 503 and error(response)["code"] == "chain.not_configured"


def test_openapi_types_every_response(make_client) -> None:
    schema = make_client().get("/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            ok = next(str(s) for s in op["responses"] if str(s).startswith("2"))
            assert op["responses"][ok].get("content"), f"{method} {path} has an untyped {ok}"
            for status, answer in op["responses"].items():
                if str(status)[0] in "45":
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    # /v1 answers OpenAI's error shape (docs/gateway.md)
                    shape = "/OpenAIErrorResponse" if path.startswith("/v1/") else "/ErrorResponse"
                    assert ref.endswith(shape) or ref.endswith("/HTTPValidationError"), (
                        path,
                        status,
                    )


# --- settings -------------------------------------------------------------------------------


def test_local_defaults_load() -> None:
    settings = GatewaySettings()
    assert settings.mode == "local" and settings.siwe_domain == "127.0.0.1:8000"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"mode": "production"}, "placeholder"),
        ({"mode": "production", "secret_key": "short"}, "at least 32"),
        (
            {"mode": "production", "secret_key": REAL_SECRET, "relayer_key": dev_private_keys()[0]},
            "dev-chain",
        ),
        ({"mode": "production", "secret_key": REAL_SECRET, "cors_origins": ["*"]}, "cors_origins"),
        ({"market_address": "0x123"}, "not an address"),
    ],
)
def test_unsafe_settings_are_refused(overrides: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_settings(GatewaySettings, **overrides)


def test_production_settings_with_real_secrets_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERCHAIN_GATEWAY_MODE", "production")
    monkeypatch.setenv("INFERCHAIN_GATEWAY_SECRET_KEY", REAL_SECRET)
    monkeypatch.setenv("INFERCHAIN_GATEWAY_MARKET_ADDRESS", "0x" + "ab" * 20)
    settings = GatewaySettings()
    assert settings.secret_key == SecretStr(REAL_SECRET)
    assert settings.market_address is not None
    assert settings.market_address.lower() == "0x" + "ab" * 20


def test_wrong_method_answers_405_allowing_every_method_of_the_path(make_client) -> None:
    client = make_client()
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        concrete = path.replace("{job_id}", "1").replace("{model_id}", "1")
        concrete = concrete.replace("{address}", "0x" + "11" * 20)
        declared = {m.upper() for m in operations}
        response = client.request("PUT" if "PUT" not in declared else "PATCH", concrete)
        assert response.status_code == 405, path
        assert declared <= set(response.headers["Allow"].split(", ")), path
    both = client.put("/jobs")  # GET and POST /jobs are two routes: Starlette named one
    assert set(both.headers["Allow"].split(", ")) == {"GET", "POST"}


def test_openapi_bounds_are_exact_integers(make_client) -> None:
    text = make_client().get("/openapi.json").text
    assert '"exclusiveMaximum":9223372036854775808' in text.replace(" ", "")
    assert "e+18" not in text and "4096.0" not in text
    schema = json.loads(text)
    seed = schema["components"]["schemas"]["CompletionRequest"]["properties"]["seed"]
    assert {"type": "integer", "minimum": 0, "exclusiveMaximum": 2**63} in seed["anyOf"]


def test_openapi_declares_exactly_one_job_input_and_429_everywhere(make_client) -> None:
    schema = make_client().get("/openapi.json").json()
    job = schema["components"]["schemas"]["JobCreate"]
    assert job["oneOf"] == [{"required": ["input"]}, {"required": ["input_cid"]}]
    assert job["properties"]["input_cid"]["type"] == "string"  # present means a CID
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "429" in operation["responses"], (method, path)
