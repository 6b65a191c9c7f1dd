"""Sign-In with Ethereum, session tokens and API keys."""

from inferchain.gateway.auth.siwe import Expectations, SiweMessage, parse_message
from inferchain.gateway.auth.tokens import Session, TokenSigner

__all__ = ["Expectations", "Session", "SiweMessage", "TokenSigner", "parse_message"]
