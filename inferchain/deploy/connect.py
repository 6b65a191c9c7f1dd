"""Connect to a network from the networks file and bind the recorded deployment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inferchain.chain import Chain, WrongChain
from inferchain.deploy.errors import WrongNetwork
from inferchain.deploy.networks import Network, load_network
from inferchain.deploy.records import DeploymentRecord, deployments_dir, load_record
from inferchain.market import Market


def connect_chain(network: Network) -> Chain:
    """A Chain on the entry's RPC URL that refuses to talk to any other chain id."""
    try:
        return Chain(network.rpc_url(), expected_chain_id=network.chain_id)
    except WrongChain as exc:
        raise WrongNetwork(
            f"wrong network: {network.rpc_url_env} points at a node of another chain than "
            f"{network.name!r} (chain id {network.chain_id}): {exc}"
        ) from exc


@dataclass(frozen=True)
class Connection:
    network: Network
    chain: Chain
    record: DeploymentRecord
    market: Market


def connect(
    network_name: str | None = None,
    *,
    networks_file: Path | None = None,
    deployments: Path | None = None,
) -> Connection:
    """Network entry → checked chain → deployment record by chain id → bound market."""
    network = load_network(network_name, networks_file)
    chain = connect_chain(network)
    record = load_record(deployments_dir(deployments), chain.chain_id)
    return Connection(network, chain, record, Market.connect(chain, record.market_addresses()))
