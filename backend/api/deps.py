"""``Annotated`` dependencies: the services, a DB session, the signed-in wallet.

Every request is rate-limited per client address before routing (``ClientRateLimit``); a
signed-in wallet's requests also take from the wallet's own bucket, wherever they come from.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from inferchain.gateway.auth.tokens import Session as WalletSession
from inferchain.gateway.container import Services
from inferchain.gateway.errors import AuthError, RateLimited
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.settings import GatewaySettings

_bearer = HTTPBearer(auto_error=False, description="session token from POST /auth/verify")


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings(services: ServicesDep) -> GatewaySettings:
    return services.settings


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]


def get_db(services: ServicesDep) -> Iterator[Session]:
    with services.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]


def get_contracts(services: ServicesDep) -> MarketContracts:
    return services.contracts()


ContractsDep = Annotated[MarketContracts, Depends(get_contracts)]


def _limit(services: Services, key: str) -> None:
    try:
        services.limiter.check(key)
    except RateLimited:
        services.metrics.rate_limited.inc()
        raise


def get_wallet_session(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> WalletSession:
    """The session of the bearer token, rate-limited per wallet."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("auth.missing", "sign in and send 'Authorization: Bearer <token>'")
    session = services.tokens.verify(credentials.credentials, int(time.time()))
    _limit(services, f"wallet:{session.address}")
    return session


CurrentSession = Annotated[WalletSession, Depends(get_wallet_session)]


def get_wallet(session: CurrentSession) -> str:
    return session.address


CurrentWallet = Annotated[str, Depends(get_wallet)]
