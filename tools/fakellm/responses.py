"""OpenAI Responses wire format (POST /v1/responses), streaming and not.

Output items come in the order a reasoning model emits them: reasoning (with a summary part),
the message, then one function_call per tool call. The stream opens with response.created and
response.in_progress, walks each item (added, part/delta/done events, item done) and ends with
response.completed, or response.incomplete / response.failed; sequence numbers are contiguous.
"""

from __future__ import annotations

import time
from typing import Any

from tools.fakellm.script import Ctx, json_fragments, pieces, sse

INCOMPLETE_REASONS = {
    "incomplete": "max_output_tokens",
    "max_tokens": "max_output_tokens",
    "length": "max_output_tokens",
    "max_output_tokens": "max_output_tokens",
    "content_filter": "content_filter",
    "refusal": "content_filter",
}
COMPACT = (",", ":")


def final_status(ctx: Ctx) -> tuple[str, str | None]:
    """("completed" | "incomplete" | "failed", the incomplete reason)."""
    given = ctx.turn.get("stop_reason")
    if ctx.turn.get("incomplete"):
        return "incomplete", INCOMPLETE_REASONS.get(given or "", "max_output_tokens")
    if given in INCOMPLETE_REASONS:
        return "incomplete", INCOMPLETE_REASONS[given]
    if given == "failed":
        return "failed", None
    return "completed", None


def usage(ctx: Ctx) -> dict[str, Any]:
    """Responses usage: `input_tokens` counts the whole prompt, cached part included."""
    u = ctx.usage()
    prompt = u["input_tokens"] + u["cache_read_tokens"] + u["cache_creation_tokens"]
    details: dict[str, int] = {"cached_tokens": u["cache_read_tokens"]}
    if u["cache_creation_tokens"]:
        details["cache_write_tokens"] = u["cache_creation_tokens"]
    return {
        "input_tokens": prompt,
        "input_tokens_details": details,
        "output_tokens": u["output_tokens"],
        "output_tokens_details": {"reasoning_tokens": u["reasoning_tokens"]},
        "total_tokens": prompt + u["output_tokens"],
    }


def output_items(ctx: Ctx) -> list[dict[str, Any]]:
    """The finished output items of the reply."""
    turn, items = ctx.turn, []
    if turn.get("thinking"):
        item: dict[str, Any] = {
            "id": ctx.new_id("rs"),
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": turn["thinking"]}],
        }
        if "reasoning.encrypted_content" in (ctx.body.get("include") or []):
            item["encrypted_content"] = str(turn.get("signature") or "gAAAAfakellm")
        items.append(item)
    calls = ctx.tool_calls(separators=COMPACT)
    if turn.get("text") or not (items or calls):
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": turn.get("text")}
        part["text"] = part["text"] or ""
        items.append(
            {
                "id": ctx.new_id("msg"),
                "type": "message",
                "status": "completed",
                "content": [part],
                "role": "assistant",
            }
        )
    for call in calls:
        items.append(
            {
                "id": ctx.new_id("fc"),
                "type": "function_call",
                "status": "completed",
                "arguments": call.arguments,
                "call_id": call.id or ctx.new_id("call"),
                "name": call.name,
            }
        )
    return items


def response_object(ctx: Ctx, resp_id: str, created: int, **fields: Any) -> dict[str, Any]:
    """A Response with the request's settings echoed, as the real API does."""
    body = ctx.body
    reasoning = body.get("reasoning") or {}
    obj: dict[str, Any] = {
        "id": resp_id,
        "object": "response",
        "created_at": created,
        "status": "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": ctx.model,
        "output": [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "safety_identifier": None,
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_logprobs": 0,
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": body.get("metadata") or {},
    }
    obj.update(fields)
    return obj


def _finished(ctx: Ctx, resp_id: str, created: int, output: list[dict[str, Any]]) -> dict:
    status, reason = final_status(ctx)
    extra: dict[str, Any] = {"status": status, "output": output, "usage": usage(ctx)}
    if reason:
        extra["incomplete_details"] = {"reason": reason}
    if status == "failed":
        extra["error"] = {"code": "server_error", "message": "fakellm: scripted failure"}
    if status == "completed":
        extra["completed_at"] = created
    return response_object(ctx, resp_id, created, **extra)


def response_body(ctx: Ctx) -> dict[str, Any]:
    """The non-streaming Response object."""
    created = int(time.time())
    return _finished(ctx, ctx.new_id("resp"), created, output_items(ctx))


def _item_events(ctx: Ctx, index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of one output item, without sequence numbers."""
    size, kind = ctx.chunk_size, item["type"]
    where = {"item_id": item["id"], "output_index": index}
    if kind == "reasoning":
        text = item["summary"][0]["text"]
        at = {**where, "summary_index": 0}
        added = {**item, "summary": []}
        middle = [
            {
                "type": "response.reasoning_summary_part.added",
                **at,
                "part": {"type": "summary_text", "text": ""},
            }
        ]
        middle += [
            {"type": "response.reasoning_summary_text.delta", **at, "delta": piece}
            for piece in pieces(text, size)
        ]
        middle += [
            {"type": "response.reasoning_summary_text.done", **at, "text": text},
            {
                "type": "response.reasoning_summary_part.done",
                **at,
                "part": {"type": "summary_text", "text": text},
            },
        ]
    elif kind == "message":
        part = item["content"][0]
        at = {**where, "content_index": 0}
        added = {**item, "status": "in_progress", "content": []}
        middle = [{"type": "response.content_part.added", **at, "part": {**part, "text": ""}}]
        middle += [
            {"type": "response.output_text.delta", **at, "delta": piece, "logprobs": []}
            for piece in pieces(part["text"], size)
        ]
        middle += [
            {"type": "response.output_text.done", **at, "text": part["text"], "logprobs": []},
            {"type": "response.content_part.done", **at, "part": part},
        ]
    else:
        added = {**item, "status": "in_progress", "arguments": ""}
        middle = [
            {"type": "response.function_call_arguments.delta", **where, "delta": frag}
            for frag in json_fragments(item["arguments"], size)
        ]
        middle.append(
            {
                "type": "response.function_call_arguments.done",
                **where,
                "arguments": item["arguments"],
            }
        )
    return [
        {"type": "response.output_item.added", "output_index": index, "item": added},
        *middle,
        {"type": "response.output_item.done", "output_index": index, "item": item},
    ]


def stream_events(ctx: Ctx) -> list[bytes]:
    """The SSE events of a streamed reply, numbered from 0."""
    resp_id, created = ctx.new_id("resp"), int(time.time())
    items = output_items(ctx)
    opening = response_object(ctx, resp_id, created)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": opening},
        {"type": "response.in_progress", "response": opening},
    ]
    for index, item in enumerate(items):
        events += _item_events(ctx, index, item)
    final = _finished(ctx, resp_id, created, items)
    events.append({"type": f"response.{final['status']}", "response": final})
    out = []
    for number, event in enumerate(events):
        data = {"type": event["type"], "sequence_number": number, **event}
        out.append(sse(data, event["type"]))
    return out
