"""EIP-4361 message text: round trips and the spec's optional parts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inferchain.gateway.auth.siwe import SiweMessage, parse_message
from inferchain.gateway.errors import AuthError

ADDRESS = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
ISSUED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_full_message_round_trips() -> None:
    message = SiweMessage(
        domain="example.com",
        address=ADDRESS,
        uri="https://example.com/login",
        chain_id=1,
        nonce="32891756abcd",
        issued_at=ISSUED,
        statement="I accept the terms.",
        scheme="https",
        expiration_time=datetime(2026, 1, 3, tzinfo=UTC),
        not_before=ISSUED,
        request_id="r-1",
        resources=(
            "ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/",
            "https://example.com/my-web2-claim.json",
        ),
    )
    text = message.to_text()
    assert text.startswith("https://example.com wants you to sign in with your Ethereum account:\n")
    assert "Issued At: 2026-01-02T03:04:05Z" in text
    assert parse_message(text) == message


def test_message_without_statement_round_trips() -> None:
    message = SiweMessage(
        domain="localhost:8000",
        address=ADDRESS,
        uri="http://localhost:8000",
        chain_id=31337,
        nonce="abcdefgh",
        issued_at=ISSUED,
    )
    text = message.to_text()
    assert f"{ADDRESS}\n\n\nURI:" in text  # EIP-4361: LF [statement LF] LF
    assert parse_message(text) == message


def test_spec_example_parses() -> None:
    text = (
        "service.invalid wants you to sign in with your Ethereum account:\n"
        "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2\n\n"
        "I accept the ServiceOrg Terms of Service: https://service.invalid/tos\n\n"
        "URI: https://service.invalid/login\nVersion: 1\nChain ID: 1\nNonce: 32891756\n"
        "Issued At: 2021-09-30T16:25:24Z\nResources:\n"
        "- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/\n"
        "- https://example.com/my-web2-claim.json"
    )
    parsed = parse_message(text)
    assert parsed.nonce == "32891756" and len(parsed.resources) == 2
    assert parsed.issued_at == datetime(2021, 9, 30, 16, 25, 24, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "example.com wants you to sign in with your Ethereum account:",
        "example.com wants you to sign in with your Ethereum account:\n" + ADDRESS + "\nx",
        "example.com wants you to sign in with your Ethereum account:\n"
        + ADDRESS
        + "\n\nstmt\nURI: x",
        " wants you to sign in with your Ethereum account:\n" + ADDRESS,
    ],
)
def test_truncated_or_broken_messages_are_malformed(text: str) -> None:
    with pytest.raises(AuthError) as caught:
        parse_message(text)
    assert caught.value.code == "auth.malformed"


def test_times_without_timezone_are_malformed() -> None:
    text = (
        SiweMessage(
            domain="a.b",
            address=ADDRESS,
            uri="http://a.b",
            chain_id=1,
            nonce="abcdefgh",
            issued_at=ISSUED,
        )
        .to_text()
        .replace("2026-01-02T03:04:05Z", "2026-01-02T03:04:05")
    )
    with pytest.raises(AuthError, match="timezone"):
        parse_message(text)


def test_relative_uri_is_malformed() -> None:
    text = SiweMessage(
        domain="a.b", address=ADDRESS, uri="/login", chain_id=1, nonce="abcdefgh", issued_at=ISSUED
    ).to_text()
    with pytest.raises(AuthError, match="absolute"):
        parse_message(text)
