"""A real HTTP JSON-RPC proxy in front of Anvil that misbehaves on chosen transaction sends.

Each fault stands for something a real RPC path does to `eth_sendRawTransaction`; all but
`LOSE` hand the transaction to the node first, so it is mined while the client hears
nothing useful:

- `HOLD`: keep the node's answer past the client's timeout (slow node or network);
- `GATEWAY_TIMEOUT`: answer HTTP 504 (a load balancer that gave up waiting);
- `REPLAY`: send it twice, pass on the second answer ("nonce too low" / "already known")
  as a retrying middlebox does;
- `LOSE`: answer the right hash but never deliver it (a node that drops it from its pool).

Every other request goes through untouched.
"""

from __future__ import annotations

import contextlib
import enum
import json
import threading
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from web3 import Web3

from inferchain.untrusted_json import loads


class Fault(enum.Enum):
    HOLD = "hold"
    GATEWAY_TIMEOUT = "gateway timeout"
    REPLAY = "replay"
    LOSE = "lose"


class RpcProxy:
    """Forwards JSON-RPC to `upstream`, applying queued faults to the next sends."""

    def __init__(self, upstream: str, *, hold_s: float = 3.0) -> None:
        self.upstream = upstream
        self.hold_s = hold_s
        self.sends_seen = 0
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next_sends(self, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([fault] * times)

    def start(self) -> RpcProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # held answers are abandoned at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next_fault(self, request: Any) -> Fault | None:
        if not isinstance(request, dict) or request.get("method") != "eth_sendRawTransaction":
            return None
        with self._lock:
            self.sends_seen += 1
            return self._faults.popleft() if self._faults else None

    def _forward(self, body: bytes) -> tuple[int, bytes]:
        reply = httpx.post(
            self.upstream, content=body, headers={"Content-Type": "application/json"}, timeout=30
        )
        return reply.status_code, reply.content

    def answer(self, body: bytes) -> tuple[int, bytes]:
        """The (status, body) to send back."""
        request = loads(body, source="proxied JSON-RPC request")
        fault = self._next_fault(request)
        if fault is Fault.LOSE:
            tx_hash = Web3.keccak(hexstr=request["params"][0]).to_0x_hex()
            accepted = {"jsonrpc": "2.0", "id": request["id"], "result": tx_hash}
            return 200, json.dumps(accepted).encode()
        reply = self._forward(body)
        if fault is Fault.REPLAY:
            return self._forward(body)
        if fault is Fault.GATEWAY_TIMEOUT:
            return 504, b"upstream timed out"
        if fault is Fault.HOLD:
            self._stopping.wait(self.hold_s)
        return reply


def _handler(proxy: RpcProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, content = proxy.answer(body)
            with contextlib.suppress(OSError):  # a client that timed out has hung up
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read the proxy's counters, not its log."""

    return Handler


@contextlib.contextmanager
def rpc_proxy(upstream: str, *, hold_s: float = 3.0) -> Iterator[RpcProxy]:
    proxy = RpcProxy(upstream, hold_s=hold_s).start()
    try:
        yield proxy
    finally:
        proxy.stop()
