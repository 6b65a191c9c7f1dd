"""Shared set-up for worker tests: a fresh market with the two demo models, jobs, waiting."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inferchain.bundle import publish_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.chain import Chain
from inferchain.devstack import free_port
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import (
    ETH,
    JobRecord,
    JobRequest,
    Market,
    MarketConfig,
    ModelSpec,
    deploy_market,
    fetch_market_events,
    fold_events,
)
from inferchain.worker import WorkerSettings

OWNER, _SPARE, PROVIDER, REQUESTER = 0, 1, 2, 3  # fees go to the governor's account
WORKER_KEYS = (4, 5, 6, 7)
PRICE = 10**16
ROYALTY_BPS = 1_000
FEE_BPS = 250
CHALLENGE_S = 600  # the shortest challenge window a mode may have
#: What a test worker stakes and allocates (ETH): collateral for 100 jobs at PRICE.
STAKE = 10**18
DIGITS_INPUT = json.dumps({"array": [[0.0] * 8 for _ in range(8)]}).encode()
SENTIMENT_INPUT = json.dumps({"text": "a wonderful, moving film"}).encode()


@dataclass(frozen=True)
class Deployed:
    market: Market
    digits: int
    sentiment: int

    def write_addresses(self, directory: Path) -> Path:
        path = directory / "market.json"
        path.write_text(json.dumps(self.market.addresses.to_dict()))
        return path


def publish_demos(ipfs: IpfsClient) -> dict[str, tuple[Cid, bytes]]:
    out = {}
    for name in ("digits-cnn", "sentiment-bow"):
        published = publish_bundle(ipfs, demo_bundle_path(name))
        out[name] = (Cid.parse(published.cid), bytes.fromhex(published.manifest_sha256))
    return out


def deploy(chain: Chain, keys: list[str], accounts: list[str], bundles: dict) -> Deployed:
    config = MarketConfig(fee_bps=FEE_BPS, challenge_window=CHALLENGE_S, disputes="manual")
    market = deploy_market(chain, keys[OWNER], config)
    provider = chain.sender(keys[PROVIDER])
    ids = []
    for name, task in (
        ("digits-cnn", "image-classification"),
        ("sentiment-bow", "text-classification"),
    ):
        cid, manifest = bundles[name]
        spec = ModelSpec(cid, manifest, task, PRICE, ROYALTY_BPS)
        provider.transact(market.models.functions.registerModel(spec.as_abi()))
        ids.append(int(chain.call(market.models.functions.modelCount())))
    return Deployed(market, ids[0], ids[1])


def create_job(
    chain: Chain,
    market: Market,
    key: str,
    model_id: int,
    input_cid: Cid,
    *,
    work_time: int = 600,
) -> tuple[int, int]:
    """(job id, gas paid in wei)."""
    request = JobRequest(
        model_id=model_id,
        input_cid=input_cid.to_bytes(),
        max_price=PRICE,
        request_deadline=chain.block_timestamp() + 3600,
        work_time=work_time,
    )
    sender = chain.sender(key)
    receipt = sender.transact(
        market.jobs.functions.createJob(sender.address, request.as_abi()), value=PRICE
    )
    job_id = market.jobs.events.JobCreated().process_receipt(receipt)[0]["args"]["jobId"]
    return job_id, receipt["gasUsed"] * receipt["effectiveGasPrice"]


def create_jobs_in_one_block(
    chain: Chain, market: Market, requester: str, model_id: int, input_cid: Cid, count: int
) -> list[int]:
    """``count`` jobs mined in a single block, so every worker sees them at the same moment."""
    first = int(chain.call(market.jobs.functions.nextJobId()))
    deadline = chain.block_timestamp() + 3600
    request = JobRequest(model_id, input_cid.to_bytes(), PRICE, deadline, 600).as_abi()
    chain._rpc("evm_setAutomine", False)
    try:
        for _ in range(count):  # Anvil's dev accounts are unlocked: no waiting for receipts
            market.jobs.functions.createJob(requester, request).transact(
                {"from": requester, "value": PRICE, "gas": 400_000}
            )
        chain.mine()
    finally:
        chain._rpc("evm_setAutomine", True)
    for sender in chain._senders.values():
        sender.reset_nonce()
    assert int(chain.call(market.jobs.functions.nextJobId())) == first + count
    return list(range(first, first + count))


def settings(
    rpc_url: str, ipfs_url: str, key: str, state_dir: Path, **extra: object
) -> WorkerSettings:
    values: dict[str, object] = {
        "device": "cpu", "ipfs_timeout_s": 2.0, "poll_interval_s": 0.05, "stake": {ETH: STAKE},
    }  # fmt: skip
    values.update(extra)
    return WorkerSettings(
        rpc_url=rpc_url, ipfs_api_url=ipfs_url, private_key=key, state_dir=state_dir, **values
    )


def stake_of(chain: Chain, market: Market, address: str, token: str = ETH) -> int:
    """``address``'s stake in ``token`` in the worker registry."""
    return int(chain.call(market.workers.functions.stakeOf(address, token))[0])


def records(market: Market) -> dict[int, JobRecord]:
    return fold_events(fetch_market_events(market.jobs, market.addresses.deployed_block))


def events_named(market: Market, name: str) -> list[dict]:
    events = fetch_market_events(market.jobs, market.addresses.deployed_block)
    return [e["args"] for e in events if e["event"] == name]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


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

    def freeze(self) -> None:
        """Accept connections and never answer, like a hung node, until `cut()`."""
        self.cut()
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._hold, args=(self._server,), daemon=True).start()

    def _hold(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # server closed by cut()
            self._sockets.append(client)

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


def worker_env(
    rpc_url: str, ipfs_api_url: str, key: str, deployed: Deployed, tmp_path: Path, **overrides: str
) -> dict[str, str]:
    """Environment of a worker process (``inferchain.worker run``) for ``deployed``."""
    settings_ = {
        "rpc_url": rpc_url,
        "ipfs_api_url": ipfs_api_url,
        "private_key": key,
        "state_dir": str(tmp_path / "state"),
        "market_addresses_file": str(deployed.write_addresses(tmp_path)),
        "device": "cpu",
        "poll_interval_s": "0.05",
        "stake": json.dumps({ETH: STAKE}),
        **overrides,
    }
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return env | {f"INFERCHAIN_WORKER_{k.upper()}": v for k, v in settings_.items()}


class WorkerProcess:
    """``inferchain.worker run --register`` as a real process, its output in ``log``."""

    def __init__(self, env: dict[str, str], log: Path, **overrides: str) -> None:
        self._log = log.open("ab")
        env = {**env, **{f"INFERCHAIN_WORKER_{k.upper()}": v for k, v in overrides.items()}}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inferchain.worker", "run", "--register", "--text-logs"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(30)
        self._log.close()
        return code
