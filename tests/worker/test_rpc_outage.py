"""With its RPC endpoint unreachable for a while, a worker backs off instead of dying."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from inferchain.chain import Chain
from inferchain.devstack import free_port
from inferchain.ipfs import IpfsClient
from inferchain.worker import Worker
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    REQUESTER,
    SENTIMENT_INPUT,
    WORKER_KEYS,
    Deployed,
    create_job,
    events_named,
    settings,
    wait_until,
)


class TcpProxy:
    """Forwards 127.0.0.1:port to a target port; `cut()` drops every connection and refuses
    new ones until `restore()`: an RPC outage without losing the chain's state."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self._target = target_port
        self._sockets: list[socket.socket] = []
        self._server: socket.socket | None = None

    def restore(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._server,), daemon=True).start()

    def cut(self) -> None:
        # shutdown() first: a bare close() leaves a socket blocked in accept() listening.
        for sock in [self._server, *self._sockets]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        self._sockets.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # server closed by cut()
            upstream = socket.create_connection(("127.0.0.1", self._target))
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                sock.close()


def test_worker_survives_an_rpc_outage_and_finishes_the_jobs(
    chain: Chain,
    anvil: AnvilNode,
    deployed: Deployed,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    tmp_path: Path,
) -> None:
    proxy = TcpProxy(urlparse(anvil.rpc_url).port or 0)
    proxy.restore()
    market = deployed.market
    s = settings(f"http://127.0.0.1:{proxy.port}", ipfs_api_url, anvil.keys[WORKER_KEYS[0]],
                 tmp_path / "w", models=[deployed.sentiment])  # fmt: skip
    worker = Worker(s, market.addresses, register=True)
    worker.start()
    try:
        proxy.cut()
        cid = ipfs.add_bytes(SENTIMENT_INPUT)
        job_ids = [
            create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment, cid)[0]
            for _ in range(2)
        ]
        time.sleep(2.0)  # several failed ticks: the worker must back off, not die
        assert worker.failure is None and worker.state.value == "running"
        proxy.restore()
        wait_until(
            lambda: {e["jobId"] for e in events_named(market, "ResultSubmitted")}
            >= set(job_ids),
            60, "results after the RPC came back",
        )  # fmt: skip
    finally:
        worker.stop()
        proxy.cut()
    assert worker.failure is None
