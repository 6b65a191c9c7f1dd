"""Deploy the market to any network in the networks file, and find it again by chain id.

`inferchain deploy --network NAME` runs `deploy_network`; every other command calls
`connect`, which reads `deployments/<chain-id>.json` for the chain its RPC serves.
"""

from inferchain.deploy.connect import Connection, connect, connect_chain
from inferchain.deploy.deployer import DeployReport, Step, deploy_network
from inferchain.deploy.errors import (
    DeployError,
    DeployerUnderfunded,
    DeploymentConflict,
    DeploymentMissing,
    NetworkConfigError,
    WrongNetwork,
)
from inferchain.deploy.governance import Proposal, ProposalState
from inferchain.deploy.networks import MarketParams, Network, load_network, load_networks
from inferchain.deploy.records import (
    ContractRecord,
    DeploymentRecord,
    deployments_dir,
    load_record,
    read_record,
)
from inferchain.deploy.verify import verification_inputs, write_verification_inputs

__all__ = [
    "Connection",
    "ContractRecord",
    "DeployError",
    "DeployReport",
    "DeployerUnderfunded",
    "DeploymentConflict",
    "DeploymentMissing",
    "DeploymentRecord",
    "MarketParams",
    "Network",
    "NetworkConfigError",
    "Proposal",
    "ProposalState",
    "Step",
    "WrongNetwork",
    "connect",
    "connect_chain",
    "deploy_network",
    "deployments_dir",
    "load_network",
    "load_networks",
    "load_record",
    "read_record",
    "verification_inputs",
    "write_verification_inputs",
]
