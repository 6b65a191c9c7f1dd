"""Hostile bytes at every route of a real gateway process (uvicorn, real Anvil and IPFS): deep
nesting, NaN and 1e400, lone surrogates, non-UTF-8, wrong types, huge strings within the
body limit, signed in and not. No answer is a 5xx and the process never dies.

test_fuzz.py (Schemathesis) explores what the OpenAPI schema describes; this one what it
does not: bytes that are barely JSON, or not at all. Routes come from the served document,
which lists every route of the app.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import hostile
from tests.gateway.conftest import Market, gateway_process, sign_in
from tests.gateway.test_hostile_bodies import HOSTILE

EXAMPLES = 250

#: Field names the routes read, so that generated objects get past "unknown field" often.
FIELDS = ["address", "statement", "message", "signature", "model_id", "input", "input_cid",
          "mode", "max_price", "typed_data", "model", "prompt", "messages", "role", "content",
          "stop", "max_tokens", "temperature", "seed", "token", "cap", "expiry", "n", "stream",
          "text", "array", "image", "top_k"]  # fmt: skip
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/problem+json",
    "text/plain",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    None,
]
METHODS = ["GET", "POST", "DELETE", "PUT"]

json_values = hostile.json_values(FIELDS)
_encode = hostile.encode
text = hostile.text
bodies = st.one_of(
    hostile.bodies(FIELDS),
    st.integers(0, (1 << 20) - 64).map(lambda n: b'{"statement": "' + b"x" * n + b'"}'),
)
segments = st.integers(-(2**70), 2**70).map(str) | text
#: Bodies each route takes, one value left to the fuzzer: they get past the schema and reach
#: the code behind it (pinning a job input, reading typed data, the session signer).
shaped = {
    "/auth/nonce": st.fixed_dictionaries({"address": json_values, "statement": json_values}),
    "/jobs": st.fixed_dictionaries({"model_id": st.sampled_from([1, 2]), "input": json_values})
    | st.fixed_dictionaries({"model_id": json_values, "input_cid": json_values}),
    "/jobs/relay": st.fixed_dictionaries(
        {"typed_data": json_values, "signature": st.just("0x" + "1b" * 65)}
    ),
    "/v1/completions": st.fixed_dictionaries(
        {"model": st.just("inferchain-1"), "prompt": json_values, "stop": json_values}
    ),
    "/v1/signers": st.fixed_dictionaries({"cap": json_values, "ttl_s": json_values}),
}


def _quote(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@pytest.fixture(scope="module")
def target(
    market_module: Market, ipfs_api_url: str, anvil, tmp_path_factory
) -> Iterator[tuple[httpx.Client, subprocess.Popen, str, list[tuple[str, str]]]]:  # type: ignore[no-untyped-def,type-arg]
    d = market_module.d
    with (
        gateway_process(
            tmp_path_factory.mktemp("fuzz-bytes"),
            rpc_url=anvil.rpc_url,
            market_address=d.market.address,
            deployment_block=market_module.deployment_block,
            relayer_key=d.actors.relayer,
            ipfs_api_url=ipfs_api_url,
            ipfs_timeout_s=5,
            completion_timeout_s=1,
            rate_per_minute=10**6,
            rate_burst=10**6,
        ) as (url, process),
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        paths = client.get("/openapi.json").json()["paths"]
        operations = [(method.upper(), path) for path, ops in paths.items() for method in ops]
        assert len(operations) >= 20
        yield client, process, sign_in(client, d.actors.requester), operations
        assert process.poll() is None, f"the gateway died: {process.returncode}"


def _send(
    client: httpx.Client,
    method: str,
    path: str,
    body: bytes,
    content_type: str | None,
    auth: str | None,
    segment: str = "1",
    query: dict[str, str] | None = None,
) -> httpx.Response:
    url = path.replace("{job_id}", _quote(segment)).replace("{model_id}", _quote(segment))
    url = url.replace("{address}", _quote(segment))
    if query:
        url += "?" + "&".join(f"{_quote(k)}={_quote(v)}" for k, v in query.items())
    headers = {} if content_type is None else {"Content-Type": content_type}
    if auth is not None:
        headers["Authorization"] = f"Bearer {auth}"
    return client.request(method, url, content=body, headers=headers)


def _check(response: httpx.Response, what: str, process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    assert process.poll() is None, f"the gateway died on {what}"
    assert response.status_code < 500, f"{what} -> {response.status_code} {response.text[:300]}"


def test_hostile_corpus_on_every_route_no_5xx(target) -> None:  # type: ignore[no-untyped-def]
    client, process, token, operations = target
    for method, path in operations:
        for body in HOSTILE:
            for auth in (None, token):
                response = _send(client, method, path, body, "application/json", auth)
                _check(response, f"{method} {path} {body[:40]!r}", process)
                if method == "POST":
                    assert response.status_code == 400, (path, response.text)
    assert client.get("/health").json()["status"] == "ok"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_random_bytes_on_every_route_no_5xx(target, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    client, process, token, operations = target
    method, path = data.draw(st.sampled_from(operations))
    method = data.draw(st.just(method) | st.sampled_from(METHODS))
    body = data.draw(bodies)
    if method == "POST" and path in shaped and data.draw(st.booleans()):
        body = _encode(data.draw(shaped[path]))
    content_type = data.draw(st.just("application/json") | st.sampled_from(CONTENT_TYPES))
    auth = data.draw(st.just(token) | st.sampled_from([None, "garbage", token[:-2] + "AA", "a.b"]))
    segment = data.draw(segments)
    names = st.sampled_from([*FIELDS, "limit", "before", "status"])
    query = data.draw(st.dictionaries(names, text, max_size=3))
    response = _send(client, method, path, body, content_type, auth, segment, query)
    _check(response, f"{method} {path} {content_type} {body[:60]!r}", process)
