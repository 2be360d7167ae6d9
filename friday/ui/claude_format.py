"""Friday's events in the shapes of Claude Code's `--output-format json|stream-json`, so
scripts written for it work unchanged. Friday's own events become `system` messages
with a subtype."""

from __future__ import annotations

from typing import Any

from friday.events import (
    AgentInterrupted,
    ContextCompacted,
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


class StreamJsonMapper:
    """Maps one event to zero or more stream-json lines (dicts)."""

    def __init__(self, *, partial: bool = False) -> None:
        self.partial = partial
        self._block_index = 0

    def map(self, ev: Event) -> list[dict[str, Any]]:
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
            case ModelRequested() | TextDelta() | ThinkingDelta() | ToolOutputDelta():
                return self._partial(ev) if self.partial else []
        system = self._system(ev)
        return [system] if system else []

    def _system(self, ev: Event) -> dict[str, Any] | None:
        match ev:
            case ModelRetried():
                body = {
                    "subtype": "api_retry",
                    "model": ev.model,
                    "attempt": ev.attempt,
                    "max_retries": ev.max_attempts,
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
                        "pre_tokens": ev.tokens_before,
                        "post_tokens": ev.tokens_after,
                    },
                    "summary": ev.summary,
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
        match ev:
            case ModelRequested():
                self._block_index = 0
                return []
            case TextDelta(text=text):
                delta = {"type": "text_delta", "text": text}
            case ThinkingDelta(text=text):
                delta = {"type": "thinking_delta", "thinking": text}
            case ToolOutputDelta(call_id=call_id, text=text):
                return [
                    {
                        "type": "system",
                        "subtype": "tool_output",
                        "tool_use_id": call_id,
                        "text": text,
                        "session_id": sid,
                    }
                ]
            case _:
                return []
        event = {"type": "content_block_delta", "index": self._block_index, "delta": delta}
        return [
            {"type": "stream_event", "event": event, "parent_tool_use_id": None, "session_id": sid}
        ]
