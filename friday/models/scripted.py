"""A scripted model: replays a list of turns in-process, for tests, demos and offline
checks of a setup (`friday --model scripted:FILE`).

A script is a JSON list of turns (or `{"turns": [...]}`), in the turn format that
`tools/fakellm` also speaks over HTTP (fakellm has more keys, for HTTP faults):

    {"text": "...", "thinking": "...", "tool_calls": [{"name": "x", "arguments": {...}}],
     "usage": {"input_tokens": 10, "output_tokens": 5}, "stop_reason": "end_turn",
     "delay": 0.1, "chunk_delay": 0.01, "chunk_size": 16,
     "status": 429, "message": "...", "retry_after": 1, "cut_after": 3}

`status` raises the `ModelError` a real adapter would raise for that HTTP status;
`cut_after` fails the stream as a dropped connection after that many chunks. Every
request is recorded in `requests` so tests can assert on what the model was sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from friday.messages import Msg, TextBlock, ThinkingBlock, ToolUseBlock, Usage
from friday.models.base import (
    Completed,
    ModelError,
    Request,
    StreamEvent,
    TextChunk,
    ThinkingChunk,
    ToolCallArgs,
    ToolCallBegan,
    kind_for_status,
    parse_tool_arguments,
)

TURN_KEYS = frozenset(
    {
        "text", "thinking", "signature", "tool_calls", "usage", "stop_reason", "model",
        "delay", "chunk_delay", "chunk_size", "status", "message", "retry_after", "cut_after",
    }
)  # fmt: skip


def check_turns(turns: list[dict[str, Any]], where: str) -> None:
    """Refuse a typo (`txt`) at load time rather than play an empty turn."""
    import difflib

    for number, turn in enumerate(turns, 1):
        for key in turn:
            if key not in TURN_KEYS:
                close = difflib.get_close_matches(key, sorted(TURN_KEYS), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ModelError("config", f"{where} turn {number}: unknown key {key!r}{hint}")


class ScriptedModel:
    provider = "scripted"

    def __init__(self, turns: list[dict[str, Any]], *, model_id: str = "script") -> None:
        self.turns = list(turns)
        self.model_id = model_id
        self.name = f"scripted:{model_id}"
        self.requests: list[Request] = []
        self._next = 0

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedModel:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ModelError("config", f"cannot read script {path}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelError("config", f"script {path} is not valid JSON: {exc}") from None
        turns = data.get("turns") if isinstance(data, dict) else data
        if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
            raise ModelError("config", f"script {path} must be a list of turn objects")
        check_turns(turns, f"script {path}")
        return cls(turns, model_id=str(path))

    async def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        self.requests.append(request)
        if self._next >= len(self.turns):
            raise ModelError(
                "bad_request",
                f"scripted model: script exhausted after {len(self.turns)} turns",
                model=self.name,
            )
        turn = self.turns[self._next]
        self._next += 1
        if turn.get("delay"):
            await asyncio.sleep(float(turn["delay"]))
        if "status" in turn:
            status = int(turn["status"])
            raise ModelError(
                kind_for_status(status),
                turn.get("message", f"scripted error {status}"),
                status=status,
                retry_after=turn.get("retry_after"),
                model=self.name,
            )
        chunks, message = _render(turn, self.name, self._next)
        cut_after = turn.get("cut_after")
        pause = float(turn.get("chunk_delay", 0))
        for i, chunk in enumerate(chunks):
            if cut_after is not None and i >= int(cut_after):
                raise ModelError("stream_cut", "scripted stream cut", model=self.name)
            if pause:
                await asyncio.sleep(pause)
            else:
                await asyncio.sleep(0)  # let interrupts in, as a network read would
            yield chunk
        yield Completed(message)


def _render(turn: dict[str, Any], name: str, number: int) -> tuple[list[StreamEvent], Msg]:
    size = max(1, int(turn.get("chunk_size", 16)))
    chunks: list[StreamEvent] = []
    blocks: list[Any] = []
    thinking = turn.get("thinking")
    if thinking:
        chunks += [ThinkingChunk(thinking[i : i + size]) for i in range(0, len(thinking), size)]
        blocks.append(ThinkingBlock(thinking, signature=turn.get("signature"), provider="scripted"))
    text = turn.get("text")
    if text:
        chunks += [TextChunk(text[i : i + size]) for i in range(0, len(text), size)]
        blocks.append(TextBlock(text))
    for index, call in enumerate(turn.get("tool_calls") or []):
        args = call.get("arguments", {})
        raw = args if isinstance(args, str) else json.dumps(args)
        call_id = call.get("id") or f"call_{number}_{index}"
        chunks.append(ToolCallBegan(index, call_id, call["name"]))
        chunks.append(ToolCallArgs(index, raw))
        parsed, error = parse_tool_arguments(raw)
        blocks.append(
            ToolUseBlock(
                call_id,
                call["name"],
                parsed,
                raw_arguments=raw if error else None,
                input_error=error,
            )
        )
    default_stop = "tool_use" if turn.get("tool_calls") else "end_turn"
    u = turn.get("usage") or {}
    usage = Usage(
        input_tokens=int(u.get("input_tokens", 10)),
        output_tokens=int(u.get("output_tokens", max(1, len(text or "") // 4))),
        cache_read_tokens=int(u.get("cache_read_tokens", 0)),
        cache_creation_tokens=int(u.get("cache_creation_tokens", 0)),
    )
    message = Msg(
        "assistant",
        tuple(blocks),
        id=f"msg_scripted_{number}",
        model=turn.get("model", name.split(":", 1)[1]),
        stop_reason=turn.get("stop_reason", default_stop),
        usage=usage,
    )
    return chunks, message
