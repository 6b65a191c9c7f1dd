"""ModelRegistry: registration, terms, activation, transfer; every revert by name."""

from __future__ import annotations

import pytest

from tests.contracts.helpers import (
    DAG_PB_CODEC,
    ETH,
    ETH_PRICE,
    Deployment,
    cid,
    event,
    model_spec,
    reverts,
)


def test_register_model_stores_terms_and_emits_full_cid(d: Deployment) -> None:
    spec = model_spec(ETH, 123, 700, b"image-classification")
    receipt = d.tx("provider", d.models.functions.registerModel(spec))
    registered = event(d.models, receipt, "ModelRegistered")
    model_id = registered["modelId"]
    assert model_id == d.models.functions.modelCount().call() == 3
    assert registered["bundleCid"] == spec[0]
    assert registered["provider"] == d.addr("provider")
    stored = d.models.functions.model(model_id).call()
    assert stored[0] == d.addr("provider")  # provider
    assert stored[1] == 123 and stored[3] == 700 and stored[4] is True  # price, royalty, active
    assert stored[5] == DAG_PB_CODEC and stored[6] == spec[0][-32:]  # codec, digest
    assert stored[8].rstrip(b"\0") == b"image-classification"
    assert d.models.functions.bundleCid(model_id).call() == spec[0]
    assert d.models.functions.terms(model_id).call() == (d.addr("provider"), ETH, 123, 700)
    assert d.models.functions.exists(model_id).call()
    assert not d.models.functions.exists(99).call()


def test_register_model_accepts_two_byte_codec(d: Deployment) -> None:
    bundle = cid(b"json bundle", 0x0129)  # dag-json: a two-byte varint
    spec = (bundle, b"\x01" * 32, b"text-generation".ljust(32, b"\0"), ETH, 1, 0)
    model_id = event(
        d.models, d.tx("provider", d.models.functions.registerModel(spec)), "ModelRegistered"
    )["modelId"]
    assert d.models.functions.bundleCid(model_id).call() == bundle


@pytest.mark.parametrize(
    ("spec_override", "error"),
    [
        ({4: 0}, "ModelRegistryZeroPrice"),
        ({5: 5_001}, "ModelRegistryRoyaltyTooHigh"),
        ({2: b"\0" * 32}, "ModelRegistryEmptyTaskKind"),
        ({0: b"\x12\x20" + b"\x01" * 32}, "CidUnsupported"),  # CIDv0
        ({0: cid(b"x")[:-1]}, "CidUnsupported"),  # truncated
        ({0: b"\x01\x55\x13\x20" + b"\x01" * 32}, "CidUnsupported"),  # sha3, not sha2-256
    ],
)
def test_register_model_rejects_bad_specs(d: Deployment, spec_override: dict, error: str) -> None:
    spec = list(model_spec(ETH, ETH_PRICE, 100))
    for index, value in spec_override.items():
        spec[index] = value
    with reverts(error):
        d.tx("provider", d.models.functions.registerModel(tuple(spec)))


def test_update_terms_applies_to_new_jobs_only(d: Deployment) -> None:
    job_id, job = d.create()
    receipt = d.tx("provider", d.models.functions.updateTerms(d.eth_model, 2 * ETH_PRICE, 2_000))
    assert dict(event(d.models, receipt, "ModelTermsUpdated")) == {
        "modelId": d.eth_model,
        "price": 2 * ETH_PRICE,
        "royaltyBps": 2_000,
    }
    # The old job keeps its snapshot: it is still claimable with its old tuple.
    d.claim(job_id, job)
    _, newer = d.create(maxPrice=2 * ETH_PRICE, value=2 * ETH_PRICE)
    assert newer["terms"]["price"] == 2 * ETH_PRICE and newer["terms"]["royaltyBps"] == 2_000


@pytest.mark.parametrize(
    ("args", "error"),
    [((0, 100), "ModelRegistryZeroPrice"), ((1, 5_001), "ModelRegistryRoyaltyTooHigh")],
)
def test_update_terms_is_bounded(d: Deployment, args: tuple[int, int], error: str) -> None:
    with reverts(error):
        d.tx("provider", d.models.functions.updateTerms(d.eth_model, *args))


def test_only_the_provider_manages_a_model(d: Deployment) -> None:
    for call in (
        d.models.functions.updateTerms(d.eth_model, 1, 0),
        d.models.functions.setActive(d.eth_model, False),
        d.models.functions.transferModel(d.eth_model, d.addr("outsider")),
    ):
        with reverts("ModelRegistryNotProvider") as caught:
            d.tx("outsider", call)
        assert caught.args == {"modelId": d.eth_model, "caller": d.addr("outsider")}


def test_unknown_models_are_refused_everywhere(d: Deployment) -> None:
    for call in (
        d.models.functions.updateTerms(77, 1, 0),
        d.models.functions.setActive(77, True),
        d.models.functions.transferModel(77, d.addr("outsider")),
    ):
        with reverts("ModelRegistryUnknownModel"):
            d.tx("provider", call)
    for view in (
        d.models.functions.terms(77),
        d.models.functions.model(77),
        d.models.functions.bundleCid(77),
    ):
        with reverts("ModelRegistryUnknownModel"):
            d.chain.call(view)
    with reverts("ModelRegistryUnknownModel"):
        d.create(modelId=77)


def test_deactivated_model_takes_no_new_jobs_until_reactivated(d: Deployment) -> None:
    receipt = d.tx("provider", d.models.functions.setActive(d.eth_model, False))
    assert event(d.models, receipt, "ModelActiveSet")["active"] is False
    with reverts("ModelRegistryModelInactive"):
        d.create()
    with reverts("ModelRegistryModelInactive"):
        d.chain.call(d.models.functions.terms(d.eth_model))
    d.tx("provider", d.models.functions.setActive(d.eth_model, True))
    job_id, _ = d.create()
    assert job_id > 0


def test_transfer_model_moves_future_royalties(d: Deployment) -> None:
    receipt = d.tx("provider", d.models.functions.transferModel(d.eth_model, d.addr("outsider")))
    moved = event(d.models, receipt, "ModelTransferred")
    assert (moved["from"], moved["to"]) == (d.addr("provider"), d.addr("outsider"))
    _, job = d.create()
    assert job["terms"]["provider"] == d.addr("outsider")
    with reverts("ModelRegistryNotProvider"):
        d.tx("provider", d.models.functions.setActive(d.eth_model, False))


def test_transfer_model_to_zero_is_refused(d: Deployment) -> None:
    with reverts("ModelRegistryZeroAddress"):
        d.tx("provider", d.models.functions.transferModel(d.eth_model, ETH))
