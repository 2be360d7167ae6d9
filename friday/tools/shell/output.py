"""A command's output as the model gets it: all of it when short, else the first ~8,000
and last ~20,000 characters around a marker naming the file that holds the whole.

Memory stays bounded whatever the command prints: until the output passes the cap it is
kept whole; from then on only the head and a rolling tail stay in memory and everything
is streamed to the file.
"""

from __future__ import annotations

import codecs
import io
from collections import deque
from collections.abc import Callable
from pathlib import Path

from friday.tools.shell.session import text_of

MAX_CHARS = 30_000
HEAD_CHARS = 8_000
TAIL_CHARS = 20_000
# The saved file stops here (`yes` under a long timeout must not fill the disk); the tail
# the model gets is still the real end of the output.
MAX_FILE_CHARS = 64 * 2**20

# Opens the file for the full output: (path, writable descriptor).
Opener = Callable[[], tuple[Path, int]]


class OutputCapture:
    """Bytes in (in the order the pipe gave them), text out: `feed` returns each chunk
    decoded (UTF-8, invalid bytes as U+FFFD, characters split across chunks kept whole)
    for streaming, `text()` the capped text for the model."""

    def __init__(self, open_file: Opener) -> None:
        self._open_file = open_file
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._early: list[str] = []  # everything, while it is within MAX_CHARS
        self._early_chars = 0
        self._head = ""
        self._tail: deque[str] = deque()
        self._tail_chars = 0
        self._file: io.TextIOWrapper | None = None
        self.spilled = False
        self.chars = 0
        self.newlines = 0
        self.path: Path | None = None
        self.file_error: str | None = None
        self._file_chars = 0

    @property
    def held_chars(self) -> int:
        """Characters kept in memory: bounded by the cap plus one chunk."""
        return self._early_chars if not self.spilled else len(self._head) + self._tail_chars

    def feed(self, data: bytes) -> str:
        text = self._decoder.decode(data)
        self._add(text)
        return text

    def finish(self) -> str:
        """Flush a character left incomplete at the end, and close the file."""
        text = self._decoder.decode(b"", final=True)
        self._add(text)
        self.close()
        return text

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                self.file_error = self.file_error or str(exc)
            self._file = None

    def _add(self, text: str) -> None:
        if not text:
            return
        self.chars += len(text)
        self.newlines += text.count("\n")
        if self.spilled:
            self._write(text)
            self._keep_tail(text)
            return
        self._early.append(text)
        self._early_chars += len(text)
        if self._early_chars > MAX_CHARS:
            self._spill()

    def _spill(self) -> None:
        whole = "".join(self._early)
        self._early = []
        self.spilled = True
        self._head = whole[:HEAD_CHARS]
        self._keep_tail(whole[-TAIL_CHARS:])
        try:
            self.path, fd = self._open_file()
            self._file = open(fd, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            self.file_error = str(exc)
            return
        self._write(whole)

    def _write(self, text: str) -> None:
        if self._file is None:
            return
        room = MAX_FILE_CHARS - self._file_chars
        if len(text) >= room:
            text = text[:room]
            self.file_error = f"only its first {MAX_FILE_CHARS:,} characters are kept"
        try:
            self._file.write(text)
            self._file_chars += len(text)
        except OSError as exc:  # disk full: keep running, say the file is incomplete
            self.file_error = str(exc)
        if self.file_error:
            self.close()

    def _keep_tail(self, text: str) -> None:
        self._tail.append(text)
        self._tail_chars += len(text)
        while self._tail and self._tail_chars - len(self._tail[0]) >= TAIL_CHARS:
            self._tail_chars -= len(self._tail.popleft())

    # -- the text for the model ------------------------------------------------------------

    def text(self) -> str:
        if not self.spilled:
            return "".join(self._early)
        head = self._head
        tail = "".join(self._tail)[-TAIL_CHARS:]
        # Cut at line ends where there is one near the edge, so no line is shown in half.
        end = head.rfind("\n")
        if end >= HEAD_CHARS // 2:
            head = head[: end + 1]
        start = tail.find("\n")
        if 0 <= start < TAIL_CHARS // 2:
            tail = tail[start + 1 :]
        head_lines = head.count("\n")
        cut_lines = self.newlines - head_lines - tail.count("\n")
        cut_chars = self.chars - len(head) - len(tail)
        sep = "" if head.endswith("\n") else "\n"
        return f"{head}{sep}{self._marker(cut_lines, cut_chars, head_lines)}\n{tail}"

    def _marker(self, cut_lines: int, cut_chars: int, head_lines: int) -> str:
        cut = f"{cut_lines:,} lines ({cut_chars:,} characters) cut"
        if self.path is None:
            return f"[... {cut}; the full output could not be saved: {self.file_error} ...]"
        where = f"full output: {text_of(self.path)}"
        if self.file_error:
            where += f" (incomplete: {self.file_error})"
        hint = f"read it with read_file, offset={head_lines + 1} for the part cut"
        return f"[... {cut}; {where} ({hint}) ...]"
