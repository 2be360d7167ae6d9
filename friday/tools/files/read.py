"""read_file: a window of numbered lines, an image block, or a refusal that says where to
look instead. Every successful read is recorded in FileState (that is what makes a later
edit legal), and a re-read of lines already shown, unchanged, costs one line."""

from __future__ import annotations

import asyncio
import os
from typing import NamedTuple

from friday.messages import ImageBlock, TextBlock
from friday.tools.base import ToolContext, ToolOutput, tool
from friday.tools.files.codec import decode, describe_binary, image_type, lf_view, newline_style
from friday.tools.files.disk import count_lines, digest, read_bytes, stat_or_none
from friday.tools.files.errors import FileToolError, reports_code
from friday.tools.files.paths import Target, guard, shown_path
from friday.tools.files.state import FileRecord, FileState, session_state

DEFAULT_LIMIT = 2000
MAX_LINE_CHARS = 2000
MAX_OUTPUT_CHARS = 100_000
# Base64 makes 4 bytes of 3: this keeps an image under the 5 MB providers accept.
MAX_IMAGE_BYTES = 3_750_000


@tool(read_only=True)
@reports_code
async def read_file(
    ctx: ToolContext, path: str, offset: int = 1, limit: int = DEFAULT_LIMIT
) -> str | ToolOutput:
    """Read a file from the workspace. Text comes back as numbered lines (`cat -n` style:
    line number, tab, line), at most 2,000 lines per call; lines longer than 2,000
    characters are cut. PNG, JPEG, GIF and WebP images come back as images. A file must be
    read before it can be edited or overwritten. Re-reading lines you already have, while
    the file is unchanged, returns a one-line note instead of the text.

    Args:
        path: the file, relative to the workspace root (absolute paths work too).
        offset: the line number to start at (1 is the first line).
        limit: how many lines to return at most.
    """
    fs = session_state(ctx)
    if limit < 1:
        raise FileToolError("bad_argument", f"limit must be 1 or more, got {limit}.")
    if offset < 0:
        raise FileToolError("bad_argument", f"offset must be 1 or more, got {offset}.")
    target = await guard(ctx, "read_file", path, write=False, patterns=fs.sensitive_patterns)
    loaded = await asyncio.to_thread(_load, target, max(1, offset), limit)
    if loaded.image is not None:
        return _answer_image(ctx, fs, target, loaded)
    return _answer_text(ctx, fs, target, loaded)


class _Loaded(NamedTuple):
    st: os.stat_result
    digest: str
    encoding: str | None
    bom: bytes
    newline: str
    window: _Window | None
    image: ImageBlock | None = None


class _Window(NamedTuple):
    first: int
    last: int
    total: int
    body: str
    cut_lines: int
    capped: bool


def _load(target: Target, offset: int, limit: int) -> _Loaded:
    st = stat_or_none(target)
    if st is None:
        raise FileToolError("not_found", _not_found_message(target))
    if os.path.isdir(target.path):
        raise FileToolError("is_directory", _directory_message(target))
    data = read_bytes(target, st)
    kind = image_type(data)
    if kind is not None:
        if len(data) > MAX_IMAGE_BYTES:
            raise FileToolError(
                "too_large",
                f"{target.shown} is a {kind} image of {len(data):,} bytes; images over "
                f"{MAX_IMAGE_BYTES:,} bytes are not sent to the model.",
            )
        import base64

        image = ImageBlock(kind, base64.b64encode(data).decode("ascii"))
        return _Loaded(st, digest(data), None, b"", "", None, image)
    decoded = decode(data)
    if decoded is None:
        raise FileToolError(
            "binary",
            f"{target.shown} is a binary file ({describe_binary(data, target.path.name)}, "
            f"{len(data):,} bytes). read_file shows text and PNG/JPEG/GIF/WebP images only; "
            "inspect other files with a suitable command in the shell if you must.",
        )
    raw, encoding = decoded
    window = _render(lf_view(raw), offset, limit, target)
    return _Loaded(st, digest(data), encoding.codec, encoding.bom, newline_style(raw), window)


def _render(text: str, offset: int, limit: int, target: Target) -> _Window:
    total = count_lines(text)
    if total == 0:
        return _Window(0, 0, 0, "", 0, False)
    if offset > total:
        raise FileToolError(
            "out_of_range",
            f"{target.shown} has {total:,} lines, so offset {offset:,} is past its end. "
            f"Use an offset from 1 to {total:,}.",
        )
    # Split only as far as the window reaches; a final "\n" leaves no extra line.
    lines = text.split("\n", offset + limit - 1)[offset - 1 : offset - 1 + limit]
    lines = lines[: total - offset + 1]
    rows: list[str] = []
    size = cut = 0
    capped = False
    for number, line in enumerate(lines, offset):
        if len(line) > MAX_LINE_CHARS:
            line = f"{line[:MAX_LINE_CHARS]} … [line cut: {len(line):,} characters in all]"
            cut += 1
        row = f"{number:6}\t{line}"
        if rows and size + len(row) + 1 > MAX_OUTPUT_CHARS:
            capped = True
            break
        rows.append(row)
        size += len(row) + 1
    last = offset + len(rows) - 1
    return _Window(offset, last, total, "\n".join(rows), cut, capped)


def _answer_text(ctx: ToolContext, fs: FileState, target: Target, loaded: _Loaded) -> str:
    window = loaded.window
    assert window is not None
    ctx.meta.update(
        path=target.shown,
        total_lines=window.total,
        lines=[window.first, window.last],
        encoding=loaded.encoding,
    )
    record = _remember(fs, target, loaded)
    if window.total == 0:
        record.step = ctx.step
        return f"{target.shown} is empty (0 lines)."
    repeat = _dedupe(ctx, fs, record, window.first, window.last)
    if repeat is not None:
        return (
            f"Unchanged since your read at step {repeat}: lines {window.first}-{window.last} "
            f"of {target.shown} are exactly as that result showed them. (If you no longer "
            "have that result, call read_file again now and it returns the text.)"
        )
    notes: list[str] = []
    if window.last < window.total:
        why = f"; output capped at {MAX_OUTPUT_CHARS:,} characters" if window.capped else ""
        notes.append(
            f"(Showing lines {window.first}-{window.last} of {window.total:,}{why}. Call "
            f"read_file with offset={window.last + 1} to read on.)"
        )
    if window.cut_lines:
        notes.append(
            f"({window.cut_lines} line(s) longer than {MAX_LINE_CHARS:,} characters were cut; "
            "grep can search their full text.)"
        )
    return window.body + ("\n\n" + "\n".join(notes) if notes else "")


def _answer_image(ctx: ToolContext, fs: FileState, target: Target, loaded: _Loaded) -> ToolOutput:
    image = loaded.image
    assert image is not None
    size = loaded.st.st_size
    ctx.meta.update(path=target.shown, media_type=image.media_type, bytes=size)
    record = _remember(fs, target, loaded)
    repeat = _dedupe(ctx, fs, record, 1, 1)
    if repeat is not None:
        return ToolOutput(
            f"Unchanged since your read at step {repeat}: the image {target.shown} is the "
            "one that result showed. (If you no longer have it, call read_file again now "
            "and it returns the image.)"
        )
    label = f"Image {target.shown} ({image.media_type}, {size:,} bytes)"
    return ToolOutput((TextBlock(label), image))


def _remember(fs: FileState, target: Target, loaded: _Loaded) -> FileRecord:
    """The record for this content: the existing one when the content is the same (its
    memory of shown ranges still holds), else a fresh one."""
    record = fs.get(target.key)
    st = loaded.st
    if record is not None and record.digest == loaded.digest:
        record.mtime_ns, record.size = st.st_mtime_ns, st.st_size
        record.encoding, record.bom, record.newline = loaded.encoding, loaded.bom, loaded.newline
        return record
    record = FileRecord(
        path=target.key,
        mtime_ns=st.st_mtime_ns,
        size=st.st_size,
        digest=loaded.digest,
        encoding=loaded.encoding,
        bom=loaded.bom,
        newline=loaded.newline,
    )
    fs.put(record)
    return record


def _dedupe(
    ctx: ToolContext, fs: FileState, record: FileRecord, first: int, last: int
) -> int | None:
    """The step of an earlier read that showed these lines, when the answer should be the
    one-line note; else None, after noting that these lines are now shown. A read that
    comes right after a note on this file (same or next step) gets the text: the model
    is saying it no longer has the earlier result."""
    seen = record.seen_at(first, last) if fs.dedupe_reads else None
    insisted = record.noted_step is not None and ctx.step - record.noted_step <= 1
    if seen is not None and not insisted:
        record.noted_step = ctx.step
        ctx.meta["unchanged_since_step"] = seen
        return seen
    record.noted_step = None
    record.seen.append((first, last, ctx.step))
    record.step = ctx.step
    return None


# -- where to look instead -------------------------------------------------------------------

_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache"}
_SCAN_LIMIT = 5000


def _not_found_message(target: Target) -> str:
    from difflib import SequenceMatcher

    folder = target.path.parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    want = os.path.relpath(target.path, folder).lower()
    want_name = target.path.name.lower()
    scored: list[tuple[float, str]] = []
    for rel in _nearby(folder):
        low = rel.lower()
        score = max(
            SequenceMatcher(None, want, low).ratio(),
            SequenceMatcher(None, want_name, os.path.basename(low)).ratio() - 0.05,
        )
        if score >= 0.6:
            scored.append((score, shown_path(folder / rel, target.root)))
    scored.sort(key=lambda s: (-s[0], s[1]))
    text = f"{target.shown} does not exist."
    if scored:
        text += " Nearest existing paths: " + ", ".join(p for _, p in scored[:5]) + "."
    else:
        nearest = shown_path(folder, target.root)
        where = "the workspace root" if nearest == "." else nearest
        text += f" The nearest existing folder is {where}."
    return text + " Use glob to find files by name."


def _nearby(folder: os.PathLike[str] | str, depth: int = 3) -> list[str]:
    """Paths under `folder` (relative), breadth first, at most `_SCAN_LIMIT` of them."""
    found: list[str] = []
    level = [""]
    for _ in range(depth):
        below: list[str] = []
        for rel in level:
            try:
                entries = sorted(os.scandir(os.path.join(folder, rel)), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                path = os.path.join(rel, entry.name) if rel else entry.name
                found.append(path)
                if len(found) >= _SCAN_LIMIT:
                    return found
                if entry.is_dir(follow_symlinks=False) and entry.name not in _SKIP_DIRS:
                    below.append(path)
        level = below
    return found


def _directory_message(target: Target) -> str:
    try:
        entries = sorted(os.scandir(target.path), key=lambda e: e.name)
    except OSError:
        entries = []
    names = [e.name + ("/" if e.is_dir() else "") for e in entries]
    listing = ", ".join(names[:20]) + (f", … ({len(names)} entries)" if len(names) > 20 else "")
    return (
        f"{target.shown} is a directory, not a file. Use glob to list its files (e.g. "
        f'glob(pattern="*", path="{target.shown}")), then read one.'
        + (f" It contains: {listing}." if names else " It is empty.")
    )
