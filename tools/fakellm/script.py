"""The script a FakeLLM plays: validated turns, plus the helpers every protocol renderer shares
(ids, fragmenting, token estimates, SSE framing).

A turn is a plain dict so scripts stay writable by hand as JSON. Unknown keys are rejected when
the script is loaded: a typo like "tool_call" would otherwise turn a tool-call test into a silent
empty-text test. Keys starting with "_" (and "comment") are free for notes.

Reply: text, thinking (+ signature, reasoning_field "reasoning" for Chat), redacted_thinking
(Anthropic only), tool_calls [{name, arguments: dict | verbatim str, id?}], usage {input_tokens
(uncached, as Anthropic counts), output_tokens, cache_read_tokens, cache_creation_tokens,
reasoning_tokens}, stop_reason (end_turn/stop, max_tokens/length, tool_use/tool_calls map across
protocols; Responses: a length reason or "incomplete" ends incomplete, "failed" fails),
incomplete, model (else the request's), chunk_size (default 16).
Other answers: status + body + headers (an HTTP error; body generated when absent), raw_sse
(file served verbatim, one chunk per event), raw_body + content_type.
Faults: cut_after N (events, or bytes of a JSON body), delay, chunk_delay, require_api_key.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TURN_KEYS = frozenset(
    {
        "text",
        "thinking",
        "signature",
        "redacted_thinking",
        "reasoning_field",
        "tool_calls",
        "usage",
        "stop_reason",
        "incomplete",
        "model",
        "status",
        "body",
        "headers",
        "raw_sse",
        "raw_body",
        "content_type",
        "cut_after",
        "delay",
        "chunk_delay",
        "chunk_size",
        "require_api_key",
        "comment",
    }
)
USAGE_KEYS = frozenset(
    {
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_creation_tokens",
        "reasoning_tokens",
    }
)
DEFAULT_CHUNK_SIZE = 16


def check_turns(turns: list[dict[str, Any]], base_dir: Path | None = None) -> list[dict[str, Any]]:
    """Validate the turns and return copies; relative `raw_sse` paths are resolved against
    `base_dir` (the script file's folder) so a script can sit next to its recordings."""
    if not isinstance(turns, list):
        raise ValueError("fakellm: the script must be a list of turns")
    checked = []
    for number, turn in enumerate(turns, 1):
        if not isinstance(turn, dict):
            raise ValueError(f"fakellm: turn {number} is not an object: {turn!r}")
        unknown = sorted(k for k in turn if k not in TURN_KEYS and not k.startswith("_"))
        if unknown:
            raise ValueError(f"fakellm: turn {number} has unknown keys {unknown}")
        usage = turn.get("usage") or {}
        bad_usage = sorted(set(usage) - USAGE_KEYS)
        if bad_usage:
            raise ValueError(f"fakellm: turn {number} has unknown usage keys {bad_usage}")
        for call in turn.get("tool_calls") or []:
            if not isinstance(call, dict) or "name" not in call:
                raise ValueError(f"fakellm: turn {number} has a tool call without a name")
        copy = dict(turn)
        if "raw_sse" in copy:
            path = Path(copy["raw_sse"])
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            if not path.is_file():
                raise ValueError(f"fakellm: turn {number}: raw_sse file {path} does not exist")
            copy["raw_sse"] = str(path)
        checked.append(copy)
    return checked


def load_script(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSON script: a list of turns or an object {"turns": [...]}."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("turns")
    return check_turns(data, base_dir=path.resolve().parent)


class IdMaker:
    """Deterministic ids per server (`toolu_fake000001`, ...), so test failures reproduce."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def __call__(self, prefix: str, sep: str = "_") -> str:
        with self._lock:
            count = self._counts.get(prefix, 0) + 1
            self._counts[prefix] = count
        return f"{prefix}{sep}fake{count:020d}"


@dataclass
class ToolCall:
    """One scripted tool call with its JSON arguments as the exact text to send."""

    name: str
    arguments: str
    parsed: Any
    id: str | None
    empty: bool


@dataclass
class Ctx:
    """What a renderer needs besides the turn: the request and the id source."""

    body: dict[str, Any]
    new_id: IdMaker
    turn: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return str(self.turn.get("model") or self.body.get("model") or "fakellm")

    @property
    def chunk_size(self) -> int:
        return max(1, int(self.turn.get("chunk_size") or DEFAULT_CHUNK_SIZE))

    def tool_calls(self, separators: tuple[str, str] = (", ", ": ")) -> list[ToolCall]:
        calls = []
        for call in self.turn.get("tool_calls") or []:
            args = call.get("arguments", {})
            if isinstance(args, str):
                text, empty = args, False
                try:
                    parsed = json.loads(args)
                except ValueError:
                    parsed = args
            else:
                text = json.dumps(args, separators=separators, ensure_ascii=False)
                parsed, empty = args, not args
            calls.append(ToolCall(call["name"], text, parsed, call.get("id"), empty))
        return calls

    def usage(self) -> dict[str, int]:
        """The turn's usage with defaults: input from the request size, output from the reply
        size. `input_tokens` excludes cache reads/writes (Anthropic's convention)."""
        given = self.turn.get("usage") or {}
        out_chars = len(self.turn.get("text") or "") + len(self.turn.get("thinking") or "")
        out_chars += sum(len(c.arguments) + len(c.name) for c in self.tool_calls())
        request_chars = len(json.dumps(self.body, ensure_ascii=False)) if self.body else 0
        return {
            "input_tokens": int(given.get("input_tokens", max(1, request_chars // 4))),
            "output_tokens": int(given.get("output_tokens", max(1, out_chars // 4))),
            "cache_read_tokens": int(given.get("cache_read_tokens", 0)),
            "cache_creation_tokens": int(given.get("cache_creation_tokens", 0)),
            "reasoning_tokens": int(
                given.get("reasoning_tokens", len(self.turn.get("thinking") or "") // 4)
            ),
        }


def pieces(text: str, size: int) -> list[str]:
    """`text` cut into consecutive pieces of `size` characters (none for an empty text)."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def json_fragments(text: str, size: int) -> list[str]:
    """Tool-argument JSON in several fragments, as the real APIs split it (inside keys and
    values): at least three when the text allows, never longer than `size`."""
    if not text:
        return []
    return pieces(text, max(1, min(size, -(-len(text) // 3))))


def sse(data: Any, event: str | None = None) -> bytes:
    """One SSE event; `data` is JSON-encoded unless it is already a string."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def split_sse(raw: bytes) -> list[bytes]:
    """A recorded SSE body cut after each blank line; the pieces join back to `raw` exactly."""
    events, start = [], 0
    while start < len(raw):
        ends = [i for i in (raw.find(b"\n\n", start), raw.find(b"\r\n\r\n", start)) if i >= 0]
        if not ends:
            events.append(raw[start:])
            break
        end = min(ends)
        end += 4 if raw.startswith(b"\r\n\r\n", end) else 2
        events.append(raw[start:end])
        start = end
    return events
