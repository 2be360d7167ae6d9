"""Tool output at insertion: a result over its cap keeps a head and a tail, and the whole
text goes to a file under the session's directory that read_file can page. Nothing is
lost, and the marker tells the model how much was left out and how to get it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from friday.messages import TextBlock, ToolResultBlock

DIR_MODE = 0o700
FILE_MODE = 0o600
HEAD_SHARE = 1 / 3  # the rest is the tail, where errors and summaries usually are


class OutputStore:
    """Files holding full tool outputs, one per saved output, in one folder per session
    (the shell tool saves its cut outputs in the same folder). The folder is made on the
    first save, private to the user; each file is written atomically."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def save(self, name: str, text: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        base = _safe_name(name) or "output"
        for n in range(1000):
            path = self.directory / (f"{base}.txt" if n == 0 else f"{base}-{n}.txt")
            if not path.exists():
                break
        else:
            raise FileExistsError(f"no free file name for {base}.txt in {self.directory}")
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".txt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass") as f:
                f.write(text)
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return path


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text).lstrip(".")[:80]


@dataclass(frozen=True, slots=True)
class Cut:
    """What `cut_text` did: the text to show, and the figures for the marker and meta."""

    text: str
    total_chars: int
    kept_chars: int
    cut_lines: int
    tail_line: int  # 1-based line number where the kept tail starts in the full text


def cut_text(
    text: str, max_chars: int, path: str | None, error: str | None = None, original: str = ""
) -> Cut:
    """Head and tail of `text` within about `max_chars`, cut at line ends where that
    costs little, with a marker naming the file that holds the full text (or why there is
    none: `error`). `original` names the file where the tool itself kept its complete
    output when the text was already cut once (the shell's marker would be lost in the
    middle)."""
    head_budget = int(max_chars * HEAD_SHARE)
    tail_budget = max_chars - head_budget
    head_end = _line_end_before(text, head_budget)
    tail_start = _line_start_after(text, len(text) - tail_budget)
    if tail_start <= head_end:  # nothing worth cutting
        return Cut(text, len(text), len(text), 0, 1)
    head, middle, tail = text[:head_end], text[head_end:tail_start], text[tail_start:]
    cut_lines = middle.count("\n")
    head_lines = head.count("\n")
    tail_line = head_lines + cut_lines + 1
    if path is not None:
        where = (
            f"The full output is in {path}: read it with read_file, offset={head_lines + 1} "
            "for the part cut"
        )
    else:
        where = f"The full output could not be saved ({error or 'unknown error'})"
    if original:
        where += f"; the tool's complete output, before any cut, is in {original}"
    marker = (
        f"\n[... {len(middle):,} characters ({cut_lines:,} lines) cut here, of "
        f"{len(text):,} in all. {where} ...]\n"
    )
    return Cut(head + marker + tail, len(text), len(head) + len(tail), cut_lines, tail_line)


def _line_end_before(text: str, limit: int) -> int:
    """A cut point near `limit`: just after a newline if one is close, else `limit`."""
    limit = max(0, min(limit, len(text)))
    newline = text.rfind("\n", max(0, limit - 2000), limit)
    return newline + 1 if newline >= 0 else limit


def _line_start_after(text: str, start: int) -> int:
    start = max(0, min(start, len(text)))
    newline = text.find("\n", start, start + 2000)
    return newline + 1 if newline >= 0 else start


def result_text(result: ToolResultBlock) -> str:
    return result.text


def with_text(result: ToolResultBlock, text: str) -> ToolResultBlock:
    """`result` with its text replaced; images in a mixed result are kept."""
    if isinstance(result.content, str):
        return ToolResultBlock(result.tool_use_id, text, is_error=result.is_error)
    others = tuple(b for b in result.content if not isinstance(b, TextBlock))
    return ToolResultBlock(result.tool_use_id, (TextBlock(text), *others), is_error=result.is_error)
