"""Issue 7's end to end: a fresh wallet, `inferchain job submit --wait`, a running worker,
and the verified result printed by the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from inferchain.chain import Chain
from inferchain.demo import DEMO_MODELS
from inferchain.ipfs import Cid, IpfsClient
from inferchain.wallet import PASSWORD_ENV, MarketClient
from tests.cli.runner import Cli
from tests.conftest import AnvilNode
from tests.demo.helpers import FAUCET, deploy_demo, running_worker

PASSWORD = "end-to-end-password"


def test_fresh_wallet_submit_wait_prints_the_verified_result(
    cli: Cli, chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> None:
    demo = deploy_demo(chain, anvil, ipfs_api_url, tmp_path / "deployments", DEMO_MODELS[2:3])
    model_id = demo.models["text-classification"]
    env = {"INFERCHAIN_LOCAL_RPC_URL": anvil.rpc_url, PASSWORD_ENV: PASSWORD,
           "INFERCHAIN_IPFS_API": ipfs_api_url}  # fmt: skip
    keystore = tmp_path / "wallet.json"
    created = cli("wallet", "new", "--keystore", str(keystore), "--scrypt-n", "1024", "--json",
                  env=env)  # fmt: skip
    assert created.code == 0, created.error
    address = created.json()["address"]
    chain.sender(anvil.keys[FAUCET]).send_value(address, 10**17)

    with running_worker(anvil, ipfs_api_url, demo, tmp_path / "worker"):
        human = cli("job", "submit", "--model", str(model_id), "--input", "a wonderful film",
                    "--wait", "--timeout", "60", "--keystore", str(keystore), *demo.cli_args(),
                    env=env)  # fmt: skip
        as_json = cli("job", "submit", "--model", str(model_id), "--input", "a wonderful film",
                      "--wait", "--timeout", "60", "--keystore", str(keystore), "--json",
                      *demo.cli_args(), env=env)  # fmt: skip
    assert human.code == 0, human.error
    assert "waiting for a worker" in human.stderr
    printed = json.loads(human.stdout)  # the human form prints the output document itself
    assert printed["task"] == "text-classification"
    assert printed["result"]["label"] == "positive"

    answer = as_json.json()
    assert as_json.code == 0 and answer["verified"] is True
    record = MarketClient(demo.market).job(answer["job_id"])
    assert record.job.requester == address
    onchain = Cid.parse(record.output_cid)  # type: ignore[arg-type]
    assert Cid.parse(answer["output_cid"]) == onchain
    with IpfsClient(ipfs_api_url) as ipfs:
        stored = ipfs.cat(onchain)
    assert answer["output"].encode() == stored
    assert json.loads(stored) == printed  # same input, same model: same deterministic output
