"""Friday's events in the shapes of Claude Code's `--output-format json|stream-json`, so
scripts written for it work unchanged. Friday's own events become `system` messages
with a subtype."""

from __future__ import annotations

from typing import Any

from friday.events import (
    AgentInterrupted,
    ContextCompacted,
    ContextMasked,
    ContextUsage,
    ErrorOccurred,
    Event,
    ModelFellBack,
    ModelRequested,
    ModelResponded,
    ModelRetried,
    PermissionRequested,
    PermissionResolved,
    SessionStarted,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolFinished,
    ToolOutputDelta,
)
from friday.messages import (
    Block,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)


def usage_dict(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "output_tokens": usage.output_tokens,
    }


def block_dict(block: Block) -> dict[str, Any] | None:  # noqa: PLR0911
    match block:
        case TextBlock(text=text):
            return {"type": "text", "text": text}
        case ThinkingBlock(redacted_data=str() as data):
            return {"type": "redacted_thinking", "data": data}
        case ThinkingBlock(thinking=thinking, signature=signature):
            d: dict[str, Any] = {"type": "thinking", "thinking": thinking}
            if signature:
                d["signature"] = signature
            return d
        case ToolUseBlock(id=id_, name=name, input=args):
            return {"type": "tool_use", "id": id_, "name": name, "input": args}
        case ToolResultBlock():
            return tool_result_dict(block)
        case ImageBlock(media_type=media_type, data=data):
            return {
                "type": "image",
                "source": {"type": "base64", "media_type": media_type, "data": data},
            }
    return None


def tool_result_dict(result: ToolResultBlock) -> dict[str, Any]:
    content: Any = (
        result.content
        if isinstance(result.content, str)
        else [block_dict(b) for b in result.content]
    )
    return {
        "type": "tool_result",
        "tool_use_id": result.tool_use_id,
        "content": content,
        "is_error": result.is_error,
    }


_PARTIAL = (
    ModelRequested,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolOutputDelta,
    ModelResponded,
    ModelRetried,
    ModelFellBack,
)


class StreamJsonMapper:
    """Maps one event to zero or more stream-json lines (dicts)."""

    def __init__(self, *, partial: bool = False) -> None:
        self.partial = partial
        self._blocks = PartialBlocks()

    def map(self, ev: Event) -> list[dict[str, Any]]:
        partial = self._partial(ev) if self.partial and isinstance(ev, _PARTIAL) else []
        return partial + self._complete(ev)

    def _complete(self, ev: Event) -> list[dict[str, Any]]:
        sid = ev.session_id
        match ev:
            case SessionStarted():
                return [
                    {
                        "type": "system",
                        "subtype": "init",
                        "session_id": sid,
                        "cwd": ev.cwd,
                        "model": ev.model,
                        "tools": ev.tools,
                        "permission_mode": ev.permission_mode,
                        "friday_version": ev.version,
                    }
                ]
            case ModelResponded(message=msg):
                content = [d for b in msg.content if (d := block_dict(b)) is not None]
                return [
                    {
                        "type": "assistant",
                        "message": {
                            "id": msg.id,
                            "type": "message",
                            "role": "assistant",
                            "model": ev.model,
                            "content": content,
                            "stop_reason": ev.stop_reason,
                            "usage": usage_dict(ev.usage),
                        },
                        "parent_tool_use_id": None,
                        "session_id": sid,
                    }
                ]
            case ToolFinished(result=result):
                return [
                    {
                        "type": "user",
                        "message": {"role": "user", "content": [tool_result_dict(result)]},
                        "parent_tool_use_id": None,
                        "session_id": sid,
                    }
                ]
            case (
                ModelRequested()
                | TextDelta()
                | ThinkingDelta()
                | ToolCallDelta()
                | ToolOutputDelta()
            ):
                return []
        system = self._system(ev)
        return [system] if system else []

    def _system(self, ev: Event) -> dict[str, Any] | None:
        match ev:
            case ModelRetried():
                body = {
                    "subtype": "api_retry",
                    "model": ev.model,
                    "attempt": ev.attempt,
                    "max_retries": ev.max_attempts - 1,
                    "retry_delay_ms": int(ev.delay * 1000),
                    "error_status": ev.status,
                    "error": ev.error,
                }
            case ModelFellBack():
                body = {
                    "subtype": "fallback",
                    "from": ev.from_model,
                    "to": ev.to_model,
                    "error": ev.error,
                }
            case AgentInterrupted():
                body = {
                    "subtype": "interrupt",
                    "reason": ev.reason,
                    "partial_text": ev.partial_text,
                    "cancelled_tool_calls": ev.cancelled_tool_calls,
                }
            case PermissionRequested():
                body = {
                    "subtype": "permission_request",
                    "request_id": ev.request_id,
                    "tool": ev.tool,
                    "input": ev.arguments,
                    "analysis": ev.analysis,
                }
            case PermissionResolved():
                body = {
                    "subtype": "permission_decision",
                    "request_id": ev.request_id,
                    "tool": ev.tool,
                    "decision": ev.decision,
                    "by": ev.by,
                    "message": ev.message,
                }
            case ContextCompacted():
                body = {
                    "subtype": "compact_boundary",
                    "compact_metadata": {
                        "trigger": ev.trigger,
                        "pre_tokens": ev.tokens_before,
                        "post_tokens": ev.tokens_after,
                        "method": ev.method,
                        "error": ev.error,
                    },
                    "summary": ev.summary,
                }
            case ContextMasked():
                body = {
                    "subtype": "context_masked",
                    "pre_tokens": ev.tokens_before,
                    "post_tokens": ev.tokens_after,
                    "paths": ev.paths,
                }
            case ContextUsage():
                body = {
                    "subtype": "context_usage",
                    "estimated_input_tokens": ev.estimated_input_tokens,
                    "input_tokens": ev.input_tokens,
                    "cached_tokens": ev.cached_tokens,
                    "cache_write_tokens": ev.cache_write_tokens,
                    "window": ev.window,
                    "window_known": ev.window_known,
                    "fill": ev.fill,
                }
            case ErrorOccurred():
                body = {
                    "subtype": "error",
                    "kind": ev.kind,
                    "message": ev.message,
                    "recoverable": ev.recoverable,
                    "status": ev.status,
                }
            case _:
                return None
        return {"type": "system", **body, "session_id": ev.session_id}

    def _partial(self, ev: Event) -> list[dict[str, Any]]:
        sid = ev.session_id
        if isinstance(ev, ToolOutputDelta):
            line = {"type": "system", "subtype": "tool_output", "tool_use_id": ev.call_id,
                    "text": ev.text, "session_id": sid}  # fmt: skip
            return [line]
        return [
            {"type": "stream_event", "event": e, "parent_tool_use_id": None, "session_id": sid}
            for e in self._blocks.feed(ev)
        ]


class PartialBlocks:
    """Deltas as Anthropic's raw stream events (message_start, content_block_start /
    delta / stop with real indexes, message_delta, message_stop), as Claude Code's
    --include-partial-messages prints them. A retried attempt's blocks are closed, and
    the next attempt starts a new message."""

    def __init__(self) -> None:
        self.model = ""
        self.index = -1
        self.open: tuple[Any, ...] | None = None
        self.in_message = False

    def feed(self, ev: Event) -> list[dict[str, Any]]:  # noqa: PLR0911
        match ev:
            case ModelRequested(model=model):
                self.model = model
                return self._close_message()
            case TextDelta(text=text):
                return self._delta(("text",), {"type": "text_delta", "text": text})
            case ThinkingDelta(text=text):
                return self._delta(("thinking",), {"type": "thinking_delta", "thinking": text})
            case ToolCallDelta(index=index, call_id=call_id, name=name, fragment=fragment):
                delta = {"type": "input_json_delta", "partial_json": fragment}
                return self._delta(("tool_use", index, call_id, name), delta if fragment else None)
            case ModelRetried() | ModelFellBack():
                return self._close_message()
            case ModelResponded(stop_reason=stop, usage=usage):
                out = self._close_block()
                if self.in_message:
                    out.append({"type": "message_delta", "delta": {"stop_reason": stop},
                                "usage": usage_dict(usage)})  # fmt: skip
                return out + self._close_message()
        return []

    def _delta(self, key: tuple[Any, ...], delta: dict[str, Any] | None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not self.in_message:
            self.in_message, self.index, self.open = True, -1, None
            message = {"type": "message", "role": "assistant", "model": self.model, "content": []}
            out.append({"type": "message_start", "message": message})
        if key != self.open:
            out += self._close_block()
            self.index += 1
            self.open = key
            out.append({"type": "content_block_start", "index": self.index,
                        "content_block": _start_block(key)})  # fmt: skip
        if delta is not None:
            out.append({"type": "content_block_delta", "index": self.index, "delta": delta})
        return out

    def _close_block(self) -> list[dict[str, Any]]:
        if self.open is None:
            return []
        self.open = None
        return [{"type": "content_block_stop", "index": self.index}]

    def _close_message(self) -> list[dict[str, Any]]:
        if not self.in_message:
            return []
        out = self._close_block()
        self.in_message = False
        return [*out, {"type": "message_stop"}]


def _start_block(key: tuple[Any, ...]) -> dict[str, Any]:
    if key[0] == "text":
        return {"type": "text", "text": ""}
    if key[0] == "thinking":
        return {"type": "thinking", "thinking": ""}
    return {"type": "tool_use", "id": key[2], "name": key[3], "input": {}}
