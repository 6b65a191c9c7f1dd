"""Schema-driven fuzzing (Schemathesis) of every endpoint against a real chain and IPFS:
no 5xx, and every answer matches the documented status codes and schemas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.gateway.conftest import Market, bearer, index, sign_in

EXAMPLES = 25
#: They wait for a worker's result (504 after the timeout) and need a JobFunder (501).
WAITS_FOR_A_WORKER = ("/v1/completions", "/v1/chat/completions")


@pytest.fixture(scope="module")
def fuzz_target(
    market_module: Market, ipfs_api_url: str, anvil, tmp_path_factory
) -> Iterator[tuple[TestClient, str]]:  # type: ignore[no-untyped-def]
    from inferchain.gateway import create_app
    from tests.gateway.conftest import gateway_settings

    d = market_module.d
    settings_ = gateway_settings(
        tmp_path_factory.mktemp("fuzz"),
        rpc_url=anvil.rpc_url,
        market_address=d.market.address,
        deployment_block=market_module.deployment_block,
        relayer_key=d.actors.relayer,
        ipfs_api_url=ipfs_api_url,
        ipfs_timeout_s=2,
    )
    with TestClient(create_app(settings_), raise_server_exceptions=False) as client:
        index(client)
        yield client, sign_in(client, d.actors.requester)


def test_every_endpoint_fuzzed_without_server_errors(fuzz_target) -> None:  # type: ignore[no-untyped-def]
    client, token = fuzz_target
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in WAITS_FOR_A_WORKER:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case) -> None:  # type: ignore[no-untyped-def]
            # Semantic refusals (a schema-valid but unsigned SIWE message) are 4xx by design.
            case.call_and_validate(
                headers=bearer(token), excluded_checks=[positive_data_acceptance]
            )

        try:
            fuzz()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    assert operations >= 18
    assert not failures, "\n\n".join(failures)
