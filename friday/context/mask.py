"""Observation masking, the cheap tier: old tool outputs become one-line placeholders that
name the file holding the full text (read_file can open it) and keep the error lines the
output showed, so the model still knows what failed. The call itself (command, path,
arguments) stays in the history untouched.

Masking rewrites history, which costs the provider's prompt cache from that point on, so
it is done in batches: everything old enough at once, then nothing until the context has
grown again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from friday.messages import Msg, ToolResultBlock, ToolUseBlock

MASK_PREFIX = "[Output masked"
MIN_MASK_CHARS = 600  # shorter outputs cost little and say a lot: they stay
MAX_KEPT_LINES = 4
_ERROR_LINE = re.compile(
    r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b.*"
    r"|E {2,}\S.*|FAILED \S.*|FAIL: .*|ERROR: .*|(?:error|fatal|Error):\s.*)$"
)


@dataclass(frozen=True, slots=True)
class Target:
    """One result to mask: where it is and the call that produced it."""

    msg: int
    block: int
    result: ToolResultBlock
    call: ToolUseBlock | None


def is_masked(result: ToolResultBlock) -> bool:
    return isinstance(result.content, str) and result.content.startswith(MASK_PREFIX)


def calls_by_id(history: Sequence[Msg]) -> dict[str, ToolUseBlock]:
    return {b.id: b for m in history if m.role == "assistant" for b in m.tool_uses}


def targets(history: Sequence[Msg], upto: int) -> list[Target]:
    """The results in `history[:upto]` worth masking, oldest first."""
    calls = calls_by_id(history[:upto])
    found = []
    for i, msg in enumerate(history[:upto]):
        if msg.role != "user":
            continue
        for j, block in enumerate(msg.content):
            if not isinstance(block, ToolResultBlock) or is_masked(block):
                continue
            if len(block.text) < MIN_MASK_CHARS:
                continue
            found.append(Target(i, j, block, calls.get(block.tool_use_id)))
    return found


def key_argument(call: ToolUseBlock | None) -> str:
    """The argument that says what a call did: the command, the path, the pattern."""
    if call is None:
        return ""
    for key in ("command", "path", "pattern", "url", "query"):
        value = call.input.get(key)
        if isinstance(value, str) and value:
            return _one_line(value, 200)
    return _one_line(json.dumps(call.input, ensure_ascii=False, sort_keys=True), 200)


def error_lines(text: str, limit: int = MAX_KEPT_LINES) -> list[str]:
    """The lines of an output that say what went wrong, first ones first, at most `limit`
    (the first and the last when there are more), each cut at 300 characters."""
    lines = [line.rstrip() for line in text.splitlines() if _ERROR_LINE.match(line.strip())]
    lines = [line.strip()[:300] for line in dict.fromkeys(lines)]
    if len(lines) > limit:
        lines = lines[: limit - 1] + lines[-1:]
    return lines


def placeholder(target: Target, path: str | None) -> str:
    text = target.result.text
    what = f"{target.call.name} {key_argument(target.call)}".strip() if target.call else "a tool"
    where = (
        f"the full text is in {path} (read_file can open it)"
        if path
        else "the full text could not be saved"
    )
    head = f"{MASK_PREFIX}: {len(text):,} characters from {what}; {where}.]"
    shown = error_lines(text)
    if shown:
        head += "\nIt showed:\n" + "\n".join(shown)
    trailer = trailer_lines(text)
    return head + "\n" + "\n".join(trailer) if trailer else head


def trailer_lines(text: str) -> list[str]:
    """The status lines a tool ends its output with (the shell's `[exit code 1 · 0.4 s]`,
    `[timed out ...]`, the working directory): kept, so a masked failure still reads
    as one."""
    tail = text.rstrip("\n").rsplit("\n", 3)[-3:]
    return [
        line for line in tail if line.startswith("[") and line.endswith("]") and len(line) < 300
    ]


def apply(history: Sequence[Msg], replacements: dict[tuple[int, int], str]) -> list[Msg]:
    """A new history with the given results' text replaced; other messages are the same
    objects, so their cached token counts stay valid."""
    out = list(history)
    by_msg: dict[int, dict[int, str]] = {}
    for (i, j), text in replacements.items():
        by_msg.setdefault(i, {})[j] = text
    for i, blocks in by_msg.items():
        msg = history[i]
        content = tuple(
            ToolResultBlock(b.tool_use_id, blocks[j], is_error=b.is_error)
            if j in blocks and isinstance(b, ToolResultBlock)
            else b
            for j, b in enumerate(msg.content)
        )
        out[i] = Msg(
            msg.role,
            content,
            id=msg.id,
            model=msg.model,
            stop_reason=msg.stop_reason,
            usage=msg.usage,
            meta=msg.meta,
        )
    return out


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
