"""Translation of transport-level failures into chain-layer errors, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests
from web3.exceptions import ProviderConnectionError

from inferchain.chain.errors import RpcUnavailable


@contextmanager
def translate_rpc_errors() -> Iterator[None]:
    try:
        yield
    except (requests.ConnectionError, requests.Timeout, ProviderConnectionError) as exc:
        raise RpcUnavailable(f"JSON-RPC endpoint unreachable: {exc}") from exc
