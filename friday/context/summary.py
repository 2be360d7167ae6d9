"""The model's part of a compaction: the instruction that asks for a structured summary,
the parser for its answer, and the text the model reads afterwards, which joins the
model's fields to the facts Friday recorded itself (`friday.context.facts`).

The summary is one JSON object with named fields, so a reply that leaves out the goal or
the state is caught and refused rather than silently kept; the instruction is a fixed text
(bar the optional focus), so the summarizing request is as predictable as any other.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from friday.context.facts import Facts

SUMMARY_FIELDS = ("goal", "state", "findings", "next_steps", "open_questions")
TEXT_FIELDS = ("goal", "state")
LIST_FIELDS = ("findings", "next_steps", "open_questions")
MAX_WORDS = 800
MAX_STARTS = 200  # `{` positions tried when the JSON sits inside prose

_INSTRUCTION = """\
The context window is nearly full, so this conversation is being compacted: everything \
above will be replaced by a summary that you write now, followed by the most recent turns \
verbatim. Whoever continues the work will have only that summary, so make it complete \
enough to go on without asking again.

Do not call any tools. Reply with one JSON object and nothing else (no prose, no \
markdown), with exactly these keys:
- "goal" (string): the task as the user stated it, with every requirement, constraint and \
preference they gave, and how they will judge it done.
- "state" (string): where the work stands: what is done, what is in progress, what has \
been verified and how (which command, what result).
- "findings" (list of strings): what was learnt and decided, each with its reason: the \
cause of a bug, the design chosen and the alternatives rejected, facts about the code \
that were hard to find.
- "next_steps" (list of strings): the concrete next actions, in order.
- "open_questions" (list of strings): what is still unknown or needs the user; [] if \
nothing.

Be concrete: name file paths, functions, classes and commands, and quote error messages \
exactly. Be concise: at most {max_words} words in all. Friday keeps its own exact record \
of the user's messages, the files created and edited, the last failing command with its \
error, and the error lines seen: refer to those, do not copy them out at length."""

_FOCUS = """

The user asked that the summary focus on: {focus}
Give that the most room and detail; keep the rest brief."""


class SummaryError(Exception):
    """The summarizing call's answer is not the summary asked for; the message is one
    line saying what is wrong."""


def summary_instruction(focus: str | None) -> str:
    """The text of the user message that asks the model for the summary."""
    text = _INSTRUCTION.replace("{max_words}", str(MAX_WORDS))
    focus = " ".join(focus.split()) if focus else ""
    return text + _FOCUS.replace("{focus}", focus) if focus else text


def parse_summary(text: str) -> dict[str, Any]:
    """The summary fields from the model's answer: a JSON object given bare, in a ```json
    fence or with prose around it (the outermost object that parses). Missing lists are
    empty, a lone string is a list of one, unknown keys are dropped."""
    data = _find_object(text)
    out: dict[str, Any] = {}
    for key in TEXT_FIELDS:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise SummaryError(f"the summary has no {key!r}: it must be a non-empty string")
        out[key] = value.strip()
    for key in LIST_FIELDS:
        out[key] = _as_list(key, data.get(key))
    return out


def _find_object(text: str) -> dict[str, Any]:
    if not isinstance(text, str) or not text.strip():
        raise SummaryError("the summary is empty: expected one JSON object")
    decoder = json.JSONDecoder()
    starts = [m.start() for m in re.finditer(r"\{", text)][:MAX_STARTS]
    found: list[dict[str, Any]] = []
    for start in starts:
        try:
            value, _end = decoder.raw_decode(text, start)  # from "{": always an object
        except (json.JSONDecodeError, RecursionError):  # nested too deep for the parser
            continue
        if any(key in value for key in SUMMARY_FIELDS):
            return value
        found.append(value)
    if found:
        return found[0]  # refused by the caller, naming the field that is missing
    if not starts:
        raise SummaryError("the summary is not JSON: no {...} object in the answer")
    raise SummaryError("the summary is not valid JSON: no {...} in the answer parses")


def _as_list(key: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if not isinstance(value, list):
        raise SummaryError(
            f"the summary's {key!r} is a {type(value).__name__}: expected a list of strings"
        )
    items = [item if isinstance(item, str) else str(item) for item in value if item is not None]
    return [item.strip() for item in items if item.strip()]


# -- the text the model reads after compaction ----------------------------------------------


def render_summary(fields: dict[str, Any], facts: Facts, *, outputs_dir: str | None) -> str:
    """The summary message: the model's fields, then Friday's exact record. The same
    fields and facts always give the same text; empty sections are left out."""
    parts = [_header(outputs_dir)]
    parts += _model_part(fields)
    record = _record_part(facts)
    if record:
        parts.append(
            "The sections below were recorded by Friday from the conversation itself, not "
            "summarized: they are exact."
        )
        parts += record
    return "\n\n".join(parts) + "\n"


def _header(outputs_dir: str | None) -> str:
    text = (
        "This conversation was compacted: the earlier messages were replaced by this summary, "
        "and the most recent turns follow it verbatim. The task goes on from where they end."
    )
    if outputs_dir:
        text += (
            f" The full text of earlier tool outputs is under {outputs_dir}; read_file can open it."
        )
    return text


def _model_part(fields: dict[str, Any]) -> list[str]:
    parts = []
    for title, key in (("Task goal", "goal"), ("Current state", "state")):
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            parts.append(f"## {title}\n{value.strip()}")
    for title, key, numbered in (
        ("Key findings and decisions", "findings", False),
        ("Next steps", "next_steps", True),
        ("Open questions", "open_questions", False),
    ):
        items = [str(i) for i in _listed(fields.get(key)) if str(i).strip()]
        if items:
            parts.append(f"## {title}\n{_items(items, numbered=numbered)}")
    return parts


def _listed(value: Any) -> list[Any]:
    """A list field as stored: a lone string is one item, anything else not a list none."""
    if isinstance(value, str):
        return [value]
    return [i for i in value if i is not None] if isinstance(value, list | tuple) else []


def _record_part(facts: Facts) -> list[str]:
    parts = []
    if facts.user_messages or facts.omitted_user_messages:
        parts.append(_user_messages(facts.user_messages, facts.omitted_user_messages))
    if facts.files_created:
        parts.append("## Files created\n" + _items(facts.files_created))
    if facts.files_edited:
        parts.append("## Files edited\n" + _items(facts.files_edited))
    failure = facts.last_failure
    if failure is not None:
        code = "" if failure.exit_code is None else f" (exit code {failure.exit_code})"
        text = f"## Last failing command{code}\n{_fenced(failure.command)}"
        if failure.error.strip():
            text += f"\nIts output (excerpt):\n{_fenced(failure.error)}"
        parts.append(text)
    if facts.errors:
        errors = _fenced("\n".join(facts.errors))
        parts.append(f"## Errors seen (in order of first appearance)\n{errors}")
    if facts.todos:
        parts.append("## Todo list\n" + _items(facts.todos))
    return parts


def _user_messages(messages: list[str], omitted: int) -> str:
    lines = ["## The user's messages (verbatim, newest first)"]
    for n, text in enumerate(messages, 1):
        label = " (newest)" if n == 1 else ""
        lines.append(f"Message {n}{label}:\n{_fenced(text)}")
    if omitted:
        plural = "s" if omitted != 1 else ""
        lines.append(f"({omitted} older message{plural} omitted: they did not fit the budget.)")
    return "\n".join(lines)


def _items(items: list[str], *, numbered: bool = False) -> str:
    lines = []
    for n, item in enumerate(items, 1):
        mark = f"{n}." if numbered else "-"
        lines.append(f"{mark} " + item.strip().replace("\n", "\n  "))
    return "\n".join(lines)


def _fenced(text: str) -> str:
    """`text` verbatim in a code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"
