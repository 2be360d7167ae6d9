"""The model protocol every adapter implements, and the normalized stream it yields.

An adapter turns a `Request` into one streaming call of its wire protocol and yields
`StreamEvent`s: deltas for display while the response streams, then exactly one
`Completed` with the whole assistant `Msg` (content blocks, usage, stop_reason). A
failure is raised as `ModelError`, classified so the retry layer can decide.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from friday.messages import Msg


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments object


@dataclass(frozen=True, slots=True)
class Request:
    system: str
    messages: tuple[Msg, ...]
    tools: tuple[ToolSpec, ...] = ()
    max_tokens: int = 16000
    temperature: float | None = None
    # {"budget_tokens": N} turns on extended thinking / reasoning where supported.
    thinking: dict[str, Any] | None = None
    # A stable key that lets providers reuse their prompt cache (OpenAI prompt_cache_key).
    cache_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# -- the normalized stream ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextChunk:
    text: str


@dataclass(frozen=True, slots=True)
class ThinkingChunk:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallBegan:
    index: int
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolCallArgs:
    index: int
    fragment: str


@dataclass(frozen=True, slots=True)
class Completed:
    message: Msg


# Emitted by the retry/fallback wrapper, never by adapters.
@dataclass(frozen=True, slots=True)
class Retrying:
    model: str
    attempt: int
    max_attempts: int
    error: ModelError
    delay: float


@dataclass(frozen=True, slots=True)
class FellBack:
    from_model: str
    to_model: str
    error: ModelError


StreamEvent = (
    TextChunk | ThinkingChunk | ToolCallBegan | ToolCallArgs | Completed | Retrying | FellBack
)


# -- errors -----------------------------------------------------------------------------

RETRYABLE_KINDS = frozenset(
    {"rate_limit", "overloaded", "server", "connection", "timeout", "stream_cut", "conflict"}
)


class ModelError(Exception):
    """A classified model failure.

    kind: auth | permission | bad_request | not_found | rate_limit | overloaded |
    server | connection | timeout | stream_cut | conflict | empty_response | config |
    bad_response (a 200 that is not the protocol's stream: a wrong base URL, a proxy page)
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.model = model

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    def __str__(self) -> str:
        return self.message


_STATUS_KINDS = {
    401: "auth",
    403: "permission",
    404: "not_found",
    408: "timeout",
    409: "conflict",
    429: "rate_limit",
    529: "overloaded",
}


def kind_for_status(status: int) -> str:
    """The error kind of an HTTP status, as the APIs use them."""
    if status in _STATUS_KINDS:
        return _STATUS_KINDS[status]
    return "server" if status >= 500 else "bad_request"


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or HTTP date)."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            import email.utils
            import time

            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Model(Protocol):
    """A model behind one wire protocol. `name` is `provider:model`."""

    name: str
    provider: str
    model_id: str

    def stream(self, request: Request) -> AsyncIterator[StreamEvent]: ...


def parse_tool_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """Parse streamed tool-call arguments. An empty string is `{}` (Anthropic sends
    only `""` for a call without input). Returns (arguments, error)."""
    import json

    if raw.strip() == "":
        return {}, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, f"arguments are not valid JSON ({exc.msg} at char {exc.pos})"
    if not isinstance(value, dict):
        return {}, f"arguments must be a JSON object, got {type(value).__name__}"
    return value, None
