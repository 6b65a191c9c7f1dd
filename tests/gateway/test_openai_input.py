"""OpenAI requests as runtime inputs (``market.openai_input``): roles, content parts, ``n``,
``top_p`` per runtime, and every parameter refused rather than silently ignored."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from inferchain.gateway.errors import BadRequest
from inferchain.gateway.market.openai_input import HF_RUNTIME, job_inputs
from inferchain.gateway.schemas.openai import MAX_CHOICES, ChatCompletionRequest, CompletionRequest

GPT = "inferchain-gpt"
AUDIO = {"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}}


def text_part(text: str) -> dict[str, str]:
    return {"type": "text", "text": text}


def chat(**fields: Any) -> ChatCompletionRequest:
    fields.setdefault("messages", [{"role": "user", "content": "Hi"}])
    return ChatCompletionRequest(model="inferchain-1", **fields)


def refusal(request: Any, runtime: str = GPT) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        job_inputs(request, runtime)
    assert caught.value.status == 400
    return caught.value


def test_developer_role_and_text_parts_make_the_transcript() -> None:
    request = chat(
        messages=[
            {"role": "developer", "content": [text_part("Be brief.")]},
            {"role": "user", "content": [text_part("Hi "), text_part("there")]},
        ]
    )
    (document,) = job_inputs(request, GPT)
    assert document["prompt"] == "System: Be brief.\nUser: Hi there\nAssistant:"
    assert document["stop"] == ["\nUser:", "\nSystem:"]


def test_chat_on_the_hf_runtime_sends_messages_for_its_chat_template() -> None:
    request = chat(
        messages=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "More"},
        ],
        top_p=0.9,
        temperature=0.7,
        max_completion_tokens=5,
        stop="!",
    )
    assert job_inputs(request, HF_RUNTIME) == [
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": "More"},
            ],
            "max_new_tokens": 5,
            "stop": ["!"],
            "temperature": 0.7,
            "top_p": 0.9,
        }
    ]


@pytest.mark.parametrize(
    ("part", "param"),
    [
        ({"type": "image_url", "image_url": {"url": "https://x/y.png"}}, "messages[0].content[1]"),
        (AUDIO, "messages[0].content[1]"),
        ({"type": "text"}, "messages[0].content[1]"),
    ],
)
def test_non_text_content_parts_are_refused_naming_the_part(
    part: dict[str, Any], param: str
) -> None:
    request = chat(messages=[{"role": "user", "content": [text_part("x"), part]}])
    for runtime in (GPT, HF_RUNTIME):
        refused = refusal(request, runtime)
        assert refused.code == "openai.unsupported_content" and refused.param == param


def test_top_p_goes_to_the_hf_runtime_and_is_refused_by_the_gpt_runtime() -> None:
    request = CompletionRequest(model="inferchain-1", prompt="Hi", top_p=0.5, temperature=1)
    assert job_inputs(request, HF_RUNTIME)[0]["top_p"] == 0.5
    refused = refusal(request, GPT)
    assert refused.param == "top_p" and GPT in refused.message
    # top_p=1 changes nothing: every runtime takes it, and the gpt one is not sent it.
    plain = CompletionRequest(model="inferchain-1", prompt="Hi", top_p=1)
    assert "top_p" not in job_inputs(plain, GPT)[0]
    assert refusal(CompletionRequest(model="m", prompt="x", top_p=0), HF_RUNTIME).param == "top_p"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"frequency_penalty": -1}, "frequency_penalty"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"function_call": {"name": "f"}}, "function_call"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"audio": {"voice": "alloy", "format": "wav"}}, "audio"),
        ({"stream": True, "n": 2, "temperature": 1.0}, "n"),  # one choice per stream
    ],
)
def test_chat_parameters_no_runtime_honours_are_refused(fields: dict[str, Any], param: str) -> None:
    refused = refusal(chat(**fields), HF_RUNTIME)
    assert refused.param == param and param in refused.message


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"logprobs": 0}, "logprobs"),
        ({"echo": True}, "echo"),
        ({"best_of": 2}, "best_of"),
        ({"suffix": "end"}, "suffix"),
        ({"prompt": ["a", "b"]}, "prompt"),
    ],
)
def test_completion_parameters_no_runtime_honours_are_refused(
    fields: dict[str, Any], param: str
) -> None:
    request = CompletionRequest(model="inferchain-1", **{"prompt": "x", **fields})
    assert refusal(request).param == param


def test_parameters_left_at_values_that_change_nothing_are_accepted() -> None:
    request = chat(
        logprobs=False, top_logprobs=0, presence_penalty=0, frequency_penalty=0, logit_bias={},
        tools=[], tool_choice="none", response_format={"type": "text"}, modalities=["text"],
        user="u", top_p=1,
    )  # fmt: skip
    assert job_inputs(request, GPT)[0]["prompt"] == "User: Hi\nAssistant:"
    completion = CompletionRequest(model="m", prompt="x", echo=False, best_of=1, suffix="")
    assert job_inputs(completion, GPT) == [{"prompt": "x", "max_new_tokens": 16}]


def test_n_choices_are_n_documents_with_distinct_seeds() -> None:
    seeded = job_inputs(chat(n=3, temperature=0.8, seed=2**63 - 2), GPT)
    assert [d["seed"] for d in seeded] == [2**63 - 2, 2**63 - 1, 0]
    assert all({**d, "seed": 0} == {**seeded[0], "seed": 0} for d in seeded)
    drawn = iter([11, 12])
    unseeded = job_inputs(chat(n=2, temperature=0.8), GPT, draw_seed=lambda _: next(drawn))
    assert [d["seed"] for d in unseeded] == [11, 12]


def test_n_at_greedy_decoding_is_refused_rather_than_paid_n_times() -> None:
    for temperature in (None, 0):
        refused = refusal(chat(n=2, temperature=temperature))
        assert refused.code == "openai.n_needs_sampling" and refused.param == "n"
    assert len(job_inputs(chat(n=1), GPT)) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"n": 0},
        {"n": MAX_CHOICES + 1},
        {"messages": [{"role": "tool", "content": "x"}]},
        {"messages": [{"role": "user", "content": []}]},
        {"messages": []},
        {"top_p": 1.5},
    ],
)
def test_schema_refuses_out_of_range_requests(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        chat(**fields)
