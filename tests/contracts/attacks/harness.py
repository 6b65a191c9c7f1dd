"""Moves of the issue-12 attack tests (docs/design/contracts-v2.md §2), against contracts v1.

An attack test performs its attack through these moves and ends in one `assert`: the property
v2 must guarantee. Slice 0 marks each test `xfail(strict=True, raises=AssertionError)` because
the attack still works on v1. So that the marker can only ever hide that final assertion, every
step before it raises `AttackStepFailed` (never an AssertionError) when the attack cannot even
be carried out: a broken step shows red instead of passing as "still vulnerable". The slice
that defeats an attack ports that attack's moves to the v2 API and removes the marker.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from hexbytes import HexBytes
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt

from inferchain.chain import ContractReverted, TransactionFailed, decode_revert
from tests.contracts.helpers import (
    Deployment,
    cid,
    cid_parts,
    job_tuple,
    result_tuple,
    sign_request,
)

#: Priority fees of a front-run: the attacker outbids the victim, so the block orders it first.
_VICTIM_TIP = 10**9
_ATTACKER_TIP = 3 * 10**9
_GAS_HEADROOM = 1.3
#: The session signer of the session attacks: a key with no ETH, relayed by others.
SESSION_KEY = Account.from_key("0x" + "5e" * 32)


class AttackStepFailed(RuntimeError):
    """A step the attack needs did not happen: the test is broken, not the property."""


@dataclass(frozen=True)
class Move:
    """One transaction of an attack: the role that sends it, the call, the ETH it carries."""

    role: str
    call: Any
    value: int = 0


def outcome(d: Deployment, move: Move, *, refusals: Iterable[str]) -> str | None:
    """Send `move`: None when it went through, the error's name when it reverted with one of
    `refusals` (the refusals the test expects of some version); any other revert is a broken
    step."""
    try:
        d.tx(move.role, move.call, value=move.value)
    except ContractReverted as exc:
        return _expected(exc, refusals, move)
    except TransactionFailed as exc:
        if exc.reason is None:
            raise AttackStepFailed(f"{move.role} {move.call.fn_name}: {exc}") from exc
        return _expected(exc.reason, refusals, move)
    return None


def spend_until_refused(d: Deployment, moves: Iterable[Move], *, refusals: Iterable[str]) -> int:
    """Send `moves` in order until one is refused; how many went through before that."""
    done = 0
    for move in moves:
        if outcome(d, move, refusals=refusals) is not None:
            break
        done += 1
    return done


def frontrun_into_same_block(
    d: Deployment, front: Move, victim: Move, *, refusals: Iterable[str]
) -> tuple[TxReceipt, str | None]:
    """Mine `front` and then `victim` in one block, `front` first by a higher tip, the way a
    front-runner copies a pending transaction. The victim's move must be valid before the
    front-run lands (its gas is estimated then). Returns the victim's receipt and, like
    `outcome`, None or the name of its expected refusal (read from the node's trace: no replay
    sees the front-run)."""
    chain = d.chain
    signed = [_signed(d, front, _ATTACKER_TIP), _signed(d, victim, _VICTIM_TIP)]
    chain._rpc("evm_setAutomine", False)
    try:
        hashes = [chain.w3.eth.send_raw_transaction(raw) for raw in signed]
        chain.mine()
    finally:
        chain._rpc("evm_setAutomine", True)
        for move in (front, victim):  # their senders' local nonces are stale now
            chain.sender(getattr(d.actors, move.role)).reset_nonce()
    front_receipt, victim_receipt = (chain.w3.eth.get_transaction_receipt(h) for h in hashes)
    if front_receipt["blockNumber"] != victim_receipt["blockNumber"] or (
        front_receipt["transactionIndex"] > victim_receipt["transactionIndex"]
    ):
        raise AttackStepFailed("the front-run did not land first in the victim's block")
    if front_receipt["status"] != 1:
        raise AttackStepFailed(f"the front-run {front.call.fn_name}: {_trace(d, hashes[0])}")
    if victim_receipt["status"] == 1:
        return victim_receipt, None
    return victim_receipt, _expected(_trace(d, hashes[1]), refusals, victim)


def same_block(d: Deployment, moves: list[Move], *, gas: int = 300_000) -> list[TxReceipt]:
    """Mine `moves` in one block, in order (rising nonces of their senders), each with a fixed
    `gas`: a move that is only valid after an earlier one in the block cannot be estimated
    beforehand. A move that reverts is a broken step."""
    chain = d.chain
    nonces: dict[str, int] = {}
    signed = []
    for move in moves:
        key = getattr(d.actors, move.role)
        sender = Account.from_key(key).address
        nonce = nonces.get(sender, chain.w3.eth.get_transaction_count(sender, "pending"))
        nonces[sender] = nonce + 1
        base_fee = d.chain.w3.eth.get_block("latest")["baseFeePerGas"]
        tx = move.call.build_transaction(
            {
                "from": sender,
                "value": move.value,
                "gas": gas,
                "nonce": nonce,
                "maxPriorityFeePerGas": _VICTIM_TIP,
                "maxFeePerGas": 2 * base_fee + _VICTIM_TIP,
                "chainId": chain.chain_id,
            }
        )
        signed.append(bytes(Account.sign_transaction(tx, key).raw_transaction))
    chain._rpc("evm_setAutomine", False)
    try:
        hashes = [chain.w3.eth.send_raw_transaction(raw) for raw in signed]
        chain.mine()
    finally:
        chain._rpc("evm_setAutomine", True)
        for move in moves:
            chain.sender(getattr(d.actors, move.role)).reset_nonce()
    receipts = [chain.w3.eth.get_transaction_receipt(h) for h in hashes]
    if len({r["blockNumber"] for r in receipts}) != 1:
        raise AttackStepFailed("the moves did not land in one block")
    for move, receipt, tx_hash in zip(moves, receipts, hashes, strict=True):
        if receipt["status"] != 1:
            raise AttackStepFailed(f"{move.role} {move.call.fn_name}: {_trace(d, tx_hash)}")
    return receipts


def session_request(
    d: Deployment, nonce: int, *, model: int | None = None, requester: str = "requester"
) -> tuple[Any, ...]:
    """A request for `requester`'s wallet signed by its session key `SESSION_KEY`."""
    return sign_request(
        d,
        SESSION_KEY.key.hex(),
        d.request(model=model),
        nonce=nonce,
        expiry=d.now() + 600,
        requester=d.addr(requester),
    )


def grant(d: Deployment, wallet: str, token: str, amount: int) -> Move:
    """The wallet's move to let `SESSION_KEY` spend `amount` more of `token` for an hour."""
    call = d.router.functions.increaseSignerCap(SESSION_KEY.address, token, amount, d.now() + 3_600)
    return Move(wallet, call)


def lower_cap(d: Deployment, wallet: str, token: str, by: int) -> Move:
    """The wallet's move to take `by` off what `SESSION_KEY` may still spend. On v1 that was
    `authorizeSigner`, which replaced the remaining cap whatever was spent meanwhile; v2's
    `decreaseSignerCap` subtracts from what is left, stopping at 0."""
    return Move(wallet, d.router.functions.decreaseSignerCap(SESSION_KEY.address, token, by))


def submit_all(d: Deployment, ids: list[int], jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`worker` claims and submits open jobs `ids` in one batch (so at most MAX_BATCH),
    submitting on Open; returns their job dicts as submitted."""
    worker = d.addr("worker")
    outputs = [cid(f"output {i}") for i in ids]
    hashes = [b"\x11" * 32] * len(ids)
    results = [result_tuple(o, h) for o, h in zip(outputs, hashes, strict=True)]
    tuples = [job_tuple(j) for j in jobs]
    d.tx("worker", d.market.functions.submitBatch(ids, tuples, results))
    claimed = [{**j, "worker": worker} for j in jobs]
    return [
        {**j, "outputCodec": codec, "outputDigest": digest, "outputHash": h}
        for j, (codec, digest), h in zip(claimed, map(cid_parts, outputs), hashes, strict=True)
    ]


def dispute_move(d: Deployment, job_id: int, job: dict[str, Any], role: str = "requester") -> Move:
    """`role` disputes submitted ETH job `job_id`, sending the bond fixed at creation."""
    bond = job["terms"]["disputeBond"]
    return Move(role, d.market.functions.dispute(job_id, job_tuple(job)), bond)


def stake_of(d: Deployment, role: str) -> int:
    """`role`'s ETH stake in the worker registry."""
    return d.stake_of(role)[0]


@contextmanager
def attack_steps() -> Iterator[None]:
    """Run the steps before the property check: an AssertionError of a shared test helper
    (such as `helpers.event` finding no event) is a broken step here, not the property."""
    try:
        yield
    except AssertionError as exc:
        raise AttackStepFailed(f"an attack step failed: {exc}") from exc


def _expected(error: ContractReverted, refusals: Iterable[str], move: Move) -> str:
    if error.error_name not in set(refusals):
        raise AttackStepFailed(f"{move.role} {move.call.fn_name}: {error}") from error
    return error.error_name


def _signed(d: Deployment, move: Move, tip: int) -> bytes:
    """`move` signed with its role's key at the next nonce, its gas estimated now."""
    key = getattr(d.actors, move.role)
    sender = Account.from_key(key).address
    params: dict[str, Any] = {"from": sender, "value": move.value}
    try:
        gas = move.call.estimate_gas(params)
    except ContractLogicError as exc:
        reason = decode_revert(exc.data if isinstance(exc.data, str) else None)
        raise AttackStepFailed(f"{move.role} {move.call.fn_name}: {reason}") from exc
    base_fee = d.chain.w3.eth.get_block("latest")["baseFeePerGas"]
    tx = move.call.build_transaction(
        {
            **params,
            "gas": int(gas * _GAS_HEADROOM),
            "nonce": d.chain.w3.eth.get_transaction_count(sender, "pending"),
            "maxPriorityFeePerGas": tip,
            "maxFeePerGas": 2 * base_fee + tip,
            "chainId": d.chain.chain_id,
        }
    )
    return bytes(Account.sign_transaction(tx, key).raw_transaction)


def _trace(d: Deployment, tx_hash: HexBytes) -> ContractReverted:
    """Why a mined transaction reverted, from Anvil's call trace."""
    trace = d.chain._rpc("debug_traceTransaction", tx_hash.to_0x_hex(), {"tracer": "callTracer"})
    return decode_revert(trace.get("output"))
