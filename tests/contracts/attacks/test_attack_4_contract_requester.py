"""Issue 12, attack 4: contract requesters cannot dispute, and ExampleConsumer keeps the money.

`dispute` requires `msg.sender == requester`. On v1, when a contract asked, the contract was
the requester: ExampleConsumer, the documented oracle pattern, had no dispute path, so nobody
could dispute a garbage answer. It also credited every refund, surplus and slash reward to
itself, where only its deployer could withdraw them, and it set `maxPrice = msg.value`, so a
provider that front-ran an ask could raise its price to everything the asker sent, at a 50 %
royalty. Since contracts v2 slice 3, `createJob(requester, r)` separates the payer from the
requester: the consumer makes the asker the requester, and the asker names its own maxPrice.
The consumer is deployed by `owner`; `requester` asks through it.
"""

from __future__ import annotations

from typing import Any

from tests.contracts.attacks.harness import (
    Move,
    attack_steps,
    dispute_move,
    frontrun_into_same_block,
    outcome,
)
from tests.contracts.helpers import (
    CHALLENGE_WINDOW,
    DISPUTE_BOND_BPS,
    ETH_PRICE,
    ETH_ROYALTY_BPS,
    Deployment,
    cid,
    event,
    job_from_created,
    job_tuple,
    sign_dispute_tuple,
    sign_request,
)

ASKER, DEPLOYER = "requester", "owner"
GARBAGE = cid("not an answer")


def _consumer(d: Deployment) -> Any:
    return d.chain.sender(getattr(d.actors, DEPLOYER)).deploy("ExampleConsumer", d.market.address)


def _ask(consumer: Any, d: Deployment, max_price: int) -> Move:
    """The asker's move: ask with `max_price` as its limit, sending exactly that."""
    call = consumer.functions.ask(
        d.eth_model, cid("what is 2 + 2?"), max_price, d.now() + 600, 600, 0
    )
    return Move(ASKER, call, max_price)


def _asked(d: Deployment, receipt: Any) -> tuple[int, dict]:
    created = event(d.market, receipt, "JobCreated")
    return created["jobId"], job_from_created(created)


def test_attack4_asker_can_dispute_a_garbage_answer(d: Deployment) -> None:
    with attack_steps():
        consumer = _consumer(d)
        ask = _ask(consumer, d, ETH_PRICE)
        job_id, job = _asked(d, d.tx(ask.role, ask.call, value=ask.value))
        job = d.submit(job_id, d.claim(job_id, job), output=GARBAGE)
        dispute = dispute_move(d, job_id, job, role=ASKER)
        refused = outcome(d, dispute, refusals=["JobMarketNotRequester"])
    assert refused is None, f"the asker could not dispute a garbage answer: {refused}"


def test_attack4_example_consumer_refunds_reach_the_asker_not_the_deployer(
    d: Deployment,
) -> None:
    with attack_steps():
        consumer = _consumer(d)
        surplus = ETH_PRICE  # the asker sends twice the price, in case it rises
        ask = _ask(consumer, d, ETH_PRICE + surplus)
        job_id, job = _asked(d, d.tx(ask.role, ask.call, value=ask.value))
        job = d.claim(job_id, job, role="worker2")
        d.chain.increase_time(job["terms"]["workTime"] + 1)
        d.tx("outsider", d.market.functions.timeout(job_id, job_tuple(job)))
        # On v1 price, surplus and slash reward sat in the consumer's balance, and its
        # deployer took them with `withdrawRefunds`. Whatever the consumer holds, its
        # deployer tries to take it out the same way.
        kept = d.balance(consumer.address)
        names = {item.get("name") for item in consumer.abi}
        if kept and "withdrawRefunds" in names:
            d.tx(DEPLOYER, consumer.functions.withdrawRefunds(d.addr(DEPLOYER), kept))
        taken = kept - d.balance(consumer.address)
        asker_credit = d.balance(ASKER)
    assert kept == taken == 0 and asker_credit >= ETH_PRICE + surplus, (
        f"the job timed out: the consumer kept {kept}, its deployer took {taken}; the asker, "
        f"who paid {ETH_PRICE + surplus}, was credited {asker_credit}"
    )


def test_attack4_frontrunning_provider_cannot_take_the_askers_margin(d: Deployment) -> None:
    with attack_steps():
        consumer = _consumer(d)
        quoted_royalty = ETH_PRICE * ETH_ROYALTY_BPS // 10_000
        sent = 2 * ETH_PRICE  # the front-runner's new price: what a v1 asker sent as margin
        raise_terms = d.models.functions.updateTerms(d.eth_model, sent, 5_000)
        receipt, refused = frontrun_into_same_block(
            d,
            Move("provider", raise_terms),
            _ask(consumer, d, ETH_PRICE),  # v2: the asker caps the price at the quote
            refusals=["JobMarketPriceAboveMax"],
        )
        provider_before = d.balance("provider")
        if refused is None:  # the ask went through: the job is worked and paid honestly
            job_id, job = _asked(d, receipt)
            job = d.submit(job_id, d.claim(job_id, job))
            d.chain.increase_time(CHALLENGE_WINDOW + 1)
            d.finalize(job_id, job)
        royalty = d.balance("provider") - provider_before
    assert royalty <= quoted_royalty, (
        f"the asker was quoted {ETH_PRICE} at a royalty of {quoted_royalty} and sent {sent}; "
        f"the front-running provider took {royalty}"
    )


def test_attack4_smart_wallet_requester_disputes_by_signature(d: Deployment) -> None:
    """The signature half of attack 4 (slice 1): a contract requester disputes through the
    router with an ERC-1271 signature of its owner, relayed by someone else."""
    bond = ETH_PRICE * DISPUTE_BOND_BPS // 10_000
    with attack_steps():
        wallet = d.chain.sender(d.actors.owner).deploy(
            "MockSmartWallet", d.addr("requester2"), d.market.address
        )
        d.tx("requester2", wallet.functions.depositToMarket(), value=ETH_PRICE + bond)
        request = sign_request(
            d, d.actors.requester2, d.request(), nonce=1, expiry=d.now() + 600,
            requester=wallet.address,
        )  # fmt: skip
        job_id, job = _asked(d, d.tx("relayer", d.router.functions.createJobFor(request)))
        job = d.submit(job_id, d.claim(job_id, job), output=GARBAGE)
        signed = sign_dispute_tuple(d, d.actors.requester2, job_id, job, nonce=2)
        d.tx("relayer", d.router.functions.disputeFor(signed))
        lost = d.arbiter.functions.rule(d.market.address, job_id, job_tuple(job), False)
        d.tx("arbiter", lost)
        credited = d.balance(wallet.address)
    assert credited > ETH_PRICE + bond, (
        f"the wallet paid {ETH_PRICE} and a bond of {bond} and won its dispute; it was "
        f"credited {credited}"
    )
