"""Sign-In with Ethereum (EIP-4361): build, parse and check messages, recover the signer.

Written here rather than taken from the ``siwe`` package: the format is small, and this
keeps the dependency tree of web3 8 / eth-account untouched. Parsing is strict (field
order, EIP-55 address, RFC 3339 times); every refusal is an ``AuthError`` whose code says
which check failed. Nonce bookkeeping is the caller's (see ``auth.nonces``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import is_checksum_address

from inferchain.gateway.errors import AuthError

_HEADER = " wants you to sign in with your Ethereum account:"
_NONCE = re.compile(r"^[A-Za-z0-9]{8,}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_SIGNATURE = re.compile(r"^0x[0-9a-fA-F]{130}$")
_OPTIONAL = (
    ("Expiration Time", "expiration_time"),
    ("Not Before", "not_before"),
    ("Request ID", "request_id"),
)


@dataclass(frozen=True)
class SiweMessage:
    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: datetime
    statement: str | None = None
    version: str = "1"
    scheme: str | None = None
    expiration_time: datetime | None = None
    not_before: datetime | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = field(default_factory=tuple)

    def to_text(self) -> str:
        """The exact text a wallet signs (EIP-4361 ABNF)."""
        origin = f"{self.scheme}://{self.domain}" if self.scheme else self.domain
        lines = [origin + _HEADER, self.address, ""]
        if self.statement is not None:
            lines.append(self.statement)
        lines += [
            "",
            f"URI: {self.uri}",
            f"Version: {self.version}",
            f"Chain ID: {self.chain_id}",
            f"Nonce: {self.nonce}",
            f"Issued At: {_fmt(self.issued_at)}",
        ]
        for label, attr in _OPTIONAL:
            value = getattr(self, attr)
            if value is not None:
                lines.append(f"{label}: {_fmt(value) if isinstance(value, datetime) else value}")
        if self.resources:
            lines.append("Resources:")
            lines += [f"- {r}" for r in self.resources]
        return "\n".join(lines)


def parse_message(text: str) -> SiweMessage:
    """Parse an EIP-4361 message; ``AuthError('auth.malformed')`` on any deviation."""
    lines = text.split("\n")
    pos = 0

    def take() -> str:
        nonlocal pos
        if pos >= len(lines):
            raise _malformed("message ends early")
        pos += 1
        return lines[pos - 1]

    header = take()
    if not header.endswith(_HEADER):
        raise _malformed("first line is not a SIWE header")
    origin = header[: -len(_HEADER)]
    scheme, _, domain = origin.rpartition("://")
    if not domain or any(c.isspace() for c in domain):
        raise _malformed("bad domain")
    address = take()
    if not _ADDRESS.match(address) or not is_checksum_address(address):
        raise _malformed("address must be EIP-55 checksummed")
    if take() != "":
        raise _malformed("expected an empty line after the address")
    statement: str | None = None
    line = take()
    if line and not line.startswith("URI: "):
        statement = line
        if take() != "":
            raise _malformed("expected an empty line after the statement")
        line = take()
    elif line == "":
        line = take()
    values = {}
    for label in ("URI", "Version", "Chain ID", "Nonce", "Issued At"):
        values[label] = _field(line, label)
        line = take() if label != "Issued At" else ""
    optional: dict[str, str] = {}
    resources: list[str] = []
    rest = lines[pos:]
    for label, attr in _OPTIONAL:
        if rest and rest[0].startswith(f"{label}: "):
            optional[attr] = _field(rest.pop(0), label)
    if rest and rest[0] == "Resources:":
        rest.pop(0)
        while rest and rest[0].startswith("- "):
            resources.append(rest.pop(0)[2:])
    if rest:
        raise _malformed(f"unexpected line {rest[0][:40]!r}")
    if values["Version"] != "1":
        raise _malformed("version must be 1")
    if not values["Chain ID"].isdigit():
        raise _malformed("chain id must be a decimal number")
    if not _NONCE.match(values["Nonce"]):
        raise _malformed("nonce must be at least 8 alphanumeric characters")
    uri = values["URI"]
    if not urlsplit(uri).scheme:
        raise _malformed("URI must be absolute")
    return SiweMessage(
        domain=domain,
        address=address,
        uri=uri,
        chain_id=int(values["Chain ID"]),
        nonce=values["Nonce"],
        issued_at=_time(values["Issued At"]),
        statement=statement,
        scheme=scheme or None,
        expiration_time=_time(optional["expiration_time"])
        if "expiration_time" in optional
        else None,
        not_before=_time(optional["not_before"]) if "not_before" in optional else None,
        request_id=optional.get("request_id"),
        resources=tuple(resources),
    )


@dataclass(frozen=True)
class Expectations:
    """What this gateway accepts: its own origin and chain, a bounded message age."""

    domain: str
    origin: str  # scheme://host[:port] the URI must start at
    chain_id: int
    max_age_s: int
    clock_skew_s: int


def check_message(msg: SiweMessage, expect: Expectations, now: datetime) -> None:
    """Domain, URI, chain and time checks; the nonce and signature are checked elsewhere."""
    if msg.domain != expect.domain:
        raise AuthError("auth.domain_mismatch", f"message is for {msg.domain!r}, not this site")
    if msg.scheme is not None and f"{msg.scheme}://{msg.domain}" != expect.origin:
        raise AuthError("auth.domain_mismatch", "message scheme does not match this site")
    parts = urlsplit(msg.uri)
    if f"{parts.scheme}://{parts.netloc}" != expect.origin:
        raise AuthError("auth.uri_mismatch", "message URI is not this site")
    if msg.chain_id != expect.chain_id:
        raise AuthError("auth.chain_mismatch", f"message is for chain {msg.chain_id}")
    skew = expect.clock_skew_s
    if (msg.issued_at - now).total_seconds() > skew:
        raise AuthError("auth.not_yet_valid", "message is issued in the future")
    if msg.not_before is not None and (msg.not_before - now).total_seconds() > skew:
        raise AuthError("auth.not_yet_valid", "message is not valid yet (Not Before)")
    if msg.expiration_time is not None and (now - msg.expiration_time).total_seconds() > skew:
        raise AuthError("auth.expired", "message has expired")
    if (now - msg.issued_at).total_seconds() > expect.max_age_s + skew:
        raise AuthError("auth.expired", "message was issued too long ago")


def recover_signer(text: str, signature: str) -> str:
    """The EIP-55 address that signed ``text`` (EIP-191 personal_sign)."""
    if not _SIGNATURE.match(signature):
        raise AuthError("auth.bad_signature", "signature must be 65 bytes of hex")
    try:
        return str(Account.recover_message(encode_defunct(text=text), signature=signature))
    except Exception as exc:  # eth-keys raises several types for out-of-range v/r/s
        raise AuthError("auth.bad_signature", "signature does not recover") from exc


def _field(line: str, label: str) -> str:
    prefix = f"{label}: "
    if not line.startswith(prefix) or len(line) == len(prefix):
        raise _malformed(f"expected {label!r}")
    return line[len(prefix) :]


def _time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _malformed(f"{value[:40]!r} is not an RFC 3339 time") from exc
    if parsed.tzinfo is None:
        raise _malformed("times must carry a timezone")
    return parsed


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _malformed(reason: str) -> AuthError:
    return AuthError("auth.malformed", f"not a valid EIP-4361 message: {reason}", status=400)
