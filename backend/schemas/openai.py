"""OpenAI's completions, chat and embeddings schemas, as far as the market's models serve them.

Fields a client may send but no runtime honours are declared so that a value which would
change the answer is refused (``market.openai_input``) instead of silently dropped; the
fields that change nothing are listed in docs/gateway.md and ignored (``extra="ignore"``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Most choices one request may ask for: each is its own paid job.
MAX_CHOICES = 8


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = Field(False, description="a last chunk with the usage, no choices")


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")  # OpenAI clients send fields we do not use

    model: str = Field(max_length=64)
    max_tokens: int | None = Field(None, ge=1, le=4096)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    seed: int | None = Field(None, ge=0, lt=2**63)
    stop: str | list[str] | None = None
    n: int = Field(1, ge=1, le=MAX_CHOICES, description="choices; each one is a paid job")
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(None, max_length=256)
    # Declared to be refused unless left at their defaults (see market.openai_input):
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = Field(None, max_length=300)


class CompletionRequest(_Request):
    prompt: str | list[str] = Field(description="one prompt (a list of one is accepted)")
    logprobs: int | None = Field(None, ge=0, le=5)
    echo: bool | None = None
    best_of: int | None = Field(None, ge=1, le=20)
    suffix: str | None = Field(None, max_length=16384)


class ContentPart(BaseModel):
    """One part of a message's content; only ``text`` parts are read (others refused)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=64)
    text: str | None = Field(None, max_length=16384)


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant"]
    content: (
        Annotated[str, Field(max_length=16384)]
        | Annotated[list[ContentPart], Field(min_length=1, max_length=64)]
    ) = Field(description="text, or a list of text parts")
    name: str | None = Field(None, max_length=64)


class ChatCompletionRequest(_Request):
    messages: list[ChatMessage] = Field(min_length=1, max_length=64)
    max_completion_tokens: int | None = Field(None, ge=1, le=4096)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    tools: list[dict[str, Any]] | None = Field(None, max_length=128)
    tool_choice: str | dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = Field(None, max_length=128)
    function_call: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    modalities: list[str] | None = Field(None, max_length=4)
    audio: dict[str, Any] | None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class CompletionChoice(BaseModel):
    index: int = 0
    text: str
    logprobs: None = None
    finish_reason: Literal["stop", "length"]


class _Answer(BaseModel):
    """What a completion and a chat completion both answer; each names its object and choices."""

    id: str
    object: str
    created: int
    model: str
    choices: list[Any]
    usage: Usage


class Completion(_Answer):
    object: Literal["text_completion"] = "text_completion"
    choices: list[CompletionChoice]


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: AssistantMessage
    logprobs: None = None
    finish_reason: Literal["stop", "length"]


class ChatCompletion(_Answer):
    object: Literal["chat.completion"] = "chat.completion"
    choices: list[ChatChoice]


class OpenAIModel(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    #: Not OpenAI's: which routes serve the model. OpenAI clients keep unknown fields.
    task: Literal["text-generation", "embeddings"] = Field(
        description="text-generation: /v1/completions and /v1/chat/completions; "
        "embeddings: /v1/embeddings"
    )


class OpenAIModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[OpenAIModel]


#: The most inputs the schema lets through; the gateway's own cap is a setting
#: (``max_embedding_inputs``), refused with a message that names it.
MAX_EMBEDDING_INPUTS = 2048
_INPUTS = Field(max_length=MAX_EMBEDDING_INPUTS)


class EmbeddingRequest(BaseModel):
    """One paid job per input text. Token arrays parse, to be refused by name."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(max_length=64)
    input: (
        Annotated[str, Field(max_length=65536)]
        | Annotated[list[Annotated[str, Field(max_length=65536)]], _INPUTS]
        | Annotated[list[int], Field(max_length=65536)]
        | Annotated[list[list[int]], _INPUTS]
    ) = Field(description="a text or a list of texts; each is a paid job")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1, description="only the model's own")
    user: str | None = Field(None, max_length=256)


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str = Field(description="floats, or base64 of float32 little-endian")


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage
