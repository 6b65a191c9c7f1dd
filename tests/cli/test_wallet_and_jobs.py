"""The wallet, job and model commands against a market deployed through the `local` entry."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from inferchain.bundle import publish_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.chain import Chain, TransactionSender
from inferchain.deploy import deploy_network, load_network, load_record
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH, Job, Market, created_job_id
from inferchain.market.modes import REEXEC_MODE
from inferchain.paths import project_root
from inferchain.wallet import PASSWORD_ENV, PRIVATE_KEY_ENV, decrypt_keystore
from inferchain.worker.account import ensure_ready
from tests.cli.runner import Cli
from tests.conftest import AnvilNode

PRICE = 10**15
PASSWORD = "hunter2-but-longer"
OWNER, PROVIDER, WORKER, OTHER = 0, 1, 2, 3
WORKER_STAKE = 10**18  # staked and allocated: collateral for the jobs it claims


@pytest.fixture(scope="module")
def deployed(anvil: AnvilNode, chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Deploy via the local entry into a tmp deployments dir; register a model and a worker."""
    directory = tmp_path_factory.mktemp("deployments")
    network = load_network("local", project_root() / "networks.toml")
    deploy_network(chain, chain.sender(anvil.keys[OWNER]), network, directory)
    market = Market.connect(chain, load_record(directory, chain.chain_id).market_addresses())
    return {
        "dir": directory,
        "market": market,
        "base": [
            "--network",
            "local",
            "--networks-file",
            str(project_root() / "networks.toml"),
            "--deployments-dir",
            str(directory),
        ],
        "env": {"INFERCHAIN_LOCAL_RPC_URL": anvil.rpc_url, PASSWORD_ENV: PASSWORD},
    }


def _key_env(deployed: dict, key: str) -> dict[str, str]:
    return {**deployed["env"], PRIVATE_KEY_ENV: key, "INFERCHAIN_KEYSTORE": ""}


@pytest.fixture(scope="module")
def tiny_gpt(ipfs_api_url: str) -> tuple[str, str]:
    """The tiny-gpt demo bundle on the test IPFS node: (CID, manifest sha-256 hex)."""
    with IpfsClient(ipfs_api_url, timeout=30) as ipfs:
        published = publish_bundle(ipfs, demo_bundle_path("tiny-gpt"))
    return published.cid, published.manifest_sha256


def _register_model(cli: Cli, deployed: dict, anvil: AnvilNode, bundle: tuple[str, str]) -> int:
    cid, manifest_sha256 = bundle
    out = cli(
        "model", "register", "--cid", cid, "--manifest-sha256", manifest_sha256,
        "--task", "text-generation", "--price", f"{PRICE}wei", "--royalty-bps", "1000",
        *deployed["base"], "--json", env=_key_env(deployed, anvil.keys[PROVIDER]),
    )  # fmt: skip
    assert out.code == 0, out.error
    return out.json()["model_id"]


def _serving_worker(
    chain: Chain, anvil: AnvilNode, deployed: dict, model_id: int
) -> TransactionSender:
    """The WORKER account, registered, staked and allocated (once per module) and serving
    `model_id`."""
    market: Market = deployed["market"]
    worker = chain.sender(anvil.keys[WORKER])
    ensure_ready(chain, market, worker, [model_id], register=True, stake={ETH: WORKER_STAKE})
    return worker


def _fresh_wallet(
    cli: Cli, tmp_path: Path, chain: Chain, anvil: AnvilNode, fund: int
) -> tuple[Path, str]:
    keystore = tmp_path / "wallet.json"
    out = cli("wallet", "new", "--keystore", str(keystore), "--scrypt-n", "1024", "--json",
              env={PASSWORD_ENV: PASSWORD})  # fmt: skip
    assert out.code == 0, out.error
    address = out.json()["address"]
    if fund:
        chain.sender(anvil.keys[OWNER]).send_value(address, fund)
    return keystore, address


def test_wallet_new_import_show_round_trip(cli: Cli, tmp_path: Path) -> None:
    keystore = tmp_path / "k.json"
    created = cli("wallet", "new", "--keystore", str(keystore), "--scrypt-n", "1024",
                  input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert created.code == 0, created.error
    shown = cli("wallet", "show", "--keystore", str(keystore), "--json")
    address = shown.json()["address"]
    assert address in created.stdout
    key = decrypt_keystore(keystore, PASSWORD)
    assert Account.from_key(key).address == address
    assert key[2:] not in keystore.read_text()  # encrypted at rest
    assert keystore.stat().st_mode & 0o077 == 0
    again = cli("wallet", "new", "--keystore", str(keystore), env={PASSWORD_ENV: PASSWORD})
    assert again.code == 1 and "already exists" in again.error

    imported = tmp_path / "imported.json"
    out = cli("wallet", "import", "--keystore", str(imported), "--from-env", "K", "--scrypt-n",
              "1024", "--json", env={"K": key, PASSWORD_ENV: "other password"})  # fmt: skip
    assert out.code == 0 and out.json()["address"] == address
    from inferchain.wallet import WrongPassword

    with pytest.raises(WrongPassword):
        decrypt_keystore(imported, PASSWORD)
    bad = cli("wallet", "import", "--keystore", str(tmp_path / "x.json"), "--from-env", "K",
              env={"K": "0x1234", PASSWORD_ENV: PASSWORD})  # fmt: skip
    assert bad.code == 1 and "not a valid private key" in bad.error
    missing = cli("wallet", "show", "--keystore", str(tmp_path / "nope.json"))
    assert missing.code == 1 and "wallet new" in missing.error


def test_submit_status_cancel_balance_withdraw_from_a_fresh_wallet(
    cli: Cli,
    deployed: dict,
    anvil: AnvilNode,
    chain: Chain,
    tmp_path: Path,
    ipfs_api_url: str,
    tiny_gpt: tuple[str, str],
) -> None:
    model_id = _register_model(cli, deployed, anvil, tiny_gpt)
    keystore, address = _fresh_wallet(cli, tmp_path, chain, anvil, fund=10**18)
    common = [*deployed["base"], "--keystore", str(keystore), "--json"]
    env = {**deployed["env"], "INFERCHAIN_IPFS_API": ipfs_api_url}

    out = cli(
        "job", "submit", "--model", str(model_id), "--input", "Once upon a time", *common, env=env
    )
    assert out.code == 0, out.error
    submitted = out.json()
    job_id = submitted["job_id"]
    with IpfsClient(ipfs_api_url) as ipfs:
        assert json.loads(ipfs.cat(submitted["input_cid"])) == {"prompt": "Once upon a time"}

    status = cli("job", "status", str(job_id), *deployed["base"], "--json", env=env).json()
    assert status["status"] == "open" and status["requester"] == address
    assert status["price"] == PRICE and status["input_cid"] == submitted["input_cid"]

    cancelled = cli("job", "cancel", str(job_id), *common, env=env)
    assert cancelled.code == 0, cancelled.error
    status = cli("job", "status", str(job_id), *deployed["base"], "--json", env=env).json()
    assert status["outcome"] == "cancelled"

    balance = cli("wallet", "balance", *common, env=env).json()
    assert balance["market"] == PRICE and balance["address"] == address
    out = cli("wallet", "withdraw", *common, env=env)
    assert out.code == 0 and out.json()["amount"] == PRICE
    assert cli("wallet", "balance", *common, env=env).json()["market"] == 0
    out = cli("wallet", "deposit", "0.001eth", *common, env=env)
    assert out.code == 0 and cli("wallet", "balance", *common, env=env).json()["market"] == 10**15


def test_wallet_signer_grant_lower_revoke(
    cli: Cli, deployed: dict, anvil: AnvilNode, chain: Chain, tmp_path: Path
) -> None:
    keystore, address = _fresh_wallet(cli, tmp_path, chain, anvil, fund=10**18)
    common = [*deployed["base"], "--keystore", str(keystore), "--json"]
    signer = Account.create().address
    granted = cli("wallet", "signer", "grant", signer, "5000wei", "--ttl", "600", *common,
                  env=deployed["env"])  # fmt: skip
    assert granted.code == 0, granted.error
    assert granted.json()["remaining"] == 5_000 and granted.json()["expiry"] > 0
    again = cli("wallet", "signer", "grant", signer, "1000wei", *common, env=deployed["env"])
    assert again.json()["remaining"] == 6_000  # added to what is left, never replaced
    lowered = cli("wallet", "signer", "lower", signer, "10000wei", *common, env=deployed["env"])
    assert lowered.code == 0 and lowered.json()["remaining"] == 0  # stops at zero
    router = deployed["market"].router.functions
    assert chain.call(router.sessionOf(address, signer, "0x" + "00" * 20))[0] == 0
    revoked = cli("wallet", "signer", "revoke", signer, *common, env=deployed["env"])
    assert revoked.code == 0 and revoked.json()["expiry"] == 0
    twice = cli("wallet", "signer", "revoke", signer, *common, env=deployed["env"])
    assert twice.code != 0 and "JobRouterSignerNotAuthorized" in twice.error
    bad = cli("wallet", "signer", "grant", "0x12", "1wei", *common, env=deployed["env"])
    assert bad.code != 0 and "not an address" in bad.error


def _bond_pool(chain: Chain, market: Market, members: int = 5) -> None:
    """`members` fresh accounts join the reexec pool (mode 0's court) with the least bond."""
    assert market.reexec is not None
    bond = chain.call(market.reexec.functions.params())[1]
    for i in range(members):
        key = "0x" + Web3.keccak(text=f"cli court member {i}").hex().removeprefix("0x")
        chain.w3.provider.make_request(
            "anvil_setBalance",
            [Account.from_key(key).address, hex(10**21)],  # type: ignore[list-item]
        )
        chain.sender(key).transact(market.reexec.functions.join(), value=bond)


def test_result_is_fetched_and_verified_then_disputed(
    cli: Cli,
    deployed: dict,
    anvil: AnvilNode,
    chain: Chain,
    chain_snapshot: Chain,
    tmp_path: Path,
    ipfs_api_url: str,
    tiny_gpt: tuple[str, str],
) -> None:
    """Acts as the worker by hand (claim + submit a really pinned output). The dispute goes
    to mode 0's committee court, whose pool is bonded here (rolled back after the test):
    `job dispute` pays the bond and opens the dispute round
    (tests/cli/test_dispute_round.py has the rest)."""
    market: Market = deployed["market"]
    model_id = _register_model(cli, deployed, anvil, tiny_gpt)
    keystore, _address = _fresh_wallet(cli, tmp_path, chain, anvil, fund=10**18)
    common = [*deployed["base"], "--keystore", str(keystore), "--json"]
    env = {**deployed["env"], "INFERCHAIN_IPFS_API": ipfs_api_url}
    job_id = cli("job", "submit", "--model", str(model_id), "--input", '{"prompt": "hi"}',
                 *common, env=env).json()["job_id"]  # fmt: skip

    early = cli("job", "result", str(job_id), *deployed["base"], env=env)
    assert early.code == 1 and "has no result (open)" in early.error

    worker = _serving_worker(chain, anvil, deployed, model_id)
    record_job = cli("job", "status", str(job_id), *deployed["base"], "--json", env=env).json()
    assert record_job["status"] == "open"
    from inferchain.wallet import MarketClient

    job: Job = MarketClient(market).job(job_id).job
    worker.transact(market.jobs.functions.claim(job_id, job.as_abi()))
    output = json.dumps({"result": {"text": "hello there"}}).encode()
    with IpfsClient(ipfs_api_url) as ipfs:
        cid = ipfs.add_bytes(output)
    claimed = job.claimed_by(worker.address)
    worker.transact(
        market.jobs.functions.submitResult(
            job_id,
            claimed.as_abi(),
            (cid.to_bytes(), hashlib.sha256(output).digest(), b"\0" * 32, b""),
        )
    )

    out = cli("job", "result", str(job_id), *deployed["base"], "--json", env=env)
    assert out.code == 0, out.error
    assert out.json()["output"] == output.decode() and out.json()["output_cid"] == str(cid)
    saved = tmp_path / "out.json"
    out = cli("job", "result", str(job_id), *deployed["base"], "--out", str(saved), env=env)
    assert out.code == 0 and saved.read_bytes() == output and "verified" in out.stdout

    _bond_pool(chain, market)
    disputed = cli("job", "dispute", str(job_id), *common, env=env)
    assert disputed.code == 0, disputed.error
    assert disputed.json()["bond"] == PRICE * 1000 // 10_000
    assert market.reexec is not None
    fee = chain.call(market.reexec.functions.disputeFee())
    assert disputed.json()["round"]["fee"] == fee
    assert (
        cli("job", "status", str(job_id), *deployed["base"], "--json", env=env).json()["status"]
        == "disputed"
    )


def test_clear_errors(
    cli: Cli,
    deployed: dict,
    anvil: AnvilNode,
    chain: Chain,
    tmp_path: Path,
    ipfs_api_url: str,
    tiny_gpt: tuple[str, str],
) -> None:
    model_id = _register_model(cli, deployed, anvil, tiny_gpt)
    env = {**deployed["env"], "INFERCHAIN_IPFS_API": ipfs_api_url}
    as_other = _key_env(deployed, anvil.keys[OTHER])
    as_other["INFERCHAIN_IPFS_API"] = ipfs_api_url
    base = deployed["base"]

    # price above the maximum
    out = cli(
        "job",
        "submit",
        "--model",
        str(model_id),
        "--input",
        "x",
        "--max-price",
        "1wei",
        *base,
        env=as_other,
    )
    assert out.code == 1 and "price above the maximum" in out.error
    # insufficient funds (a fresh, unfunded wallet)
    keystore, _ = _fresh_wallet(cli, tmp_path, chain, anvil, fund=0)
    out = cli(
        "job",
        "submit",
        "--model",
        str(model_id),
        "--input",
        "x",
        *base,
        "--keystore",
        str(keystore),
        env=env,
    )
    assert out.code == 1 and "insufficient funds" in out.error
    out = cli("wallet", "withdraw", *base, "--keystore", str(keystore), env=env)
    assert out.code == 1 and "insufficient funds" in out.error
    # unknown job
    out = cli("job", "status", "999999", *base, env=env)
    assert out.code == 1 and "unknown job 999999" in out.error
    # not the owner: someone else's job, someone else's model
    job_id = cli(
        "job", "submit", "--model", str(model_id), "--input", "x", *base, "--json", env=as_other
    ).json()["job_id"]
    out = cli("job", "cancel", str(job_id), *base, env=_key_env(deployed, anvil.keys[WORKER]))
    assert out.code == 1 and "not the owner" in out.error
    out = cli("model", "update", str(model_id), "--price", "5wei", *base, env=as_other)
    assert out.code == 1 and "not the owner" in out.error
    # inactive model
    out = cli(
        "model", "deactivate", str(model_id), *base, env=_key_env(deployed, anvil.keys[PROVIDER])
    )
    assert out.code == 0, out.error
    out = cli("job", "submit", "--model", str(model_id), "--input", "x", *base, env=as_other)
    assert out.code == 1 and "inactive" in out.error
    assert (
        cli(
            "model", "activate", str(model_id), *base, env=_key_env(deployed, anvil.keys[PROVIDER])
        ).code
        == 0
    )
    out = cli(
        "model",
        "update",
        str(model_id),
        "--price",
        "0.002eth",
        *base,
        "--json",
        env=_key_env(deployed, anvil.keys[PROVIDER]),
    )
    assert (
        out.code == 0
        and chain.call(deployed["market"].models.functions.terms(model_id))[2] == 2 * 10**15
    )
    # unknown model, and a chain without a deployment record
    out = cli("job", "submit", "--model", "4000", "--input", "x", *base, env=as_other)
    assert out.code == 1 and "model 4000 is not registered" in out.error
    empty = [
        "--network",
        "local",
        "--networks-file",
        base[3],
        "--deployments-dir",
        str(tmp_path / "none"),
    ]
    out = cli("job", "status", "1", *empty, env=env)
    assert out.code == 1 and "nothing is deployed on chain 31337" in out.error
    # a keystore password that does not decrypt
    out = cli(
        "job",
        "cancel",
        str(job_id),
        *base,
        "--keystore",
        str(keystore),
        env={**env, PASSWORD_ENV: "nope"},
    )
    assert out.code == 1 and "wrong password" in out.error


def test_submit_refuses_an_input_the_model_would_refuse(
    cli: Cli,
    deployed: dict,
    anvil: AnvilNode,
    chain: Chain,
    tmp_path: Path,
    ipfs_api_url: str,
    tiny_gpt: tuple[str, str],
) -> None:
    market: Market = deployed["market"]
    model_id = _register_model(cli, deployed, anvil, tiny_gpt)
    keystore, address = _fresh_wallet(cli, tmp_path, chain, anvil, fund=10**18)
    common = [*deployed["base"], "--keystore", str(keystore)]
    env = {**deployed["env"], "INFERCHAIN_IPFS_API": ipfs_api_url}
    next_job = chain.call(market.jobs.functions.nextJobId())
    too_many = '{"prompt": "Once upon a time", "max_new_tokens": 4096}'
    out = cli("job", "submit", "--model", str(model_id), "--input", too_many, *common, env=env)
    assert out.code == 1
    assert (
        f"model {model_id} would refuse this input: max_new_tokens 4096 exceeds model "
        f"{model_id}'s limit of 255; nothing was submitted" in out.error
    )
    long_prompt = tmp_path / "prompt.json"
    long_prompt.write_text(json.dumps({"prompt": "Once upon a time " * 60}))
    out = cli("job", "submit", "--model", str(model_id), "--input", str(long_prompt), *common,
              env=env)  # fmt: skip
    assert out.code == 1 and f"model {model_id}'s context holds 256 tokens" in out.error
    assert chain.call(market.jobs.functions.nextJobId()) == next_job
    assert chain.balance(address) == 10**18  # nothing paid, not even gas
    with IpfsClient(ipfs_api_url) as ipfs:
        assert not ipfs.is_pinned(ipfs.add_bytes(too_many.encode(), only_hash=True))


def test_submit_refuses_a_model_whose_bundle_is_unusable(
    cli: Cli, deployed: dict, anvil: AnvilNode, ipfs_api_url: str, tiny_gpt: tuple[str, str]
) -> None:
    not_a_bundle = (str(Cid.for_raw_block(b"bundle text-generation")), tiny_gpt[1])
    model_id = _register_model(cli, deployed, anvil, not_a_bundle)
    env = {**_key_env(deployed, anvil.keys[OTHER]), "INFERCHAIN_IPFS_API": ipfs_api_url}
    out = cli("job", "submit", "--model", str(model_id), "--input", "x", *deployed["base"],
              env=env)  # fmt: skip
    assert out.code == 1
    assert f"model {model_id}'s bundle {not_a_bundle[0]} is not usable" in out.error
    assert "nothing was submitted" in out.error


def test_deliver_runs_a_paid_callback_and_pays_the_deliverer(
    cli: Cli,
    deployed: dict,
    anvil: AnvilNode,
    chain: Chain,
    tmp_path: Path,
    tiny_gpt: tuple[str, str],
) -> None:
    """A contract requester's callback runs only when someone delivers it, who earns the
    callback fee the requester escrowed; payment never ran it (issue 12, attack 8)."""
    from inferchain.wallet import MarketClient

    market: Market = deployed["market"]
    model_id = _register_model(cli, deployed, anvil, tiny_gpt)
    worker = _serving_worker(chain, anvil, deployed, model_id)
    asker = chain.sender(anvil.keys[OTHER])
    consumer = asker.deploy("ExampleConsumer", market.jobs.address)
    fee = 10**14
    receipt = asker.transact(
        consumer.functions.ask(
            model_id, Cid.for_raw_block(b"question").to_bytes(), PRICE,
            chain.block_timestamp() + 3_600, 600, fee,
        ),
        value=PRICE + fee,
    )  # fmt: skip
    job_id = created_job_id(market.jobs, receipt)
    client = MarketClient(market)
    job = client.job(job_id).job
    output = Cid.for_raw_block(b"answer")
    worker.transact(
        market.jobs.functions.submitResult(
            job_id, job.as_abi(), (output.to_bytes(), b"\x11" * 32, b"\0" * 32, b"")
        )
    )
    keystore, deliverer = _fresh_wallet(cli, tmp_path, chain, anvil, fund=10**17)
    args = [str(job_id), *deployed["base"], "--keystore", str(keystore), "--json"]
    early = cli("job", "deliver", *args, env=deployed["env"])
    assert early.code == 1 and "has no callback waiting for delivery (submitted)" in early.error

    chain.increase_time(int(job.terms.challenge_window) + 1)
    worker.transact(market.jobs.functions.finalize(job_id, client.job(job_id).job.as_abi()))
    assert consumer.functions.answer(job_id).call() == b""  # paid, callback not run
    out = cli("job", "deliver", *args, env=deployed["env"])
    assert out.code == 0, out.error
    assert out.json() | {"tx": None} == {
        "job_id": job_id, "delivered": True, "success": True, "fee": fee, "tx": None,
    }  # fmt: skip
    assert consumer.functions.answer(job_id).call() == output.to_bytes()
    assert chain.call(market.jobs.functions.balanceOf(deliverer, ETH)) == fee
    again = cli("job", "deliver", *args, env=deployed["env"])
    assert again.code == 1 and "has no callback waiting for delivery" in again.error


def test_model_rates_set_at_register_shown_changed_and_refused_to_strangers(
    cli: Cli, deployed: dict, anvil: AnvilNode, tiny_gpt: tuple[str, str]
) -> None:
    cid, manifest_sha256 = tiny_gpt
    out = cli(
        "model", "register", "--cid", cid, "--manifest-sha256", manifest_sha256,
        "--task", "text-generation", "--price", f"{PRICE}wei", "--royalty-bps", "1000",
        "--per-input-token", "2gwei", "--per-output-token", "5gwei", *deployed["base"], "--json",
        env=_key_env(deployed, anvil.keys[PROVIDER]),
    )  # fmt: skip
    assert out.code == 0, out.error
    model_id = out.json()["model_id"]
    assert out.json()["rates"]["per_output_token"] == 5 * 10**9

    def shown() -> dict | None:
        read = cli("model", "rates", str(model_id), *deployed["base"], "--json",
                   env=deployed["env"])  # fmt: skip
        assert read.code == 0, read.error
        return read.json()["rates"]

    assert shown() == {"base": 0, "per_input_token": 2 * 10**9, "per_output_token": 5 * 10**9}
    changed = cli("model", "rates", str(model_id), "--base", "1000", "--per-input-token", "3",
                  "--per-output-token", "4", *deployed["base"],
                  env=_key_env(deployed, anvil.keys[PROVIDER]))  # fmt: skip
    assert changed.code == 0 and "per output token" in changed.stdout, changed.error
    assert shown() == {"base": 1000, "per_input_token": 3, "per_output_token": 4}
    stranger = cli("model", "rates", str(model_id), "--per-input-token", "0",
                   "--per-output-token", "0", *deployed["base"],
                   env=_key_env(deployed, anvil.keys[OTHER]))  # fmt: skip
    assert stranger.code == 1 and "not the owner" in stranger.error
    half = cli("model", "rates", str(model_id), "--per-input-token", "1", *deployed["base"],
               env=_key_env(deployed, anvil.keys[PROVIDER]))  # fmt: skip
    assert half.code == 2 and "--per-output-token" in half.error
    flat = _register_model(cli, deployed, anvil, tiny_gpt)
    assert (
        cli("model", "rates", str(flat), *deployed["base"], env=deployed["env"]).stdout.strip()
        == f"model {flat} has no metered rates"
    )


def test_model_show_quotes_each_verification_tier(
    cli: Cli, deployed: dict, anvil: AnvilNode, tiny_gpt: tuple[str, str]
) -> None:
    """`local` deploys the committee court (mode 0, `none`), ZkVerifier (mode 1) and
    ReexecVerifier (mode 2): a model published without a circuit cannot use the second, the
    third needs a verifier pool (empty here), and `model show` says so before any job; the
    first quotes its dispute cost, and that no dispute could be judged with that pool."""
    model_id = _register_model(cli, deployed, anvil, tiny_gpt)
    out = cli("model", "show", str(model_id), *deployed["base"], "--json", env=deployed["env"])
    assert out.code == 0, out.error
    shown = out.json()
    assert shown["price"] == PRICE and shown["task"] == "text-generation"
    none, zk, reexec = shown["tiers"]
    assert (none["name"], none["available"], none["verify_fee"]) == ("none", True, 0)
    assert none["settles_after_s"] > 0  # the challenge window
    assert (none["disputes"], none["dispute_bond"]) == ("committee", PRICE * 1000 // 10_000)
    assert none["dispute_fee"] == 3 * 10**14  # k x fee per verifier (networks.toml)
    assert "the pool has 0 members, 5 needed" in none["note"]
    assert (zk["name"], zk["available"], zk["note"]) == ("zk", False, "the model has no ZK circuit")
    assert (reexec["name"], reexec["available"]) == ("reexec", False)
    assert "the verifier pool has 0 members, 5 needed" in reexec["note"]
    text = cli("model", "show", str(model_id), *deployed["base"], env=deployed["env"])
    assert "--verify zk (unavailable): fee 0, paid at submission" in text.stdout
    missing = cli("model", "show", "999999", *deployed["base"], env=deployed["env"])
    assert missing.code == 1 and "999999" in missing.error


def test_verifier_pool_and_a_reexec_job_from_the_cli(
    cli: Cli,
    deployed: dict,
    anvil: AnvilNode,
    chain: Chain,
    tmp_path: Path,
    ipfs_api_url: str,
    tiny_gpt: tuple[str, str],
) -> None:
    """Five accounts join the `reexec` pool with `verifier join`; the tier is then quoted
    (k = 3 times the fee per verifier) and `job submit --verify reexec` escrows that fee."""
    market: Market = deployed["market"]
    assert market.reexec is not None
    model_id = _register_model(cli, deployed, anvil, tiny_gpt)
    keystore, address = _fresh_wallet(cli, tmp_path, chain, anvil, fund=10**18)
    common = [*deployed["base"], "--keystore", str(keystore), "--json"]
    env = {**deployed["env"], "INFERCHAIN_IPFS_API": ipfs_api_url}
    refused = cli("job", "submit", "--model", str(model_id), "--input", "Hi", "--verify",
                  "reexec", *common, env=env)  # fmt: skip
    assert refused.code == 1 and "verifier pool is too small: 0 members, 5 needed" in refused.error
    low = cli("verifier", "join", "1wei", *deployed["base"], env=_key_env(deployed, anvil.keys[4]))
    assert low.code == 1 and "bond too low: 1 wei" in low.error
    verifiers = anvil.keys[4:9]
    for key in verifiers:
        out = cli("verifier", "join", *deployed["base"], "--json", env=_key_env(deployed, key))
        assert out.code == 0, out.error
        assert out.json()["bond_added"] == 10**18  # the pool's minimum by default
    member = Account.from_key(verifiers[0]).address
    shown = cli("verifier", "show", member, *deployed["base"], "--json", env=deployed["env"])
    assert shown.code == 0, shown.error
    pool = shown.json()
    assert pool["pool_size"] == 5 and pool["params"]["committee_size"] == 3
    assert (pool["account"]["member"], pool["account"]["bond"]) == (True, 10**18)
    fee = 3 * pool["params"]["fee_per_verifier"]

    tiers = cli("model", "show", str(model_id), *deployed["base"], "--json", env=deployed["env"])
    reexec = tiers.json()["tiers"][2]
    assert (reexec["name"], reexec["available"], reexec["verify_fee"]) == ("reexec", True, fee)
    assert reexec["settles_after_s"] == pool["params"]["challenge_window"]
    out = cli("job", "submit", "--model", str(model_id), "--input", "Hi", "--verify", "reexec",
              *common, env=env)  # fmt: skip
    assert out.code == 0, out.error
    job_id = out.json()["job_id"]
    from inferchain.wallet import MarketClient

    job: Job = MarketClient(market).job(job_id).job
    assert job.requester == address
    assert (job.terms.verification, job.terms.verify_fee) == (REEXEC_MODE, fee)

    # Leaving is asked first, then refused until the delay passed; nothing to withdraw yet.
    key_env = _key_env(deployed, verifiers[0])
    asked = cli("verifier", "leave", *deployed["base"], "--json", env=key_env)
    assert asked.code == 0 and asked.json()["left"] is False, asked.error
    early = cli("verifier", "leave", *deployed["base"], env=key_env)
    assert early.code == 1 and "may leave the verifier pool at" in early.error
    empty = cli("verifier", "withdraw", *deployed["base"], env=key_env)
    assert empty.code == 1 and "nothing to withdraw" in empty.error
