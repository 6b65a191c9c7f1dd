"""Every parser of outside bytes refuses hostile JSON with its own domain error, naming the
source: no segfault (``json.loads`` under eth-account's recursion limit), no raw traceback.

Each site gets issue 11's 100,000-level document (which killed the process before), NaN
(which it accepted) and a lone surrogate (accepted too, failing later and far away).
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from inferchain.untrusted_json import UntrustedJsonError
from tests.hostile import DEEP

HOSTILE = {
    "deep": DEEP,
    "nan": b'{"crypto": NaN, "address": NaN, "chain_id": NaN, "result": NaN}',
    "surrogate": b'{"crypto": "\\udc00", "address": "\\udc00", "result": "\\udc00"}',
}


@pytest.fixture(params=sorted(HOSTILE))
def hostile(request: pytest.FixtureRequest) -> bytes:
    return HOSTILE[request.param]


def _raises(error: type[Exception], call: Callable[[], object], *names: str) -> Exception:
    with pytest.raises(error) as caught:
        call()
    assert not isinstance(caught.value, UntrustedJsonError) or error is UntrustedJsonError
    for name in names:
        assert name in str(caught.value)
    return caught.value


def test_keystore_hostile_file_raises_keystore_error(tmp_path: Path, hostile: bytes) -> None:
    from inferchain.wallet import KeystoreError
    from inferchain.wallet.keystore import decrypt_keystore, keystore_address

    path = tmp_path / "keystore.json"
    path.write_bytes(hostile)
    _raises(KeystoreError, lambda: keystore_address(path), str(path))
    _raises(KeystoreError, lambda: decrypt_keystore(path, "pw"), str(path))


def test_deployment_record_hostile_file_raises_deployment_missing(
    tmp_path: Path, hostile: bytes
) -> None:
    from inferchain.deploy.errors import DeploymentMissing
    from inferchain.deploy.records import read_record

    (tmp_path / "31337.json").write_bytes(hostile)
    _raises(DeploymentMissing, lambda: read_record(tmp_path, 31337), "31337.json")


def test_worker_market_addresses_hostile_file_raises_config_error(
    tmp_path: Path, hostile: bytes
) -> None:
    from inferchain.errors import ConfigError
    from inferchain.worker.settings import load_market_addresses

    path = tmp_path / "market.json"
    path.write_bytes(hostile)
    _raises(ConfigError, lambda: load_market_addresses(path), str(path))


def test_devstack_hostile_state_file_raises_devstack_error(tmp_path: Path, hostile: bytes) -> None:
    from inferchain.devstack import DevStackError
    from inferchain.devstack.stack import DevStack
    from inferchain.settings import DevStackSettings

    stack = DevStack(DevStackSettings(state_dir=tmp_path))
    stack.state_file.write_bytes(hostile)
    _raises(DevStackError, stack.status, "stack.json")


def test_bundle_manifest_hostile_bytes_raise_manifest_error(hostile: bytes) -> None:
    from inferchain.bundle import ManifestError
    from inferchain.bundle.manifest import parse_manifest

    _raises(ManifestError, lambda: parse_manifest(hostile), "manifest.json")


def test_bundle_config_hostile_file_raises_manifest_error(tmp_path: Path, hostile: bytes) -> None:
    from inferchain.bundle import ManifestError, load_bundle
    from inferchain.bundle.demos import demo_bundle_path

    root = shutil.copytree(demo_bundle_path("sentiment-bow"), tmp_path / "bundle")
    bundle = load_bundle(root)
    (root / bundle.manifest.config).write_bytes(hostile)  # changed on disk after loading
    _raises(ManifestError, bundle.config, bundle.manifest.config)


def test_safetensors_hostile_header_raises_tensor_mismatch(tmp_path: Path, hostile: bytes) -> None:
    from inferchain.bundle import TensorMismatch
    from inferchain.bundle._safetensors import read_header

    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(hostile)) + hostile + b"\0" * 16)
    _raises(TensorMismatch, lambda: read_header(path), "model.safetensors")


def test_bundle_cache_hostile_index_starts_empty(tmp_path: Path, hostile: bytes) -> None:
    from inferchain.bundle import BundleCache

    (tmp_path / "index.json").write_bytes(hostile)
    (tmp_path / "bafyorphan").mkdir()
    cache = BundleCache(tmp_path, max_bytes=1 << 20)
    assert cache.entries() == [] and not (tmp_path / "bafyorphan").exists()


@pytest.mark.parametrize("endpoint", ["add", "pin/ls"])
def test_ipfs_hostile_reply_raises_rpc_error(hostile: bytes, endpoint: str) -> None:
    from inferchain.ipfs import IpfsRpcError
    from inferchain.ipfs._rpc import added, json_reply, pinned_cids

    _raises(IpfsRpcError, lambda: json_reply(endpoint, hostile), endpoint)
    _raises(IpfsRpcError, lambda: added(endpoint, hostile), endpoint)
    _raises(IpfsRpcError, lambda: pinned_cids(endpoint, hostile), endpoint)


def test_ipfs_hostile_error_reply_raises_rpc_error(hostile: bytes) -> None:
    from inferchain.ipfs import IpfsRpcError
    from inferchain.ipfs._rpc import check_reply

    error = _raises(IpfsRpcError, lambda: check_reply("cat", 500, hostile), "HTTP 500")
    assert isinstance(error, IpfsRpcError) and error.status == 500


def test_session_token_hostile_payload_raises_auth_error(hostile: bytes) -> None:
    from inferchain.gateway.auth.tokens import TokenSigner, _b64
    from inferchain.gateway.errors import AuthError

    signer = TokenSigner("s" * 32)
    body = _b64(hostile)  # correctly signed: only the payload is hostile
    token = f"{body}.{_b64(signer._mac(body))}"
    error = _raises(AuthError, lambda: signer.verify(token, now=0))
    assert isinstance(error, AuthError) and error.code == "auth.invalid_token"


def test_completion_hostile_worker_output_raises_bad_output(hostile: bytes) -> None:
    from inferchain.gateway.errors import GatewayError
    from inferchain.gateway.market.completion import parse_output

    error = _raises(GatewayError, lambda: parse_output(hostile))
    assert isinstance(error, GatewayError) and error.code == "openai.bad_output"


def test_outputs_agree_hostile_document_agrees_with_nothing(hostile: bytes) -> None:
    from inferchain.worker.runtimes import outputs_agree

    assert outputs_agree(hostile, hostile) is False


def test_job_input_hostile_bytes_raise_invalid_input(hostile: bytes) -> None:
    from inferchain.bundle import InvalidInput
    from inferchain.worker.runtimes._inputs import parse_object

    error = _raises(InvalidInput, lambda: parse_object(hostile, max_bytes=4 << 20), "input")
    assert isinstance(error, InvalidInput) and error.reason == "undecodable"


def test_cli_input_hostile_text_is_not_taken_as_an_object(hostile: bytes) -> None:
    from inferchain.wallet import encode_input
    from inferchain.wallet.errors import JobStateError

    text = hostile.decode()
    _raises(JobStateError, lambda: encode_input("image-classification", text))
    assert encode_input("text-generation", text).startswith(b'{"prompt":')


@pytest.mark.parametrize(
    ("value", "code"),
    [({"text": "\ud800"}, "input.surrogate"), ({"x": float("nan")}, "input.non_finite")],
)
def test_gateway_canonical_json_unencodable_input_raises_bad_request(
    value: object, code: str
) -> None:
    from inferchain.gateway.errors import BadRequest
    from inferchain.gateway.market.submission import canonical_json

    error = _raises(BadRequest, lambda: canonical_json(value))
    assert isinstance(error, BadRequest) and error.code == code and error.status == 400


def test_cli_input_text_utf8_cannot_carry_is_refused_by_name() -> None:
    from inferchain.wallet import encode_input
    from inferchain.wallet.errors import JobStateError

    argv_text = b"caf\xe9 prompt".decode("utf-8", "surrogateescape")  # how Python reads argv
    for task in ("text-generation", "image-classification"):
        _raises(JobStateError, lambda t=task: encode_input(t, argv_text), "not UTF-8")
