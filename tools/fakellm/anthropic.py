"""Anthropic Messages wire format (POST /v1/messages), streaming and not.

The event sequence follows the recordings in ../shared/recorded-streams: message_start, one
content block after another (thinking, text, tool_use) each with start/deltas/stop, a ping after
the first block starts, then message_delta carrying the final usage and message_stop.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from tools.fakellm.script import Ctx, json_fragments, pieces, sse

STOP_ALIASES = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def stop_reason(ctx: Ctx) -> str:
    given = ctx.turn.get("stop_reason")
    if given:
        return STOP_ALIASES.get(given, given)
    return "tool_use" if ctx.turn.get("tool_calls") else "end_turn"


def signature(ctx: Ctx) -> str:
    """The turn's signature, or a stable fake one derived from the thinking text."""
    given = ctx.turn.get("signature")
    if given:
        return str(given)
    digest = hashlib.sha256((ctx.turn.get("thinking") or "").encode()).digest()
    return "EqQB" + base64.b64encode(digest * 3).decode()


def usage(ctx: Ctx, output_tokens: int | None = None) -> dict[str, Any]:
    u = ctx.usage()
    return {
        "input_tokens": u["input_tokens"],
        "cache_creation_input_tokens": u["cache_creation_tokens"],
        "cache_read_input_tokens": u["cache_read_tokens"],
        "output_tokens": u["output_tokens"] if output_tokens is None else output_tokens,
    }


def content_blocks(ctx: Ctx) -> list[tuple[dict[str, Any], str]]:
    """The complete content blocks of the reply, in the order the real API emits them, each
    with the partial JSON its stream carries (empty for all but non-empty tool inputs)."""
    turn, blocks = ctx.turn, []
    if turn.get("redacted_thinking"):
        blocks.append(({"type": "redacted_thinking", "data": turn["redacted_thinking"]}, ""))
    if turn.get("thinking"):
        block = {"type": "thinking", "thinking": turn["thinking"], "signature": signature(ctx)}
        blocks.append((block, ""))
    calls = ctx.tool_calls()
    if turn.get("text") or not (blocks or calls):
        blocks.append(({"type": "text", "text": turn.get("text") or ""}, ""))
    for call in calls:
        call_id = call.id or ctx.new_id("toolu")
        block = {"type": "tool_use", "id": call_id, "name": call.name, "input": call.parsed}
        blocks.append((block, "" if call.empty else call.arguments))
    return blocks


def message(ctx: Ctx, content: list[dict[str, Any]], msg_id: str) -> dict[str, Any]:
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": ctx.model,
        "content": content,
        "stop_reason": stop_reason(ctx),
        "stop_sequence": None,
        "usage": {**usage(ctx), "service_tier": "standard"},
    }


def response_body(ctx: Ctx) -> dict[str, Any]:
    """The non-streaming Message object."""
    return message(ctx, [block for block, _ in content_blocks(ctx)], ctx.new_id("msg"))


def _block_events(ctx: Ctx, index: int, block: dict[str, Any], args: str) -> list[bytes]:
    """content_block_start, the deltas, content_block_stop for one block."""
    size = ctx.chunk_size
    kind = block["type"]
    if kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        parts = pieces(block["thinking"], size)
        deltas = [{"type": "thinking_delta", "thinking": p} for p in parts]
        deltas.append({"type": "thinking_delta", "thinking": ""})
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    elif kind == "text":
        start = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in pieces(block["text"], size)]
    elif kind == "tool_use":
        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        frags = [""] + json_fragments(args, size)
        deltas = [{"type": "input_json_delta", "partial_json": f} for f in frags]
    else:
        start, deltas = block, []
    events = [
        sse(
            {"type": "content_block_start", "index": index, "content_block": start},
            "content_block_start",
        )
    ]
    for delta in deltas:
        data = {"type": "content_block_delta", "index": index, "delta": delta}
        events.append(sse(data, "content_block_delta"))
    events.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
    return events


def stream_events(ctx: Ctx) -> list[bytes]:
    """The SSE events of a streamed reply, one bytes object per event."""
    start = message(ctx, [], ctx.new_id("msg"))
    opening_usage = {**usage(ctx, output_tokens=1), "service_tier": "standard"}
    start.update(stop_reason=None, usage=opening_usage)
    events = [sse({"type": "message_start", "message": start}, "message_start")]
    for index, (block, args) in enumerate(content_blocks(ctx)):
        block_events = _block_events(ctx, index, block, args)
        if index == 0:
            block_events.insert(1, sse({"type": "ping"}, "ping"))
        events += block_events
    final = {"stop_reason": stop_reason(ctx), "stop_sequence": None}
    delta = {"type": "message_delta", "delta": final, "usage": usage(ctx)}
    events.append(sse(delta, "message_delta"))
    events.append(sse({"type": "message_stop"}, "message_stop"))
    return events
