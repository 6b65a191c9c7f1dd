"""Translation of transport-level failures into chain-layer errors, in one place.

`Chain` talks through `TranslatingHTTPProvider`, so every call — including raw
`chain.w3.eth...` calls in workers and the gateway — raises `RpcUnavailable` (a
`ChainError`) when the node is down, never a bare `requests` exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from web3 import HTTPProvider
from web3.exceptions import ProviderConnectionError
from web3.types import RPCEndpoint, RPCResponse

from inferchain.chain.errors import RpcUnavailable


@contextmanager
def translate_rpc_errors() -> Iterator[None]:
    try:
        yield
    except (requests.ConnectionError, requests.Timeout, ProviderConnectionError) as exc:
        raise RpcUnavailable(f"JSON-RPC endpoint unreachable: {exc}") from exc


class TranslatingHTTPProvider(HTTPProvider):
    """web3's HTTP provider (with its own retries) whose transport failures are ours."""

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with translate_rpc_errors():
            return super().make_request(method, params)
