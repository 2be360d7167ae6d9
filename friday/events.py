"""The typed event stream: the core's one output.

Every event is a frozen dataclass with a dotted `type` tag, stamped with `seq`, `ts` and
`session_id` by the emitter. `to_json` / `from_json` give the one JSON encoding
(versioned, `"v": 1`) that the journal, `--output-format stream-json` and tests share.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from friday.messages import Msg, ToolResultBlock, Usage, block_from_dict, block_to_dict

SCHEMA_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class Event:
    type: ClassVar[str] = "event"
    seq: int = 0
    ts: float = 0.0
    session_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"v": SCHEMA_VERSION, "type": self.type}
        for f in fields(self):
            d[f.name] = _encode(getattr(self, f.name))
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


# -- session and turns ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SessionStarted(Event):
    type: ClassVar[str] = "session.started"
    cwd: str
    model: str
    version: str
    permission_mode: str
    tools: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class TurnStarted(Event):
    type: ClassVar[str] = "turn.started"
    message: Msg


@dataclass(frozen=True, kw_only=True)
class TurnFinished(Event):
    """The end of one `Agent.run`. `stop_reason` is one of: end_turn, max_turns,
    max_budget, interrupted, error."""

    type: ClassVar[str] = "turn.finished"
    stop_reason: str
    result: str
    usage: Usage
    cost_usd: float | None
    turns: int
    duration_ms: int = 0
    error: str | None = None
    error_kind: str | None = None


# -- model ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ModelRequested(Event):
    type: ClassVar[str] = "model.request"
    model: str
    message_count: int
    estimated_input_tokens: int


@dataclass(frozen=True, kw_only=True)
class TextDelta(Event):
    type: ClassVar[str] = "model.text_delta"
    text: str


@dataclass(frozen=True, kw_only=True)
class ThinkingDelta(Event):
    type: ClassVar[str] = "model.thinking_delta"
    text: str


@dataclass(frozen=True, kw_only=True)
class ToolCallDelta(Event):
    """A piece of a tool call's arguments as the model streams them (display only; the
    complete call is in model.response). `index` counts the response's tool calls."""

    type: ClassVar[str] = "model.tool_call_delta"
    index: int
    call_id: str
    name: str
    fragment: str


@dataclass(frozen=True, kw_only=True)
class ModelResponded(Event):
    type: ClassVar[str] = "model.response"
    message: Msg
    usage: Usage
    stop_reason: str | None
    model: str
    cost_usd: float | None = None


@dataclass(frozen=True, kw_only=True)
class ModelRetried(Event):
    """A failed attempt that will be tried again after `delay` seconds. Deltas shown
    since the last model.request belong to the failed attempt and must be discarded."""

    type: ClassVar[str] = "model.retry"
    model: str
    attempt: int
    max_attempts: int
    error: str
    status: int | None
    delay: float


@dataclass(frozen=True, kw_only=True)
class ModelFellBack(Event):
    type: ClassVar[str] = "model.fallback"
    from_model: str
    to_model: str
    error: str


# -- tools ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ToolStarted(Event):
    type: ClassVar[str] = "tool.started"
    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ToolOutputDelta(Event):
    type: ClassVar[str] = "tool.output_delta"
    call_id: str
    text: str


@dataclass(frozen=True, kw_only=True)
class ToolFinished(Event):
    type: ClassVar[str] = "tool.finished"
    call_id: str
    name: str
    result: ToolResultBlock
    truncated: bool = False
    bytes: int = 0
    duration_ms: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


# -- permissions, context, interrupts, errors --------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PermissionRequested(Event):
    type: ClassVar[str] = "permission.requested"
    request_id: str
    tool: str
    arguments: dict[str, Any]
    analysis: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class PermissionResolved(Event):
    type: ClassVar[str] = "permission.resolved"
    request_id: str
    tool: str
    decision: str  # allow | deny
    by: str  # user | policy | hook | interrupt
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class ContextUsage(Event):
    """After each response: the estimate made before the request beside the provider's
    count (the truth; None when it reported none), the cached part, and how full the
    model's window is (`fill`, 0..1, from the actual count when known)."""

    type: ClassVar[str] = "context.usage"
    estimated_input_tokens: int
    input_tokens: int | None
    cached_tokens: int
    cache_write_tokens: int
    window: int
    window_known: bool
    fill: float
    counter: str


@dataclass(frozen=True, kw_only=True)
class ContextMasked(Event):
    """Old tool outputs replaced by placeholders that name the file holding each one."""

    type: ClassVar[str] = "context.masked"
    tokens_before: int
    tokens_after: int
    call_ids: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ContextCompacted(Event):
    """The history was rewritten: `method` "summary" (the summary message, then the
    last `kept_messages` messages verbatim) or "masking" (the summary failed or would not
    shrink the context: `error` says why, and old outputs were masked instead).
    `trigger` is "auto" (the threshold) or "manual" (`Agent.compact`)."""

    type: ClassVar[str] = "context.compacted"
    tokens_before: int
    tokens_after: int
    summary: dict[str, Any]
    method: str = "summary"
    trigger: str = "auto"
    focus: str | None = None
    error: str | None = None
    summary_message: Msg | None = None
    kept_messages: int = 0
    masked_call_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class AgentInterrupted(Event):
    type: ClassVar[str] = "agent.interrupted"
    reason: str
    partial_text: str
    cancelled_tool_calls: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ErrorOccurred(Event):
    """`kind` is one of: auth, bad_request, not_found, permission, rate_limit,
    overloaded, server, connection, timeout, stream_cut, empty_response, budget,
    internal."""

    type: ClassVar[str] = "error"
    kind: str
    message: str
    recoverable: bool = False
    status: int | None = None


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        SessionStarted,
        TurnStarted,
        TurnFinished,
        ModelRequested,
        TextDelta,
        ThinkingDelta,
        ToolCallDelta,
        ModelResponded,
        ModelRetried,
        ModelFellBack,
        ToolStarted,
        ToolOutputDelta,
        ToolFinished,
        PermissionRequested,
        PermissionResolved,
        ContextUsage,
        ContextMasked,
        ContextCompacted,
        AgentInterrupted,
        ErrorOccurred,
    )
}


def event_from_dict(d: dict[str, Any]) -> Event:
    if d.get("v") != SCHEMA_VERSION:
        raise ValueError(f"unsupported event schema version: {d.get('v')!r}")
    try:
        cls = EVENT_TYPES[d["type"]]
    except KeyError:
        raise ValueError(f"unknown event type: {d.get('type')!r}") from None
    hints = typing.get_type_hints(cls)
    kwargs = {f.name: _decode(hints[f.name], d[f.name]) for f in fields(cls) if f.name in d}
    return cls(**kwargs)


def event_from_json(line: str) -> Event:
    return event_from_dict(json.loads(line))


def _encode(value: Any) -> Any:
    if isinstance(value, Msg | Usage):
        return value.to_dict()
    if isinstance(value, ToolResultBlock):
        return block_to_dict(value)
    return value


def _decode(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(hint, types.UnionType):  # `X | None`
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if hint is Msg:
        return Msg.from_dict(value)
    if hint is Usage:
        return Usage.from_dict(value)
    if hint is ToolResultBlock:
        return block_from_dict(value)
    return value
