"""The root of every error Inferchain raises.

Each package defines its own branch and translates lower-level errors (web3, httpx, torch)
at its boundary with ``raise ... from``::

    InferchainError
    ├── ConfigError              bad settings or missing install step (also ValueError)
    ├── devstack.DevStackError   local Anvil / IPFS processes
    ├── solidity.CompilationError
    ├── chain.ChainError         RPC, transactions, contract reverts
    ├── ipfs.IpfsError           Kubo RPC API, CID verification
    └── bundle.BundleError       model bundles and runtimes
"""

from __future__ import annotations


class InferchainError(Exception):
    """Root of every error Inferchain raises; catch this at process boundaries."""


class ConfigError(InferchainError, ValueError):
    """A setting is invalid or an install step is missing; the message says which."""
