"""Inferchain: an open, on-chain marketplace for AI inference.

The shared package: contract artifacts and chain access, the IPFS client, settings and the
CLI. The gateway lives in ``inferchain.gateway`` and the worker in ``inferchain.worker``.
"""

from inferchain.errors import ConfigError, InferchainError

__version__ = "0.1.0"

__all__ = ["ConfigError", "InferchainError", "__version__"]
