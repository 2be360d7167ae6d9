"""What a search backend is asked and answers, and the pure-Python backend.

A backend answers a `Query` with `Hits`: for every workspace-relative path it selected,
nothing (file listings), a count of matching lines, or the matching and context lines.
The ripgrep backend (`friday.tools.search.rg`) and this one must give the same `Hits`
for the same query; the tool layer sorts and formats them.

File contents are read as ripgrep reads them: a UTF-8 BOM is dropped, UTF-16 with a BOM
is decoded, anything else is taken as UTF-8 (bytes that are not UTF-8 are kept and shown
as U+FFFD); a file with a NUL byte is binary and skipped, and so is a file over 64 MiB
found by walking (one named as the path is searched).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from friday.tools.search.regex import Compiled

MAX_LINE_CHARS = 400
LINE_CUT = " … [line cut]"
# Bytes ripgrep prints of a long line; more than MAX_LINE_CHARS characters in any UTF-8.
MAX_COLUMNS = 2000
# Files found by walking that are larger are not searched (ripgrep: --max-filesize);
# a file named as the path is searched whatever its size (the Python backend: up to
# MAX_EXPLICIT_BYTES, since it reads files whole).
MAX_FILE_BYTES = 64 * 2**20
MAX_EXPLICIT_BYTES = 512 * 2**20

# Line number, is a match (else context), the text as read (surrogate-escaped bytes that
# are not UTF-8, at most MAX_COLUMNS characters; `display` makes it presentable).
Line = tuple[int, bool, str]


@dataclass(frozen=True)
class Query:
    workspace: str  # resolved absolute workspace root: ripgrep's cwd
    target: str  # the searched path relative to the workspace; "" is the workspace
    is_file: bool
    mode: str  # "list" (every file: glob), "files", "count", "content"
    name_globs: tuple[str, ...] = ()  # a file's name must match one of these
    hidden: bool = False
    pattern: Compiled | None = None
    case_insensitive: bool = False
    context: int = 0
    timeout: float = 30.0
    max_records: int = 100_000


class Rows:
    """The lines grep shows for one file (content mode): how many, and the lines, which
    ripgrep's backend parses only if they are shown."""

    __slots__ = ("_load", "_rows", "count")

    def __init__(
        self,
        count: int,
        rows: list[Line] | None = None,
        load: Callable[[], list[Line]] | None = None,
    ) -> None:
        self.count, self._rows, self._load = count, rows, load

    def __iter__(self) -> Iterator[Line]:
        if self._rows is None:
            self._rows = self._load() if self._load else []
        return iter(self._rows)

    @property
    def matches(self) -> int:
        return sum(1 for _, is_match, _ in self)


@dataclass
class Hits:
    files: dict[str, Any] = field(default_factory=dict)  # path -> None | int | Rows
    stopped: str | None = None  # why the search ended early (results are incomplete)
    records: int = 0
    mtimes: dict[str, int] = field(default_factory=dict)  # where the backend stat()ed
    command: list[str] = field(default_factory=list)  # the process run, if any


class SearchFailed(Exception):
    """A refusal with a stable code, e.g. SearchFailed("bad_pattern", "...")."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class UsePython(Exception):
    """ripgrep cannot answer this query exactly; the Python backend will."""


def display(text: str) -> str:
    """A line as the model sees it: no CR, invalid UTF-8 as U+FFFD, long lines cut."""
    text = text.removesuffix("\r")
    if not text.isascii():
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS] + LINE_CUT
    return text


def decode(data: bytes) -> str | None:
    """The text ripgrep would search, or None for a binary file."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16-le" if data[:2] == b"\xff\xfe" else "utf-16-be"
        text = data[2:].decode(codec, "replace")
        return None if "\0" in text else text
    if b"\0" in data:
        return None
    return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape")


def is_binary(path: str) -> bool:
    """Whether the file holds a NUL byte (after UTF-16 decoding), read in chunks so a
    huge file is not loaded whole. Raises OSError when it cannot be read."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return decode(head + f.read()) is None
        while head:
            if b"\0" in head:
                return True
            head = f.read(1 << 20)
    return False


def read_text(path: str, max_bytes: int | None = None) -> str | None:
    """The text to search; None for a binary or unreadable file, or one larger than
    `max_bytes` (ripgrep's --max-filesize skips those too)."""
    try:
        with open(path, "rb") as f:
            if max_bytes is not None and os.fstat(f.fileno()).st_size > max_bytes:
                return None
            return decode(f.read())
    except OSError:
        return None


def mtimes_of(workspace: str, paths: list[str]) -> list[int]:
    """st_mtime_ns of workspace-relative paths (-1 where stat fails). Relative to an
    open directory, keeping only the number: for 50,000 files that is about a third
    faster than joining paths and holding stat results."""
    with _workspace_fd(workspace) as fd:
        if fd is None:
            paths = [os.path.join(workspace, p) for p in paths]
        try:
            return [os.stat(p, dir_fd=fd).st_mtime_ns for p in paths]
        except OSError:  # one vanished: go slowly
            return [_stat(p, fd)[0] for p in paths]


def mtimes_and_sizes(workspace: str, paths: list[str]) -> tuple[list[int], list[int]]:
    """(st_mtime_ns, st_size) lists for workspace-relative paths, one stat each."""
    mtimes: list[int] = []
    sizes: list[int] = []
    with _workspace_fd(workspace) as fd:
        if fd is None:
            paths = [os.path.join(workspace, p) for p in paths]
        for p in paths:
            mtime, size = _stat(p, fd)
            mtimes.append(mtime)
            sizes.append(size)
    return mtimes, sizes


@contextlib.contextmanager
def _workspace_fd(workspace: str) -> Iterator[int | None]:
    """An open directory to stat relative to, or None where dir_fd is unsupported
    (the caller then joins paths to the workspace)."""
    if os.stat not in os.supports_dir_fd:
        yield None
        return
    fd = os.open(workspace, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        yield fd
    finally:
        os.close(fd)


def _stat(path: str, fd: int | None) -> tuple[int, int]:
    try:
        st = os.stat(path, dir_fd=fd)
    except OSError:
        return -1, -1
    return st.st_mtime_ns, st.st_size


def name_matcher(globs: tuple[str, ...]) -> Callable[[str], bool] | None:
    if not globs:
        return None
    from friday.tools.search.globs import glob_regex

    rx = re.compile("|".join(f"(?:{glob_regex(g)})" for g in globs))
    return lambda name: rx.fullmatch(name) is not None


class _Budget:
    """Stops a walk on cancellation, timeout or too many results."""

    def __init__(self, q: Query, cancelled: Callable[[], bool]) -> None:
        self.deadline = time.monotonic() + q.timeout
        self.timeout = q.timeout
        self.cancelled = cancelled
        self.max_records = q.max_records
        self.records = 0

    def check(self) -> None:
        from friday.tools.search.walk import Stopped

        if self.cancelled():
            raise Stopped("cancelled")
        if time.monotonic() > self.deadline:
            raise Stopped(f"timed out after {self.timeout:g} s")
        if self.records > self.max_records:
            raise Stopped(f"more than {self.max_records:,} results")


def _files(q: Query, budget: _Budget) -> Iterator[tuple[str, str]]:
    """(workspace-relative path, absolute path) of every file the query covers."""
    from friday.tools.search.walk import walk_files

    root = os.path.join(q.workspace, q.target) if q.target else q.workspace
    if q.is_file:
        yield q.target, root
        return
    cut = len(q.workspace) + (q.workspace != "/")
    for path in walk_files(
        root, hidden=q.hidden, name_filter=name_matcher(q.name_globs), check=budget.check
    ):
        yield path[cut:], path


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


_INVALID = re.compile("[\udc80-\udcff]+")  # bytes that were not UTF-8 (surrogateescape)


def _line_search(rx: re.Pattern[str]) -> Callable[[str], bool]:
    """Search one line. ripgrep's regex never matches bytes that are not UTF-8, so a
    line holding some is searched piece by piece between them (`^` still means the
    line start, and such a byte is not a word character for `\\b`)."""
    search = rx.search

    def line_search(line: str) -> bool:
        if line.isascii() or not _INVALID.search(line):
            return search(line) is not None
        start = 0
        for bad in _INVALID.finditer(line):
            if search(line, start, bad.start()):
                return True
            start = bad.end()
        return search(line, start) is not None

    return line_search


def _grep_file(q: Query, text: str) -> Any:
    """None: no match; else True (files), a count, or the lines to show."""
    assert q.pattern is not None
    rx, search = q.pattern.regex, _line_search(q.pattern.regex)
    if not q.pattern.line_anchored and rx.search(text) is None:
        return None  # a line match is also a match in the whole text
    lines = _lines(text)
    if q.mode == "files":
        return True if any(search(ln) for ln in lines) else None
    hits = [i for i, ln in enumerate(lines) if search(ln)]
    if not hits:
        return None
    if q.mode == "count":
        return len(hits)
    shown = set()
    for i in hits:
        shown.update(range(max(0, i - q.context), min(len(lines), i + q.context + 1)))
    matched = set(hits)
    return [(i + 1, i in matched, lines[i][:MAX_COLUMNS]) for i in sorted(shown)]


def python_search(q: Query, cancelled: Callable[[], bool] = lambda: False) -> Hits:
    """The Python backend. Runs in a worker thread: `cancelled` is polled between
    files and directories."""
    from friday.tools.search.walk import Stopped

    budget = _Budget(q, cancelled)
    hits = Hits()
    if q.is_file and q.mode != "list":
        size = os.path.getsize(os.path.join(q.workspace, q.target))
        if size > MAX_EXPLICIT_BYTES:
            raise SearchFailed(
                "too_large",
                f"{q.target} is {size:,} bytes; without ripgrep, grep reads files whole "
                f"and stops at {MAX_EXPLICIT_BYTES:,}. Install ripgrep (pip install ripgrep) "
                "or search a smaller file.",
            )
    try:
        for rel, path in _files(q, budget):
            budget.check()
            if q.mode == "list":
                hits.files[rel] = None
                budget.records += 1
                continue
            text = read_text(path, None if q.is_file else MAX_FILE_BYTES)
            found = None if text is None else _grep_file(q, text)
            if found is None:
                continue
            if isinstance(found, list):
                found = Rows(len(found), found)
                budget.records += found.count - 1
            hits.files[rel] = None if found is True else found
            budget.records += 1
    except Stopped as stop:
        hits.stopped = str(stop)
    hits.records = budget.records
    return hits
