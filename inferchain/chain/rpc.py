"""Translation of transport-level failures into chain-layer errors, in one place.

`Chain` talks through `TranslatingHTTPProvider`, so every call — including raw
`chain.w3.eth...` calls in workers and the gateway — raises `RpcUnavailable` (a
`ChainError`) when the node is down or its gateway fails (5xx, 429), never a bare
`requests` exception.

web3 resends a request by itself after a timeout; not `eth_sendRawTransaction`: a send
that timed out may have reached the node, and whether to send again is the
`TransactionSender`'s decision, taken only after asking the node about the hash.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from web3 import HTTPProvider
from web3.exceptions import ProviderConnectionError
from web3.providers.rpc.utils import REQUEST_RETRY_ALLOWLIST, ExceptionRetryConfiguration
from web3.types import RPCEndpoint, RPCResponse

from inferchain.chain.errors import RpcUnavailable

#: web3's list of methods safe to resend, less the one that is not.
_RESENDABLE = [m for m in REQUEST_RETRY_ALLOWLIST if m != "eth_sendRawTransaction"]


@contextmanager
def translate_rpc_errors() -> Iterator[None]:
    try:
        yield
    except (requests.ConnectionError, requests.Timeout, ProviderConnectionError) as exc:
        raise RpcUnavailable(f"JSON-RPC endpoint unreachable: {exc}") from exc
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status >= 500 or status == 429:
            raise RpcUnavailable(f"JSON-RPC endpoint unreachable: {exc}") from exc
        raise


class TranslatingHTTPProvider(HTTPProvider):
    """web3's HTTP provider (with its own retries) whose transport failures are ours."""

    def __init__(self, endpoint_uri: str, **kwargs: Any) -> None:
        kwargs.setdefault(
            "exception_retry_configuration",
            ExceptionRetryConfiguration(
                errors=(ConnectionError, requests.HTTPError, requests.Timeout),
                method_allowlist=_RESENDABLE,
            ),
        )
        super().__init__(endpoint_uri, **kwargs)

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with translate_rpc_errors():
            return super().make_request(method, params)
