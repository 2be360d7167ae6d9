"""What a glob or grep call does: arguments checked and refused with a stable code,
paths kept inside the workspace, a backend chosen (ripgrep, else Python), results
filtered by the glob, sorted and capped. Imported on the first call, not at start-up.

Refusals begin with a code in brackets: [bad_argument], [bad_pattern], [bad_glob],
[bad_type], [not_found], [not_a_directory], [outside_workspace], [git_dir], [binary],
[unreadable], [too_large], [timeout], [search_failed].
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from friday.tools.base import ToolContext, ToolError
from friday.tools.search.engine import Hits, Query

if TYPE_CHECKING:
    from friday.tools.search.globs import PathGlob

GLOB_LIMIT = 200
FILES_LIMIT = 200
MAX_CONTEXT = 50
TIMEOUT_S = 30.0
SKIPPED = "files ignored by .gitignore/.ignore and hidden files are skipped"


def refuse(code: str, text: str) -> ToolError:
    return ToolError(f"[{code}] {text}")


@dataclass(frozen=True)
class Place:
    workspace: str  # resolved workspace root
    rel: str  # relative to it; "" is the workspace itself
    exists: bool
    is_file: bool

    @property
    def label(self) -> str:
        return self.rel or "the workspace"


def place(ctx: ToolContext, path: str | None, below: str = "") -> Place:
    """`path` (then `below`, e.g. a glob's literal folders) resolved with symlinks,
    refused when it leaves the workspace or enters a .git folder."""
    workspace = os.path.realpath(ctx.cwd)
    given = os.path.expanduser(path) if path else "."
    real = os.path.realpath(os.path.join(workspace, given, below))
    rel = os.path.relpath(real, workspace).replace(os.sep, "/")
    if rel == ".." or rel.startswith("../") or os.path.isabs(rel):
        where = os.path.join(given, below) if below else given
        raise refuse(
            "outside_workspace",
            f"{where} resolves to {real}, outside the workspace {workspace}. "
            "Search inside the workspace (paths are relative to it).",
        )
    rel = "" if rel == "." else rel
    if ".git" in rel.split("/"):
        raise refuse("git_dir", f"{rel} is inside a .git folder, which search tools skip.")
    return Place(workspace, rel, os.path.exists(real), os.path.isfile(real))


def not_found(ctx: ToolContext, path: str) -> ToolError:
    import difflib

    workspace = os.path.realpath(ctx.cwd)
    missing = os.path.join(workspace, os.path.expanduser(path))
    parent = os.path.dirname(missing)
    while not os.path.isdir(parent):
        parent = os.path.dirname(parent)
    try:
        names = os.listdir(parent)
    except OSError:
        names = []
    close = difflib.get_close_matches(os.path.basename(missing), names, n=5, cutoff=0.6)
    folder = os.path.relpath(parent, workspace)
    folder = "the workspace" if folder == "." else folder
    hint = f"Similar names in {folder}: {', '.join(sorted(close))}. " if close else ""
    return refuse(
        "not_found",
        f"{path} does not exist. {hint}Use glob to find files by name (e.g. pattern '**/name*').",
    )


def parse_glob(text: str, allow_negation: bool) -> PathGlob:
    from friday.tools.search.globs import GlobError, path_glob

    try:
        return path_glob(text, allow_negation=allow_negation)
    except GlobError as exc:
        raise refuse("bad_glob", f"{exc}. Globs use * ? [abc] {{a,b}} and **.") from None


async def run(q: Query, meta: dict) -> Hits:
    """ripgrep when found, else (or when it cannot start) the Python backend in a thread
    that stops when the call is cancelled."""
    import asyncio
    import threading

    from friday.tools.search.engine import SearchFailed, UsePython, python_search
    from friday.tools.search.rg import find_rg, rg_search

    rg = find_rg()
    if rg is not None:
        try:
            hits = await rg_search(q, rg)
            meta.update(backend="rg", command=hits.command)
            return hits
        except SearchFailed as exc:
            raise refuse(exc.code, str(exc)) from None
        except OSError as exc:
            meta["rg_error"] = f"{type(exc).__name__}: {exc}"
        except UsePython as exc:
            meta["python_because"] = str(exc)
    stop = threading.Event()
    try:
        hits = await asyncio.to_thread(python_search, q, stop.is_set)
    except SearchFailed as exc:
        raise refuse(exc.code, str(exc)) from None
    finally:
        stop.set()
    meta["backend"] = "python"
    return hits


def keep_matching(hits: Hits, pg: PathGlob, q: Query, base: str) -> None:
    """Apply the glob to paths relative to the folder it is anchored at (not needed when
    the backend already selected files by the glob's name part and that is all of it)."""
    if pg.by_name and q.name_globs == (pg.name_glob,):
        return
    cut = len(base) + 1 if base else 0
    hits.files = {p: v for p, v in hits.files.items() if pg.matches(p[cut:])}


def stopped_note(hits: Hits) -> str:
    if not hits.stopped:
        return ""
    return f"\n[search stopped early ({hits.stopped}): results are incomplete; narrow the search]"


def check_stopped(hits: Hits) -> None:
    if hits.stopped and hits.stopped.startswith("timed out") and not hits.files:
        raise refuse("timeout", f"the search {hits.stopped} without results; narrow the path.")


async def glob_call(ctx: ToolContext, pattern: str, path: str | None) -> str:
    import asyncio

    from friday.tools.search.output import file_list, newest_first

    where = place(ctx, path)
    if not where.exists:
        raise not_found(ctx, path or ".")
    if where.is_file:
        raise refuse("not_a_directory", f"{where.rel} is a file; pass its folder as path.")
    pg = parse_glob(pattern, allow_negation=False)
    base = place(ctx, path, pg.base) if pg.base else where
    ctx.meta.update(pattern=pattern, matched=0, truncated=False)
    if not base.exists or base.is_file:
        return f"No files match {pattern!r} in {where.label} ({SKIPPED})."
    names = (pg.name_glob,) if pg.name_glob else ()
    q = Query(base.workspace, base.rel, False, "list", names, pg.hidden, timeout=TIMEOUT_S)
    hits = await run(q, ctx.meta)
    check_stopped(hits)
    keep_matching(hits, pg, q, base.rel)
    files = list(hits.files)
    newest = await asyncio.to_thread(newest_first, base.workspace, files, GLOB_LIMIT, hits.mtimes)
    ctx.meta.update(matched=len(files), truncated=len(files) > GLOB_LIMIT or bool(hits.stopped))
    if not files:
        return f"No files match {pattern!r} in {where.label} ({SKIPPED}).{stopped_note(hits)}"
    hint = "use a narrower pattern or path"
    return file_list(newest, len(files), GLOB_LIMIT, None, hint) + stopped_note(hits)


async def grep_call(
    ctx: ToolContext,
    pattern: str,
    path: str | None,
    glob: str | None,
    type_name: str | None,
    case_insensitive: bool,
    context: int | None,
    output_mode: str,
    head_limit: int | None,
) -> str:
    from friday.tools.search import output

    if context is not None and not 0 <= context <= MAX_CONTEXT:
        raise refuse("bad_argument", f"context must be between 0 and {MAX_CONTEXT}.")
    if head_limit is not None and head_limit < 0:
        raise refuse("bad_argument", "head_limit must be 0 (no limit) or more.")
    q, pg, base = _grep_query(
        ctx, pattern, path, glob, type_name, case_insensitive, context, output_mode
    )
    ctx.meta.update(pattern=pattern, output_mode=output_mode, files=0, truncated=False)
    hits = Hits()
    if q is not None:
        hits = await run(q, ctx.meta)
        check_stopped(hits)
        if pg is not None and not q.is_file:
            keep_matching(hits, pg, q, base)
    ctx.meta.update(files=len(hits.files), truncated=bool(hits.stopped))
    if not hits.files:
        where = path or "the workspace"
        return f"No matches for {pattern!r} in {where} ({SKIPPED}).{stopped_note(hits)}"
    if output_mode == "files":
        import asyncio

        limit = head_limit or FILES_LIMIT
        paths = list(hits.files)
        newest = await asyncio.to_thread(
            output.newest_first, q.workspace, paths, limit, hits.mtimes
        )
        text = output.file_list(newest, len(paths), limit, head_limit)
    elif output_mode == "count":
        text = output.counts(hits.files, head_limit or FILES_LIMIT, head_limit)
    else:
        hidden = sensitive_files(ctx, q.workspace, hits.files)
        text = output.content(hits.files, q.context, head_limit, hidden)
    ctx.meta["truncated"] = ctx.meta["truncated"] or output.MORE in text
    return text + stopped_note(hits)


def sensitive_files(ctx: ToolContext, workspace: str, files: Iterable[str]) -> set[str]:
    """The matched files whose lines grep must not print: those read_file would refuse
    as sensitive (the same patterns, including a policy's, on the path as found and with
    symlinks resolved). A search is a read."""
    from pathlib import Path

    from friday.tools.files.paths import SENSITIVE_PATTERNS, sensitive_match

    state = ctx.file_state
    patterns = (
        *(getattr(state, "sensitive_patterns", None) or SENSITIVE_PATTERNS),
        *(getattr(ctx, "sensitive_patterns", None) or ()),
    )
    hidden = set()
    for rel in files:
        literal = Path(workspace, rel)
        real = Path(os.path.realpath(literal))
        if sensitive_match(literal, patterns) or sensitive_match(real, patterns):
            hidden.add(rel)
    return hidden


def _grep_query(
    ctx: ToolContext,
    pattern: str,
    path: str | None,
    glob: str | None,
    type_name: str | None,
    case_insensitive: bool,
    context: int | None,
    mode: str,
) -> tuple[Query | None, PathGlob | None, str]:
    """The query for a grep call (None when the glob's folder does not exist), the
    glob, and the folder it is anchored at."""
    from friday.tools.search.engine import is_binary
    from friday.tools.search.filetypes import TYPES, type_globs
    from friday.tools.search.regex import PatternError, compile_pattern

    try:
        compiled = compile_pattern(pattern, case_insensitive)
    except PatternError as exc:
        raise refuse(
            "bad_pattern",
            f"{exc}. The pattern is a regular expression; escape ( ) [ ] {{ }} . * + ? | "
            "with \\ to match them literally.",
        ) from None
    names: tuple[str, ...] = ()
    if type_name:
        found = type_globs(type_name)
        if found is None:
            known = ", ".join(sorted(TYPES))
            raise refuse("bad_type", f"unknown type {type_name!r}; known types: {known}.")
        names = found
    where = place(ctx, path)
    if not where.exists:
        raise not_found(ctx, path or ".")
    pg = parse_glob(glob, allow_negation=True) if glob else None
    if where.is_file:
        file = os.path.join(where.workspace, where.rel)
        try:
            binary = is_binary(file)
        except OSError as exc:
            raise refuse("unreadable", f"{where.rel} cannot be read: {exc.strerror}.") from None
        if binary:
            size = os.path.getsize(file)
            raise refuse("binary", f"{where.rel} is a binary file ({size:,} bytes); not searched.")
        pg = None
    base = place(ctx, path, pg.base) if pg and pg.base else where
    if not base.exists or (base.is_file and not where.is_file):
        return None, pg, base.rel
    if pg and pg.name_glob and not names:
        names = (pg.name_glob,)
    q = Query(
        base.workspace,
        base.rel,
        base.is_file,
        mode,
        () if base.is_file else names,
        bool(pg and pg.hidden),
        compiled,
        case_insensitive,
        (context or 0) if mode == "content" else 0,
        TIMEOUT_S,
    )
    return q, pg, base.rel
