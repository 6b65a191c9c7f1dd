"""Inferchain gateway: FastAPI service linking wallets to jobs.

``create_app(GatewaySettings(...))`` builds the ASGI app; ``inferchain gateway run`` serves it.
"""

from inferchain.gateway.app import create_app
from inferchain.gateway.errors import GatewayError
from inferchain.gateway.settings import GatewaySettings

__all__ = ["GatewayError", "GatewaySettings", "create_app"]
