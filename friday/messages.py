"""Messages and their content blocks, provider-neutral.

A conversation is a list of `Msg`. Adapters in `friday.models` translate these to and
from each wire protocol; everything else in Friday sees only these types. Every type
has one JSON form (`to_dict` / `block_from_dict` / `Msg.from_dict`) that round-trips.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class TextBlock:
    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class ThinkingBlock:
    """Model reasoning. `signature` (Anthropic) or `provider_data` (OpenAI Responses
    reasoning item id / encrypted content) must be sent back verbatim on the next turn
    to the same provider; `provider` says which provider produced it."""

    thinking: str
    signature: str | None = None
    redacted_data: str | None = None
    provider: str | None = None
    provider_data: dict[str, Any] | None = None
    type: Literal["thinking"] = "thinking"


@dataclass(frozen=True, slots=True)
class ToolUseBlock:
    """A tool call. `input` is the parsed arguments; when the model sent arguments that
    are not a JSON object, `input` is empty, `raw_arguments` keeps what it sent and
    `input_error` says what is wrong."""

    id: str
    name: str
    input: dict[str, Any]
    raw_arguments: str | None = None
    input_error: str | None = None
    provider_data: dict[str, Any] | None = None
    type: Literal["tool_use"] = "tool_use"


@dataclass(frozen=True, slots=True)
class ImageBlock:
    media_type: str
    data: str  # base64
    type: Literal["image"] = "image"


@dataclass(frozen=True, slots=True)
class ToolResultBlock:
    tool_use_id: str
    content: str | tuple[TextBlock | ImageBlock, ...]
    is_error: bool = False
    type: Literal["tool_result"] = "tool_result"

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "\n".join(b.text for b in self.content if isinstance(b, TextBlock))


Block = TextBlock | ThinkingBlock | ToolUseBlock | ImageBlock | ToolResultBlock


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage of one response (or a sum of them). `input_tokens` counts only the
    uncached input; cache reads and writes are separate, as Anthropic reports them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_creation_tokens + other.cache_creation_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )

    @property
    def total_input_tokens(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_creation_tokens

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_creation_tokens": self.cache_creation_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Usage:
        return cls(**{k: int(d.get(k) or 0) for k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class Msg:
    role: Role
    content: tuple[Block, ...]
    # Set on assistant messages by the adapter that produced them.
    id: str | None = None
    model: str | None = None
    stop_reason: str | None = None
    usage: Usage | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def user(cls, text: str) -> Msg:
        return cls("user", (TextBlock(text),))

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))

    @property
    def thinking(self) -> str:
        return "".join(b.thinking for b in self.content if isinstance(b, ThinkingBlock))

    @property
    def tool_uses(self) -> list[ToolUseBlock]:
        return [b for b in self.content if isinstance(b, ToolUseBlock)]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"role": self.role, "content": [block_to_dict(b) for b in self.content]}
        for key in ("id", "model", "stop_reason"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        if self.usage is not None:
            d["usage"] = self.usage.to_dict()
        if self.meta:
            d["meta"] = self.meta
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Msg:
        usage = d.get("usage")
        return cls(
            role=d["role"],
            content=tuple(block_from_dict(b) for b in d["content"]),
            id=d.get("id"),
            model=d.get("model"),
            stop_reason=d.get("stop_reason"),
            usage=Usage.from_dict(usage) if usage is not None else None,
            meta=dict(d.get("meta") or {}),
        )


_BLOCK_TYPES: dict[str, type] = {
    "text": TextBlock,
    "thinking": ThinkingBlock,
    "tool_use": ToolUseBlock,
    "image": ImageBlock,
    "tool_result": ToolResultBlock,
}


def block_to_dict(block: Block) -> dict[str, Any]:
    d: dict[str, Any] = {"type": block.type}
    for name in block.__dataclass_fields__:
        if name == "type":
            continue
        value = getattr(block, name)
        if value is None:
            continue
        if name == "content" and not isinstance(value, str):
            value = [block_to_dict(b) for b in value]
        d[name] = value
    return d


def block_from_dict(d: dict[str, Any]) -> Block:
    try:
        cls = _BLOCK_TYPES[d["type"]]
    except KeyError:
        raise ValueError(f"unknown content block type: {d.get('type')!r}") from None
    kwargs = {k: v for k, v in d.items() if k != "type"}
    if cls is ToolResultBlock and not isinstance(kwargs.get("content"), str):
        kwargs["content"] = tuple(block_from_dict(b) for b in kwargs["content"])
    return cls(**kwargs)
