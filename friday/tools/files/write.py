"""write_file: create a file (and its folders), or replace a file the agent has read and
that has not changed since. The replacement keeps the file's encoding, BOM, line endings
and mode; a file that mixes CRLF and LF keeps the ending of every line that stayed."""

from __future__ import annotations

import os
import stat as stat_mod
from typing import Any, NamedTuple

from friday.tools.base import ToolContext, tool
from friday.tools.files.codec import UTF8, lf_view, newline_style, renewline
from friday.tools.files.diff import unified_diff
from friday.tools.files.disk import (
    commit,
    count_lines,
    load_for_change,
    locked_in_thread,
    stat_or_none,
)
from friday.tools.files.errors import FileToolError, reports_code
from friday.tools.files.paths import Target, guard
from friday.tools.files.state import FileState, session_state


class Outcome(NamedTuple):
    """What a change tool answers (`text`) and reports to the event (`meta`)."""

    text: str
    meta: dict[str, Any]


@tool
@reports_code
async def write_file(ctx: ToolContext, path: str, content: str) -> str:
    """Create a file with the given content, or replace the whole content of a file.
    Missing parent folders are created. Replacing an existing file is allowed only when you
    read it in this session and it has not changed since; to change part of a file, use
    edit_file instead (cheaper and safer). The file keeps its encoding, BOM, line endings
    (CRLF/LF) and permissions.

    Args:
        path: the file, relative to the workspace root (absolute paths work too).
        content: the complete new content of the file.
    """
    fs = session_state(ctx)
    target = await guard(ctx, "write_file", path, write=True, patterns=fs.sensitive_patterns)
    outcome = await locked_in_thread(fs.lock(target.key), _write, fs, target, content, ctx.step)
    ctx.meta.update(outcome.meta)
    return outcome.text


def _write(fs: FileState, target: Target, content: str, step: int) -> Outcome:
    st = stat_or_none(target)
    if st is None:
        return create_file(fs, target, content, step)
    if stat_mod.S_ISDIR(st.st_mode):
        raise FileToolError(
            "is_directory", f"{target.shown} is a directory; write_file writes files."
        )
    current = load_for_change(fs, target, st)
    new_raw = renewline(current.text, lf_view(content))
    data = current.encoding.encode(new_raw)
    if data == current.data:
        record = fs.get(target.key)
        if record is not None:
            record.step = step
        return Outcome(
            f"{target.shown} already has exactly this content; nothing was written.",
            {"path": target.shown, "diff": "", "added": 0, "removed": 0},
        )
    newline = newline_style(new_raw)
    commit(fs, target, data, before=st, encoding=current.encoding, newline=newline, step=step)
    diff = unified_diff(lf_view(current.text), lf_view(new_raw), target.shown)
    lines = count_lines(new_raw)
    text = f"Wrote {target.shown} ({lines:,} lines): +{diff.added} -{diff.removed} lines."
    compact = diff.compact()
    return Outcome(
        text + ("\n" + compact if compact else ""),
        {"path": target.shown, "diff": diff.text, "added": diff.added, "removed": diff.removed},
    )


def create_file(fs: FileState, target: Target, content: str, step: int) -> Outcome:
    """A new UTF-8 file with `content` as given (its line endings included)."""
    data = UTF8.encode(content)
    try:
        os.makedirs(target.path.parent, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise FileToolError(
            "not_a_directory",
            f"cannot create {target.shown}: a part of its folder path is a file.",
        ) from None
    except PermissionError:
        raise FileToolError(
            "permission", f"cannot create the folders for {target.shown}: permission denied."
        ) from None
    newline = newline_style(content)
    commit(fs, target, data, before=None, encoding=UTF8, newline=newline, step=step)
    view = lf_view(content)
    diff = unified_diff("", view, target.shown)
    lines = count_lines(content)
    return Outcome(
        f"Created {target.shown} ({lines:,} line{'' if lines == 1 else 's'}, {len(data):,} bytes).",
        {
            "path": target.shown,
            "created": True,
            "diff": diff.text,
            "added": diff.added,
            "removed": 0,
        },
    )
