"""Observation masking, the cheap tier: old tool outputs become short placeholders that
name the file holding the full text (read_file can open it) and keep the error lines the
output showed and the lines that say how it ended, so the model (and the facts of a later
compaction, read by the same `friday.context.outputs`) still know what failed. The call
itself (command, path, arguments) stays in the history untouched.

Masking rewrites history, which costs the provider's prompt cache from that point on, so
it is done in batches: everything old enough at once, then nothing until the context has
grown again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from friday.context.outputs import (
    MASK_PREFIX,
    error_lines,
    key_argument,
    one_line,
    status_lines,
)
from friday.messages import Msg, ToolResultBlock, ToolUseBlock

MIN_MASK_CHARS = 600  # shorter outputs cost little and say a lot: they stay
MAX_KEPT_LINES = 4  # error lines: the first three and the last
MAX_ARGUMENT_CHARS = 200


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


def placeholder(target: Target, path: str | None) -> str:
    """The text that replaces a result: what it was (size, the call's tool and key
    argument, on one line), where its full text is, the error lines it showed, and the
    status lines it ended with (the shell's `[exit code 1 · 0.4 s]` and the notes after
    it), so a masked failure still reads as one, to the model and to the facts."""
    text = target.result.text
    what = "a tool"
    if target.call is not None:
        argument = one_line(key_argument(target.call.input), MAX_ARGUMENT_CHARS)
        what = f"{target.call.name} {argument}".strip()
    where = (
        f"the full text is in {path} (read_file can open it)"
        if path
        else "the full text could not be saved"
    )
    lines = [f"{MASK_PREFIX}: {len(text):,} characters from {what}; {where}.]"]
    shown = error_lines(text)
    if len(shown) > MAX_KEPT_LINES:
        shown = shown[: MAX_KEPT_LINES - 1] + shown[-1:]
    if shown:
        lines += ["It showed:", *shown]
    return "\n".join(lines + status_lines(text))


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
