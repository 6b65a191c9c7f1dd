"""Sign-In with Ethereum end to end through the HTTP API, with real eth-account signatures."""

from __future__ import annotations

import base64
import string
import time
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import update

from inferchain.gateway.auth.siwe import SiweMessage
from inferchain.gateway.auth.tokens import TokenSigner
from inferchain.gateway.db.models import AuthNonce
from tests.gateway.conftest import SIWE_URI, bearer, sign_in

KEY = "0x" + "7" * 64
OTHER_KEY = "0x" + "8" * 64
ADDRESS = Account.from_key(KEY).address


def signed(message: str, key: str = KEY) -> str:
    return Account.sign_message(encode_defunct(text=message), key).signature.to_0x_hex()


def message_for(client, *, nonce_for: str = ADDRESS, **changes: object) -> str:  # type: ignore[no-untyped-def]
    nonce = client.post("/auth/nonce", json={"address": nonce_for}).json()["nonce"]
    now = datetime.now(UTC).replace(microsecond=0)
    fields: dict[str, object] = {
        "domain": "gateway.test:8000",
        "address": ADDRESS,
        "uri": SIWE_URI + "/",
        "chain_id": 31337,
        "nonce": nonce,
        "issued_at": now,
        "statement": "Sign in.",
    }
    fields.update(changes)
    return SiweMessage(**fields).to_text()  # type: ignore[arg-type]


def verify(client, message: str, signature: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        "/auth/verify", json={"message": message, "signature": signature or signed(message)}
    )


def code(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["error"]["code"]


@pytest.fixture
def client(make_client):  # type: ignore[no-untyped-def]
    return make_client()


def test_sign_in_succeeds_and_the_token_names_the_wallet(client) -> None:
    token = sign_in(client, KEY)
    me = client.get("/auth/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["address"] == ADDRESS


def test_nonce_message_is_what_a_wallet_signs(client) -> None:
    body = client.post("/auth/nonce", json={"address": ADDRESS.lower()}).json()
    assert body["domain"] == "gateway.test:8000" and body["chain_id"] == 31337
    assert f"Nonce: {body['nonce']}" in body["message"] and ADDRESS in body["message"]
    assert body["expires_at"] > time.time()


def test_replayed_nonce_is_rejected(client) -> None:
    message = message_for(client)
    assert verify(client, message).status_code == 200
    again = verify(client, message)
    assert again.status_code == 401 and code(again) == "auth.nonce_used"


def test_nonce_issued_for_another_address_is_rejected(client) -> None:
    other = Account.from_key(OTHER_KEY).address
    message = message_for(client, nonce_for=ADDRESS, address=other)
    response = verify(client, message, signed(message, OTHER_KEY))
    assert response.status_code == 401 and code(response) == "auth.nonce_address_mismatch"
    nonce = message.split("Nonce: ")[1].split("\n")[0]
    assert verify(client, message_for(client, nonce=nonce)).status_code == 200  # still A's


def test_nonce_needs_the_address_it_is_for(client) -> None:
    response = client.post("/auth/nonce", json={})
    assert response.status_code == 422 and code(response) == "request.invalid"


def test_nonce_not_issued_here_is_rejected(client) -> None:
    response = verify(client, message_for(client, nonce="abcdefgh12345678"))
    assert response.status_code == 401 and code(response) == "auth.nonce_unknown"


def test_expired_nonce_is_rejected(client) -> None:
    message = message_for(client)
    services = client.app.state.services
    with services.sessions() as db, db.begin():
        db.execute(update(AuthNonce).values(expires_at=int(time.time()) - 1))
    assert code(verify(client, message)) == "auth.nonce_expired"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"expiration_time": datetime.now(UTC) - timedelta(minutes=5)}, "auth.expired"),
        ({"issued_at": datetime.now(UTC) - timedelta(hours=2)}, "auth.expired"),
        ({"issued_at": datetime.now(UTC) + timedelta(hours=1)}, "auth.not_yet_valid"),
        ({"not_before": datetime.now(UTC) + timedelta(hours=1)}, "auth.not_yet_valid"),
        ({"domain": "evil.test"}, "auth.domain_mismatch"),
        ({"scheme": "https"}, "auth.domain_mismatch"),
        ({"uri": "http://evil.test/login"}, "auth.uri_mismatch"),
        ({"chain_id": 1}, "auth.chain_mismatch"),
    ],
)
def test_message_checks_reject(client, changes: dict[str, object], expected: str) -> None:
    response = verify(client, message_for(client, **changes))
    assert response.status_code == 401 and code(response) == expected


def test_rejected_message_leaves_its_nonce_usable(client) -> None:
    good = message_for(client)
    nonce = good.split("Nonce: ")[1].split("\n")[0]
    assert code(verify(client, good, signed(good, OTHER_KEY))) == "auth.bad_signature"
    assert verify(client, good).status_code == 200
    assert code(verify(client, message_for(client, nonce=nonce))) == "auth.nonce_used"


@pytest.mark.parametrize(
    "signature",
    ["0x" + "00" * 65, "0x1234", "not hex at all", "0x" + "zz" * 65, "0x" + "ff" * 65],
)
def test_bad_signatures_are_rejected(client, signature: str) -> None:
    response = verify(client, message_for(client), signature)
    assert response.status_code == 401 and code(response) == "auth.bad_signature"


def test_signature_by_another_key_is_rejected(client) -> None:
    message = message_for(client)
    assert code(verify(client, message, signed(message, OTHER_KEY))) == "auth.bad_signature"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda m: "hello",
        lambda m: m.replace(ADDRESS, ADDRESS.lower()),
        lambda m: m.replace("Version: 1", "Version: 2"),
        lambda m: m.replace("Chain ID: 31337", "Chain ID: x"),
        lambda m: m + "\nExtra: line",
        lambda m: m.replace("URI: ", "URL: "),
        lambda m: m.split("\nIssued At")[0],
        lambda m: m.replace("Issued At: ", "Issued At: yesterday"),
        lambda m: m.replace("Nonce: ", "Nonce: !"),
        lambda m: m.replace(" wants you", " wanna you"),
    ],
)
def test_malformed_messages_are_rejected(client, mangle) -> None:  # type: ignore[no-untyped-def]
    message = mangle(message_for(client))
    response = verify(client, message)
    assert response.status_code == 400 and code(response) == "auth.malformed"


def test_oversized_message_fails_validation(client) -> None:
    response = client.post("/auth/verify", json={"message": "x" * 5000, "signature": "0x"})
    assert response.status_code == 422 and code(response) == "request.invalid"


def test_missing_token_is_rejected(client) -> None:
    response = client.get("/auth/me")
    assert response.status_code == 401 and code(response) == "auth.missing"
    basic = client.get("/auth/me", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401 and code(basic) == "auth.missing"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "x" + t,
        lambda t: t.split(".")[0],
        lambda t: "a.b",
        lambda t: "...",
    ],
)
def test_forged_tokens_are_rejected(client, mangle) -> None:  # type: ignore[no-untyped-def]
    token = sign_in(client, KEY)
    response = client.get("/auth/me", headers=bearer(mangle(token)))
    assert response.status_code == 401 and code(response) == "auth.invalid_token"


def test_token_is_accepted_only_as_issued(client) -> None:
    token = sign_in(client, KEY)
    body, mac = token.split(".")
    digest = base64.urlsafe_b64decode(mac + "=")
    same_mac = [mac + "=", mac + "==", mac[:20] + "!" + mac[20:]]
    same_mac += [
        mac[:-1] + c
        for c in string.ascii_letters + string.digits + "-_"
        if c != mac[-1] and base64.urlsafe_b64decode(mac[:-1] + c + "=") == digest
    ]
    assert len(same_mac) >= 6  # the last character of 32 bytes carries 2 unused bits
    for spelling in same_mac:
        response = client.get("/auth/me", headers=bearer(f"{body}.{spelling}"))
        assert response.status_code == 401 and code(response) == "auth.invalid_token", spelling
    assert client.get("/auth/me", headers=bearer(token)).status_code == 200


def test_token_signed_with_another_secret_is_rejected(client) -> None:
    token, _ = TokenSigner("another-secret-that-is-long-enough-000").issue(
        ADDRESS, int(time.time()), 60
    )
    assert code(client.get("/auth/me", headers=bearer(token))) == "auth.invalid_token"


def test_expired_token_is_rejected(client) -> None:
    services = client.app.state.services
    token, _ = services.tokens.issue(ADDRESS, int(time.time()) - 7200, 3600)
    response = client.get("/auth/me", headers=bearer(token))
    assert response.status_code == 401 and code(response) == "auth.expired"
