"""edit_file and multi_edit: exact string replacement in a file the agent has read.

An edit is found in the LF view of the file and written back through the newline map,
so only the replaced characters change on disk. multi_edit applies its edits in order to
the result of the previous ones and writes once: all of them or none.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

from friday.tools.base import ToolContext, tool
from friday.tools.files.codec import NewlineMap
from friday.tools.files.diff import unified_diff
from friday.tools.files.disk import commit, load_for_change, locked_in_thread, stat_or_none
from friday.tools.files.errors import FileToolError, reports_code
from friday.tools.files.match import (
    candidates,
    describe_candidates,
    find_all,
    line_numbers,
    looks_numbered,
)
from friday.tools.files.paths import Target, guard
from friday.tools.files.state import FileState, session_state
from friday.tools.files.write import Outcome, create_file


class Edit(NamedTuple):
    old: str
    new: str
    replace_all: bool = False


@tool
@reports_code
async def edit_file(
    ctx: ToolContext, path: str, old_string: str, new_string: str, replace_all: bool = False
) -> str:
    """Replace text in a file. `old_string` must match the file exactly (whitespace and
    indentation included; copy it from read_file's output without the line-number prefix)
    and occur exactly once: include enough surrounding lines to make it unique, or set
    replace_all to change every occurrence. The file must have been read in this session
    and be unchanged on disk since. The answer shows the changed lines with their numbers;
    you can keep editing without reading the file again.

    Args:
        path: the file, relative to the workspace root (absolute paths work too).
        old_string: the exact text to replace.
        new_string: the text to put in its place (must differ from old_string).
        replace_all: replace every occurrence of old_string, not just one.
    """
    return await _run(ctx, "edit_file", path, [Edit(old_string, new_string, replace_all)])


@reports_code
async def _multi_edit(ctx: ToolContext, path: str, edits: list[dict]) -> str:
    """Make several edits to one file at once. Each edit has old_string, new_string and
    optionally replace_all, with the same rules as edit_file; the edits apply in order,
    each to the result of the ones before it. Either every edit applies or none does.

    Args:
        path: the file, relative to the workspace root (absolute paths work too).
        edits: the edits, in the order to apply them.
    """
    if not edits:
        raise FileToolError("bad_argument", "edits is empty; give at least one edit.")
    plan = [Edit(e["old_string"], e["new_string"], bool(e.get("replace_all"))) for e in edits]
    return await _run(ctx, "multi_edit", path, plan)


_EDIT_ITEM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "old_string": {"type": "string", "description": "the exact text to replace."},
        "new_string": {"type": "string", "description": "the text to put in its place."},
        "replace_all": {
            "type": "boolean",
            "description": "replace every occurrence, not just one.",
            "default": False,
        },
    },
    "required": ["old_string", "new_string"],
    "additionalProperties": False,
}


def _with_edit_items(declared: Any) -> Any:
    """The declared tool with the `edits` items spelled out (type hints give only
    "object"), so the model sees the fields and bad items are refused before running."""
    params = dict(declared.parameters)
    props = dict(params["properties"])
    props["edits"] = {**props["edits"], "items": _EDIT_ITEM, "minItems": 1}
    params["properties"] = props
    return dataclasses.replace(declared, parameters=params)


multi_edit = _with_edit_items(tool(name="multi_edit")(_multi_edit))


async def _run(ctx: ToolContext, name: str, path: str, edits: list[Edit]) -> str:
    fs = session_state(ctx)
    target = await guard(ctx, name, path, write=True, patterns=fs.sensitive_patterns)
    outcome = await locked_in_thread(fs.lock(target.key), _apply, fs, target, edits, ctx.step)
    ctx.meta.update(outcome.meta)
    return outcome.text


def _apply(fs: FileState, target: Target, edits: list[Edit], step: int) -> Outcome:
    st = stat_or_none(target)
    if st is None:
        if len(edits) == 1 and edits[0].old == "":
            return create_file(fs, target, edits[0].new, step)
        raise FileToolError(
            "not_found",
            f"{target.shown} does not exist. To create it, use write_file (or edit_file with "
            "an empty old_string).",
        )
    current = load_for_change(fs, target, st)
    nmap = NewlineMap(current.text)
    before = nmap.text
    replaced = 0
    for number, edit in enumerate(edits, 1):
        where = f"Edit {number} of {len(edits)}: " if len(edits) > 1 else ""
        nmap, count = _apply_one(nmap, edit, target, where)
        replaced += count
    data = current.encoding.encode(nmap.raw)
    commit(fs, target, data, before=st, encoding=current.encoding, newline=nmap.style, step=step)
    diff = unified_diff(before, nmap.text, target.shown)
    plural = "s" if replaced != 1 else ""
    what = f"{len(edits)} edits, " if len(edits) > 1 else ""
    head = (
        f"Edited {target.shown}: {what}{replaced} replacement{plural}, "
        f"+{diff.added} -{diff.removed} lines."
    )
    meta = {
        "path": target.shown,
        "diff": diff.text,
        "added": diff.added,
        "removed": diff.removed,
        "replacements": replaced,
    }
    return Outcome(f"{head}\n{diff.compact()}", meta)


def _apply_one(nmap: NewlineMap, edit: Edit, target: Target, where: str) -> tuple[NewlineMap, int]:
    """The text with one edit applied, and how many occurrences it replaced."""
    text = nmap.text
    old, new = edit.old, edit.new.replace("\r\n", "\n")
    nothing = " No edit was applied." if where else ""
    if old == "":
        if text == "":
            return nmap.replace([(0, 0)], new), 1
        raise FileToolError(
            "bad_argument",
            f"{where}old_string is empty, but {target.shown} is not. To replace the whole "
            "file use write_file; to insert text, include a neighbouring line in old_string "
            f"and repeat it in new_string.{nothing}",
        )
    positions = find_all(text, old)
    if not positions and "\r\n" in old:
        old = old.replace("\r\n", "\n")
        positions = find_all(text, old)
    if old == new:
        raise FileToolError(
            "no_change",
            f"{where}old_string and new_string are the same; there is nothing to change.{nothing}",
        )
    if not positions:
        raise FileToolError("no_match", _no_match(text, old, target, where) + nothing)
    if len(positions) > 1 and not edit.replace_all:
        lines = line_numbers(text, positions)
        listed = ", ".join(map(str, lines[:20])) + (", …" if len(lines) > 20 else "")
        raise FileToolError(
            "ambiguous",
            f"{where}old_string occurs {len(positions)} times in {target.shown} (at lines "
            f"{listed}). Include more surrounding lines to make it unique, or set "
            f"replace_all to true to change every occurrence.{nothing}",
        )
    spans = [(p, p + len(old)) for p in positions]
    return nmap.replace(spans, new), len(positions)


def _no_match(text: str, old: str, target: Target, where: str) -> str:
    message = (
        f"{where}old_string was not found in {target.shown}. It must match the file "
        "exactly, whitespace and indentation included."
    )
    if looks_numbered(old):
        message += (
            " old_string seems to include read_file's line-number prefixes (like "
            '"    12\\t"); leave them out.'
        )
    found = candidates(text, old)
    if not found:
        return message + " Nothing similar was found; read the file again to see its content."
    return message + " The closest candidates:\n" + describe_candidates(text, found)
