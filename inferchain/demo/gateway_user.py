"""A wallet using the gateway over HTTP: sign in (SIWE), submit, follow, download.

`http` is any `httpx.Client` with the gateway as `base_url` (FastAPI's TestClient is
one), so the tests run this same code against an in-process gateway.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from eth_account import Account
from eth_account.messages import encode_defunct

from inferchain.chain import Chain
from inferchain.demo.errors import DemoError
from inferchain.ipfs import Cid, verify_bytes
from inferchain.market import created_job_id


class GatewayError(DemoError):
    """The gateway answered with an error."""


class GatewayUser:
    def __init__(self, http: httpx.Client, chain: Chain, key: str) -> None:
        self.http, self.chain, self.key = http, chain, key
        self.address = Account.from_key(key).address
        self.token: str | None = None

    def sign_in(self) -> str:
        """EIP-4361: nonce → personal_sign → session token."""
        nonce = self._call("POST", "/auth/nonce", json={"address": self.address})
        signed = Account.sign_message(encode_defunct(text=nonce["message"]), self.key)
        body = {"message": nonce["message"], "signature": signed.signature.to_0x_hex()}
        self.token = self._call("POST", "/auth/verify", json=body)["token"]
        return self.token

    def upload(self, data: bytes) -> str:
        """Pin a file input through the gateway; its CID."""
        return self._call("POST", "/inputs", content=data)["cid"]

    def submit(self, model_id: int, **body: Any) -> tuple[int, dict[str, Any]]:
        """Prepare the job at the gateway, then send its transactions from this wallet."""
        prepared = self._call("POST", "/jobs", json={"model_id": model_id, **body})
        receipt = None
        for tx in prepared["transactions"]:
            receipt = self._send(tx)
        assert receipt is not None  # the gateway always ends with createJob
        jobs = self.chain.contract("JobMarket", prepared["transactions"][-1]["to"])
        job_id = created_job_id(jobs, receipt)
        return job_id, dict(receipt)

    def wait_indexed_result(self, job_id: int, timeout: float) -> dict[str, Any]:
        """Poll the read API until the indexer shows the job's output CID."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.http.get(f"/jobs/{job_id}", headers=self._auth())
            if response.status_code == 200 and response.json()["output_cid"]:
                return response.json()
            if response.status_code == 200 and response.json()["status"] in ("cancelled",):
                raise GatewayError(f"job {job_id} ended without a result")
            if time.monotonic() > deadline:
                state = response.json() if response.status_code == 200 else response.text
                raise GatewayError(f"job {job_id}: no indexed result after {timeout:.0f}s: {state}")
            time.sleep(0.2)

    def result(self, job_id: int, onchain_cid: str) -> bytes:
        """Download the output and check it against the CID the worker put on-chain."""
        response = self.http.get(f"/jobs/{job_id}/result", headers=self._auth())
        if response.status_code != 200:
            raise GatewayError(f"GET /jobs/{job_id}/result: {response.status_code} {response.text}")
        if Cid.parse(response.headers["X-Inferchain-Cid"]) != Cid.parse(onchain_cid):
            raise GatewayError(f"job {job_id}: the gateway names another CID than the chain")
        verify_bytes(Cid.parse(onchain_cid), response.content)
        return response.content

    # -- internals ---------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, headers=self._auth(), **kwargs)
        if response.status_code >= 400:
            raise GatewayError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def _send(self, tx: dict[str, Any]) -> Any:
        """Sign and send a prepared transaction with the wallet's own key."""
        w3 = self.chain.w3
        params: dict[str, Any] = {
            "from": self.address,
            "to": tx["to"],
            "data": tx["data"],
            "value": int(tx["value"]),
            "chainId": int(tx["chain_id"]),
        }
        params["gas"] = w3.eth.estimate_gas(params)  # type: ignore[arg-type]
        params["nonce"] = w3.eth.get_transaction_count(self.address, "pending")  # type: ignore[arg-type]
        params["gasPrice"] = w3.eth.gas_price
        signed = Account.sign_transaction(params, self.key)
        receipt = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(signed.raw_transaction), timeout=60
        )
        if receipt["status"] != 1:
            raise GatewayError(f"the prepared transaction to {tx['to']} reverted")
        return receipt
