"""How the worker sends market transactions: one simulation, then a fixed gas limit.

``eth_estimateGas`` binary-searches the gas limit by re-running the call many times; one
``eth_call`` simulates it just as well (reverts come back decoded), and the limit is a
per-job upper bound with headroom; unused gas is not paid. Sends still go through the key's
single sender (lock, nonces, retries).
"""

from __future__ import annotations

from typing import Any

from web3.types import TxReceipt

from inferchain.chain import Chain, TransactionSender

#: Upper bounds per job, with headroom (a first claim also writes the registry's slot).
BASE_GAS = 80_000
GAS_PER_JOB = {"claim": 90_000, "submit": 110_000, "fail": 120_000}


def send(chain: Chain, sender: TransactionSender, call: Any, kind: str, jobs: int = 1) -> TxReceipt:
    """Simulate ``call`` from the sender (raises ContractReverted), then send it."""
    chain.call(call, sender=sender.address)
    return sender.transact(call, gas=BASE_GAS + GAS_PER_JOB[kind] * jobs)
