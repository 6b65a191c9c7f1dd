"""How the worker sends market transactions: a fixed per-job gas limit.

``eth_estimateGas`` binary-searches the gas limit by re-running the call many times; given a
limit, the key's single sender simulates with one ``eth_call`` instead (reverts still come
back decoded). The limit is a per-job upper bound with headroom; unused gas is not paid.
A submission carrying proofs (the ZK mode) is estimated instead: its module gives the
proof's verifier a fixed gas of the model's choosing and reverts when the call cannot give
it (``ZkVerifierOutOfGas``), so no per-job bound fits every model.
"""

from __future__ import annotations

from typing import Any

from web3.types import TxReceipt

from inferchain.worker.seams import Sender

#: Upper bounds per job, with headroom (a first claim also writes the registry's slot).
BASE_GAS = 80_000
GAS_PER_JOB = {"claim": 90_000, "submit": 110_000, "fail": 120_000}


def send(
    sender: Sender, call: Any, kind: str, jobs: int = 1, *, estimate: bool = False
) -> TxReceipt:
    """Simulate and send ``call`` (raises ContractReverted) with the gas limit for ``kind``,
    or, with ``estimate``, the node's estimate plus the sender's headroom."""
    if estimate:
        return sender.transact(call)
    return sender.transact(call, gas=BASE_GAS + GAS_PER_JOB[kind] * jobs)
