"""Errors of deployments and the networks file.

DeployError
├── NetworkConfigError   bad or missing networks file / entry / env var (also ConfigError)
├── WrongNetwork         the RPC serves another chain id than the entry says (also ValueError)
├── DeploymentMissing    no deployments/<chain-id>.json, or it lacks a contract (also LookupError)
├── DeploymentConflict   recorded state cannot be reconciled without a manual step
└── DeployerUnderfunded  the deployer cannot pay the estimated cost
"""

from __future__ import annotations

from inferchain.errors import ConfigError, InferchainError


class DeployError(InferchainError):
    """Root of deployment errors."""


class NetworkConfigError(DeployError, ConfigError):
    """The networks file, an entry in it, or the env var it names is wrong or missing."""


class WrongNetwork(DeployError, ValueError):
    """The RPC endpoint serves another chain than the network entry says."""


class DeploymentMissing(DeployError, LookupError):
    """Nothing is deployed (or recorded) on this chain yet."""


class DeploymentConflict(DeployError):
    """On-chain wiring differs from the record in a way only a manual step can fix."""


class DeployerUnderfunded(DeployError):
    """The deployer's balance is below the estimated cost of the missing steps."""
