"""OpenAI Chat Completions wire format (POST /v1/chat/completions), streaming and not.

Chunks follow the recordings: a role-only first chunk, reasoning deltas (DeepSeek's
`reasoning_content`, or `reasoning` as Groq/OpenRouter send it), content deltas, tool calls one
index after another with id/type/name only on their first chunk, `finish_reason` on its own chunk
with an empty delta, the usage chunk with `choices: []` when `stream_options.include_usage` is set,
and `data: [DONE]`.
"""

from __future__ import annotations

import time
from typing import Any

from tools.fakellm.script import Ctx, json_fragments, pieces, sse

STOP_ALIASES = {
    "end_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
FINGERPRINT = "fp_fakellm"


def finish_reason(ctx: Ctx) -> str:
    given = ctx.turn.get("stop_reason")
    if given:
        return STOP_ALIASES.get(given, given)
    return "tool_calls" if ctx.turn.get("tool_calls") else "stop"


def reasoning_field(ctx: Ctx) -> str:
    return "reasoning" if ctx.turn.get("reasoning_field") == "reasoning" else "reasoning_content"


def usage(ctx: Ctx) -> dict[str, Any]:
    """OpenAI usage: `prompt_tokens` counts the whole prompt, cached part included."""
    u = ctx.usage()
    prompt = u["input_tokens"] + u["cache_read_tokens"] + u["cache_creation_tokens"]
    prompt_details: dict[str, int] = {"cached_tokens": u["cache_read_tokens"], "audio_tokens": 0}
    if u["cache_creation_tokens"]:
        prompt_details["cache_write_tokens"] = u["cache_creation_tokens"]
    return {
        "prompt_tokens": prompt,
        "completion_tokens": u["output_tokens"],
        "total_tokens": prompt + u["output_tokens"],
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {
            "reasoning_tokens": u["reasoning_tokens"],
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_calls(ctx: Ctx) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id or ctx.new_id("call"),
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in ctx.tool_calls()
    ]


def response_body(ctx: Ctx) -> dict[str, Any]:
    """The non-streaming ChatCompletion object."""
    turn = ctx.turn
    msg: dict[str, Any] = {
        "role": "assistant",
        "content": turn.get("text") or None,
        "refusal": None,
        "annotations": [],
    }
    if turn.get("thinking"):
        msg[reasoning_field(ctx)] = turn["thinking"]
    calls = _tool_calls(ctx)
    if calls:
        msg["tool_calls"] = calls
    return {
        "id": ctx.new_id("chatcmpl", "-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": ctx.model,
        "choices": [
            {"index": 0, "message": msg, "logprobs": None, "finish_reason": finish_reason(ctx)}
        ],
        "usage": usage(ctx),
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }


def _deltas(ctx: Ctx) -> list[dict[str, Any]]:
    """The `delta` of every chunk before the finish chunk."""
    turn, size = ctx.turn, ctx.chunk_size
    text, thinking = turn.get("text") or "", turn.get("thinking") or ""
    first: dict[str, Any] = {"role": "assistant", "content": "" if text and not thinking else None}
    if text and not thinking:
        first["refusal"] = None
    deltas = [first]
    field = reasoning_field(ctx)
    deltas += [{"content": None, field: piece} for piece in pieces(thinking, size)]
    deltas += [{"content": piece} for piece in pieces(text, size)]
    for index, call in enumerate(_tool_calls(ctx)):
        fn = call["function"]
        head = {"index": index, "id": call["id"], "type": "function"}
        deltas.append({"tool_calls": [{**head, "function": {"name": fn["name"], "arguments": ""}}]})
        for frag in json_fragments(fn["arguments"], size):
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": frag}}]})
    return deltas


def stream_events(ctx: Ctx) -> list[bytes]:
    """The SSE events of a streamed reply, one bytes object per chunk, then `[DONE]`."""
    options = ctx.body.get("stream_options") or {}
    with_usage = bool(options.get("include_usage"))
    base = {
        "id": ctx.new_id("chatcmpl", "-"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": ctx.model,
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        data = {**base, "choices": [choice]}
        if with_usage:
            data["usage"] = None
        return sse(data)

    events = [chunk(delta) for delta in _deltas(ctx)]
    events.append(chunk({}, finish_reason(ctx)))
    if with_usage:
        events.append(sse({**base, "choices": [], "usage": usage(ctx)}))
    events.append(sse("[DONE]"))
    return events
