"""``POST /v1/embeddings``: the official ``openai`` client (sync and async, float and base64)
and LangChain's ``OpenAIEmbeddings`` against a real worker serving a tiny random BERT
embeddings bundle built here; one paid job per text, vectors equal to the pinned results and
to the model run locally; the refusals, before any job is created.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fastapi.testclient import TestClient
from langchain_openai import OpenAIEmbeddings
from pydantic import SecretStr

from inferchain.bundle import Bundle
from inferchain.bundle.hf_import import import_hf
from inferchain.chain import Chain
from inferchain.gateway.errors import GatewayError
from inferchain.gateway.market.completion import embedding_list
from inferchain.gateway.market.submission import canonical_json
from inferchain.ipfs import Cid
from inferchain.market import ETH, ModelSpec
from inferchain.wallet import encode_input
from inferchain.worker.runtimes import load_runtime
from tests.conftest import AnvilNode
from tests.gateway.conftest import bearer
from tests.gateway.test_openai import openai_client
from tests.gateway.test_openai_end_to_end import _authorise, _serve, indexed
from tests.gateway.test_openai_errors import shape
from tests.worker.helpers import PRICE, PROVIDER, REQUESTER, ROYALTY_BPS, wait_until
from tests.worker.runtimes.hf_tiny import bert_config, save_model

DIMS = bert_config().hidden_size
MAX_INPUTS = 3
TEXTS = ["the quick brown fox", "hello world, how are you today?"]


@pytest.fixture
def bert(tmp_path: Path) -> Bundle:
    return import_hf(save_model(tmp_path / "src", "bert"), tmp_path / "bundle")


@pytest.fixture
def embed_stack(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path, bert: Bundle
) -> Iterator[tuple[TestClient, int]]:
    """A worker serving the tiny BERT as ``embeddings`` model, the gateway over it."""
    yield from _serve(
        chain, anvil, ipfs_api_url, tmp_path, bert.path, "embeddings",
        max_embedding_inputs=MAX_INPUTS,
    )  # fmt: skip


def _local(bert: Bundle, texts: list[str]) -> list[list[float]]:
    """The embeddings the runtime computes here, on CPU, without the market."""
    runtime = load_runtime(bert, "cpu")
    outputs = runtime.run([runtime.prepare({"text": text}) for text in texts])
    return [output.result["embedding"] for output in outputs]


def _float32(vector: list[float]) -> list[float]:
    """``vector`` as OpenAI's base64 carries it: float32."""
    return list(struct.unpack(f"<{len(vector)}f", struct.pack(f"<{len(vector)}f", *vector)))


def test_embeddings_sync_async_float_base64_and_langchain(
    embed_stack: tuple[TestClient, int], chain: Chain, anvil: AnvilNode, bert: Bundle
) -> None:
    client, model_id = embed_stack
    wallet = anvil.accounts[REQUESTER]
    market = client.app.state.services.contracts().market
    token = _authorise(client, chain, anvil, 6)
    oa = openai_client(client, token)
    name = f"inferchain-{model_id}"
    wait_until(lambda: name in [m.id for m in oa.models.list().data], 20, "the model indexed")
    listed = oa.models.retrieve(name)
    assert listed.model_extra is not None and listed.model_extra["task"] == "embeddings"

    def deposit() -> int:
        return int(chain.call(market.functions.balanceOf(wallet, ETH)))

    def pinned(job_id: int) -> dict[str, Any]:
        return indexed(client, token, f"/jobs/{job_id}/result")["result"]  # type: ignore[no-any-return]

    # Two texts, floats, the model's own dimensions: two jobs, two prices.
    before, first = deposit(), int(chain.call(market.functions.nextJobId()))
    raw = oa.embeddings.with_raw_response.create(
        model=name, input=TEXTS, encoding_format="float", dimensions=DIMS
    )
    assert raw.headers["Inferchain-Job-Ids"] == f"{first},{first + 1}"
    floats = raw.parse()
    assert floats.object == "list" and floats.model == name
    assert [(d.object, d.index) for d in floats.data] == [("embedding", 0), ("embedding", 1)]
    results = [pinned(first), pinned(first + 1)]
    assert [d.embedding for d in floats.data] == [r["embedding"] for r in results]
    assert [d.embedding for d in floats.data] == _local(bert, TEXTS)
    assert (
        len(floats.data[0].embedding) == DIMS
        and floats.data[0].embedding != floats.data[1].embedding
    )
    tokens = sum(r["prompt_tokens"] for r in results)
    assert floats.usage.prompt_tokens == floats.usage.total_tokens == tokens > 0
    assert deposit() == before - 2 * PRICE

    # One text, base64 (the client's default, decoded by it): float32 of the pinned vector.
    packed = oa.embeddings.create(model=name, input=TEXTS[0])
    assert packed.data[0].embedding == _float32(pinned(first + 2)["embedding"])
    assert packed.usage.prompt_tokens == results[0]["prompt_tokens"]
    on_wire = client.post(
        "/v1/embeddings",
        json={"model": name, "input": [TEXTS[1]], "encoding_format": "base64"},
        headers=bearer(token),
    ).json()
    assert base64.b64decode(on_wire["data"][0]["embedding"]) == struct.pack(
        f"<{DIMS}f", *pinned(first + 3)["embedding"]
    )
    assert deposit() == before - 4 * PRICE

    # The async client.
    async def embed() -> openai.types.CreateEmbeddingResponse:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            aoa = openai.AsyncOpenAI(
                base_url="http://testserver/v1", api_key=token, http_client=http, max_retries=0
            )
            return await aoa.embeddings.create(model=name, input=[TEXTS[1]])

    answer = asyncio.run(embed())
    assert answer.data[0].embedding == _float32(pinned(first + 4)["embedding"])
    assert deposit() == before - 5 * PRICE

    # LangChain's OpenAIEmbeddings, sending text (not tiktoken ids).
    lc = OpenAIEmbeddings(
        model=name, base_url="http://testserver/v1", api_key=SecretStr(token),
        http_client=client, max_retries=0, check_embedding_ctx_length=False,
    )  # fmt: skip
    assert lc.embed_query(TEXTS[0]) == _float32(pinned(first + 5)["embedding"])
    assert deposit() == before - 6 * PRICE


def test_embeddings_refusals_create_no_job(
    embed_stack: tuple[TestClient, int],
    chain: Chain,
    anvil: AnvilNode,
    tiny_gpt: tuple[Cid, bytes],
) -> None:
    client, model_id = embed_stack
    services = client.app.state.services
    c = services.contracts()
    # tiny-gpt registered twice: as text generation, and as "embeddings" (its bundle is not).
    provider = chain.sender(anvil.keys[PROVIDER])
    for task in ("text-generation", "embeddings"):
        spec = ModelSpec(tiny_gpt[0], tiny_gpt[1], task, PRICE, ROYALTY_BPS)
        provider.transact(c.models.functions.registerModel(spec.as_abi()))
    text_model, mislabelled = f"inferchain-{model_id + 1}", f"inferchain-{model_id + 2}"
    token = _authorise(client, chain, anvil, 2)  # two texts fit the cap: refused for length
    oa = openai_client(client, token)
    name = f"inferchain-{model_id}"
    wait_until(lambda: mislabelled in [m.id for m in oa.models.list().data], 20, "models indexed")
    tasks = {m.id: (m.model_extra or {})["task"] for m in oa.models.list().data}
    assert tasks == {name: "embeddings", text_model: "text-generation", mislabelled: "embeddings"}
    next_job = int(chain.call(c.market.functions.nextJobId()))

    def refused(status: int, **fields: Any) -> dict[str, Any]:
        with pytest.raises(openai.APIStatusError) as caught:
            oa.embeddings.create(**{"model": name, "input": "hello", **fields})
        assert caught.value.status_code == status, caught.value.body
        return shape(caught.value)

    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"input": ""}, "openai.empty_input", "input"),
        ({"input": []}, "openai.empty_input", "input"),
        ({"input": ["a", ""]}, "openai.empty_input", "input[1]"),
        ({"input": ["a"] * (MAX_INPUTS + 1)}, "openai.too_many_inputs", "input"),
        ({"input": [1, 2, 3]}, "openai.unsupported_param", "input"),
        ({"input": [[1, 2], [3]]}, "openai.unsupported_param", "input"),
        ({"dimensions": DIMS // 2}, "openai.unsupported_param", "dimensions"),
        ({"encoding_format": "int8"}, "request.invalid", "encoding_format"),
        ({"model": text_model}, "openai.wrong_model_task", "model"),
    ]
    for fields, code, param in cases:
        body = refused(400, **fields)
        assert (body["code"], body["param"]) == (code, param), (fields, body)
    assert f"at most {MAX_INPUTS}" in refused(400, input=["a"] * (MAX_INPUTS + 1))["message"]
    assert f"have {DIMS}" in refused(400, dimensions=1)["message"]
    assert "/v1/chat/completions" in refused(400, model=text_model)["message"]
    assert refused(404, model="inferchain-99")["code"] == "openai.model_not_found"
    assert refused(409, model=mislabelled)["code"] == "model.task_mismatch"
    # Every text is checked before the first is pinned: the good one is not pinned either.
    first = "a text that only this request sends"
    too_long = refused(400, input=[first, "word " * 3000])  # past the model's context
    assert too_long["code"] == "input.exceeds_model_limit"
    assert not services.ipfs.is_pinned(Cid.for_raw_block(canonical_json({"text": first})))

    # Chat on the embeddings model names the route that serves it.
    with pytest.raises(openai.BadRequestError) as chat:
        oa.chat.completions.create(model=name, messages=[{"role": "user", "content": "hi"}])
    body = shape(chat.value)
    assert (body["code"], body["param"]) == ("openai.wrong_model_task", "model")
    assert "/v1/embeddings" in body["message"]
    assert int(chain.call(c.market.functions.nextJobId())) == next_job


# --- units ---------------------------------------------------------------------------------


def _output(vector: list[Any], tokens: int = 3) -> bytes:
    result = {"embedding": vector, "dims": len(vector), "prompt_tokens": tokens}
    return json.dumps({"task": "embeddings", "result": result}).encode()


def test_embedding_list_formats_floats_and_base64() -> None:
    outputs = [_output([0.6, -0.8]), _output([1.0, 0.0], 5)]
    floats = embedding_list("inferchain-7", outputs, "float")
    assert [d.embedding for d in floats.data] == [[0.6, -0.8], [1.0, 0.0]]
    assert (floats.usage.prompt_tokens, floats.usage.total_tokens) == (8, 8)
    packed = embedding_list("inferchain-7", outputs, "base64").data[0].embedding
    assert isinstance(packed, str)
    assert base64.b64decode(packed) == struct.pack("<2f", 0.6, -0.8)


@pytest.mark.parametrize(
    "outputs",
    [
        [_output([])],
        [_output([0.1, "x"])],
        [_output([0.1, True])],
        [_output([1e39])],  # no float32 for it
        [_output([0.1]), _output([0.1, 0.2])],  # lengths differ
        [b'{"result": {"text": "hi"}}'],
        [b"not json"],
    ],
)
def test_embedding_list_refuses_what_is_not_an_embedding(outputs: list[bytes]) -> None:
    with pytest.raises(GatewayError) as caught:
        embedding_list("inferchain-7", outputs, "base64")
    assert caught.value.status == 502 and caught.value.code == "openai.bad_output"


def test_job_submit_text_for_an_embeddings_model() -> None:
    assert encode_input("embeddings", "hello") == b'{"text":"hello"}'
