"""The whole local marketplace in one command (`inferchain demo up`, `scripts/demo.sh`).

Starts Anvil and IPFS, deploys, publishes and registers the demo models, starts a worker
and the gateway (recorded in the dev stack, so `inferchain dev down` stops them), then
acts as a user with a fresh wallet and prints the verified results and the money flow.
"""

from inferchain.demo.deployment import (
    DEMO_MODELS,
    ZK_MODEL,
    deploy,
    register_models,
    register_zk_model,
)
from inferchain.demo.errors import DemoError, StepFailed
from inferchain.demo.run import DemoResult, demo_down, demo_up
from inferchain.demo.user import UserContext, UserReport, run_user_path
from inferchain.demo.wallet import Wallet, fresh_wallet

__all__ = [
    "DEMO_MODELS",
    "ZK_MODEL",
    "DemoError",
    "DemoResult",
    "StepFailed",
    "UserContext",
    "UserReport",
    "Wallet",
    "demo_down",
    "demo_up",
    "deploy",
    "fresh_wallet",
    "register_models",
    "register_zk_model",
    "run_user_path",
]
