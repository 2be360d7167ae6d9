"""Turning `Hits` into the text the model reads: stable order, caps with a marker that
says how much was left out, and no lines from the files `calls.sensitive_files` hides.

Order: grep's file list and glob newest first (what was just edited is usually what
matters), ties by path; grep's lines and counts by path, then line number. Only what is
shown gets formatted, so a huge result costs little more than a small one.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from typing import Any

from friday.tools.search.engine import display, mtimes_of

MAX_CHARS = 20_000
MORE = "\n[... "  # starts the line saying how much was left out
NARROW = "narrow the search with path, glob or type, or a more specific pattern"


def shown(path: str) -> str:
    """A path for the model: surrogates from undecodable names become U+FFFD."""
    if path.isascii():
        return path
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def newest_first(
    workspace: str, paths: list[str], limit: int, mtimes: dict[str, int] | None = None
) -> list[str]:
    """The `limit` most recently modified of `paths`, newest first, ties by path.
    (ripgrep's own --sortr walks on one thread; a parallel walk and a stat per file
    here is as fast for large results and much faster for small ones.)"""
    known = mtimes or {}
    missing = [p for p in paths if p not in known]
    if missing:
        known = {**known, **dict(zip(missing, mtimes_of(workspace, missing), strict=True))}
    return [p for _, p in heapq.nsmallest(limit, ((-known[p], p) for p in paths))]


def render(
    entries: Iterable[tuple[str, int]],
    total: int,
    unit: str,
    limit: int | None,
    head_limit: int | None,
    summary: str = "",
    hint: str = NARROW,
) -> str:
    """Entries (text, how many results it stands for; 0 for a `--` separator) until
    the limit or MAX_CHARS, then a marker for the `total - shown` results left out."""
    out: list[str] = []
    size = count = 0
    why = ""
    for text, weight in entries:
        if weight and limit is not None and count >= limit:
            why = f"head_limit={head_limit} reached" if head_limit else hint
            break
        if size + len(text) + 1 > MAX_CHARS:
            why = f"output capped at {MAX_CHARS:,} characters; {hint}"
            break
        out.append(text)
        size += len(text) + 1
        count += weight
    while out and out[-1] == "--":
        out.pop()
    if not why and head_limit and limit is not None and count >= limit:
        why = f"head_limit={head_limit} reached"  # the entries given stopped at the limit
    if count < total:
        extra = f" ({summary})" if summary else ""
        out.append(f"{MORE[1:]}{total - count:,} more {unit} not shown{extra}; {why or hint}]")
    return "\n".join(out)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def file_list(
    newest: list[str], total: int, limit: int, head_limit: int | None, hint: str = NARROW
) -> str:
    """`newest`: the first `limit` paths in order (see `newest_first`)."""
    header = f"Found {plural(total, 'file')}" + (" (newest first)" if total > 1 else "")
    body = render(((shown(p), 1) for p in newest), total, "files", limit, head_limit, hint=hint)
    return f"{header}\n{body}"


def counts(files: dict[str, int], limit: int, head_limit: int | None) -> str:
    summary = f"{plural(sum(files.values()), 'matching line')} in {plural(len(files), 'file')}"
    entries = ((f"{shown(p)}:{files[p]}", 1) for p in sorted(files))
    return render(entries, len(files), "files", limit, head_limit, summary) + (
        f"\nTotal: {summary}"
    )


def _lines(files: dict[str, Any], context: int, hidden: set[str]) -> Iterator[tuple[str, int]]:
    first = True
    for path in sorted(files):
        rows = files[path]
        name = shown(path)
        if path in hidden:
            if context and not first:
                yield "--", 0
            note = f"[{plural(rows.matches, 'matching line')} not shown: the file may hold secrets]"
            yield f"{name}: {note}", rows.count
            first = False
            continue
        previous = None
        for number, is_match, text in rows:
            if context and not first and (previous is None or number != previous + 1):
                yield "--", 0
            mark = ":" if is_match else "-"
            yield f"{name}{mark}{number}{mark}{display(text)}", 1
            previous, first = number, False


def content(
    files: dict[str, Any], context: int, head_limit: int | None, hidden: set[str] | None = None
) -> str:
    """`files`: path -> `engine.Rows`; the lines of `hidden` files are not shown."""
    total = sum(rows.count for rows in files.values())
    kind = "line" if context else "matching line"
    summary = f"{plural(total, kind)} in {plural(len(files), 'file')} in all"
    lines = _lines(files, context, hidden or set())
    return render(lines, total, "lines", head_limit or None, head_limit, summary)
