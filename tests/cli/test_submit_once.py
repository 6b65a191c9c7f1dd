"""`inferchain job submit` pays for one job even when the answer to its send is lost.

The CLI talks to Anvil through the faulty proxy of tests/chain/rpc_proxy.py: the job's
transaction reaches the chain, the CLI hears a 504 or "nonce too low". It must report the
job that was created, and no second one.
"""

from __future__ import annotations

import pytest

from inferchain.chain import Chain
from inferchain.demo.deployment import DEMO_MODELS, register_models
from inferchain.deploy import deploy_network, load_network, load_record
from inferchain.ipfs import IpfsClient
from inferchain.market import Market
from inferchain.paths import project_root
from inferchain.wallet import PRIVATE_KEY_ENV
from tests.chain.rpc_proxy import Fault, rpc_proxy
from tests.cli.runner import Cli
from tests.conftest import AnvilNode

OWNER, PROVIDER, REQUESTER = 0, 1, 8
SENTIMENT = next(m for m in DEMO_MODELS if m.task == "text-classification")


@pytest.fixture(scope="module")
def deployed(
    anvil: AnvilNode, chain: Chain, ipfs_api_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """The local entry deployed into a tmp deployments dir, with the demo sentiment model."""
    directory = tmp_path_factory.mktemp("deployments")
    networks = project_root() / "networks.toml"
    network = load_network("local", networks)
    deploy_network(chain, chain.sender(anvil.keys[OWNER]), network, directory)
    market = Market.connect(chain, load_record(directory, chain.chain_id).market_addresses())
    with IpfsClient(ipfs_api_url) as ipfs:
        [model] = register_models(market, ipfs, anvil.keys[PROVIDER], (SENTIMENT,))
    base = [
        "--network", "local", "--networks-file", str(networks), "--deployments-dir", str(directory),
    ]  # fmt: skip
    return {"market": market, "base": base, "model_id": model.model_id}


@pytest.mark.parametrize("fault", [Fault.GATEWAY_TIMEOUT, Fault.REPLAY])
def test_submit_creates_one_job_when_the_send_answer_is_lost(
    fault: Fault,
    cli: Cli,
    deployed: dict,
    anvil: AnvilNode,
    chain: Chain,
    ipfs_api_url: str,
) -> None:
    market: Market = deployed["market"]
    requester = anvil.accounts[REQUESTER]
    next_job = chain.call(market.jobs.functions.nextJobId())
    nonce = chain.w3.eth.get_transaction_count(requester)

    with rpc_proxy(anvil.rpc_url) as proxy:
        proxy.fail_next_sends(fault)
        out = cli(
            "job", "submit", "--model", str(deployed["model_id"]), "--input", "A fine film",
            *deployed["base"], "--json",
            env={"INFERCHAIN_LOCAL_RPC_URL": proxy.url, PRIVATE_KEY_ENV: anvil.keys[REQUESTER],
                 "INFERCHAIN_KEYSTORE": "", "INFERCHAIN_IPFS_API": ipfs_api_url},
        )  # fmt: skip

    assert out.code == 0, out.error
    printed = out.json()
    assert proxy.sends_seen == 1  # createJob, looked up after the lost answer, not resent
    assert chain.call(market.jobs.functions.nextJobId()) == next_job + 1  # exactly one job
    assert chain.w3.eth.get_transaction_count(requester) == nonce + 1  # one transaction
    assert printed["job_id"] == next_job
    tx = chain.w3.eth.get_transaction(printed["tx"])
    assert tx["from"] == requester and tx["nonce"] == nonce
