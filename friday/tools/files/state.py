"""FileState: the session's memory of the files the agent has read or written.

It is the single truth that read_file, edit_file, multi_edit and write_file consult: an
existing file may be changed only when it has a record here and the file on disk still
matches it, and a re-read of lines the agent already has (same content) can be answered
with one line instead of the text again. Compaction clears records (`forget`) or just the
"already seen" memory (`forget_reads`) when the earlier tool results leave the context.
"""

from __future__ import annotations

import asyncio

from friday.tools.files.paths import SENSITIVE_PATTERNS


class FileRecord:
    """One file as the agent last saw it.

    `encoding`/`bom`/`newline` are what a write back must keep (None encoding: an image).
    `seen` holds the line ranges shown to the agent for this exact content, each with the
    step of the read; a write clears it (the agent has not seen the whole new version).
    `noted_step` is the step of the last "unchanged" answer, so a read right after it
    (the model insisting) returns the text.
    (A plain class, not a dataclass: it is built on import paths that start-up pays for.)
    """

    __slots__ = (
        "bom",
        "digest",
        "encoding",
        "mtime_ns",
        "newline",
        "path",
        "noted_step",
        "seen",
        "size",
        "step",
    )

    def __init__(
        self,
        *,
        path: str,
        mtime_ns: int,
        size: int,
        digest: str,
        encoding: str | None,
        bom: bytes = b"",
        newline: str = "\n",
        step: int = 0,
    ) -> None:
        self.path = path
        self.mtime_ns = mtime_ns
        self.size = size
        self.digest = digest
        self.encoding = encoding
        self.bom = bom
        self.newline = newline
        self.step = step
        self.seen: list[tuple[int, int, int]] = []
        self.noted_step: int | None = None

    def __repr__(self) -> str:
        return (
            f"FileRecord({self.path!r}, step={self.step}, size={self.size}, "
            f"encoding={self.encoding!r}, newline={self.newline!r}, seen={self.seen})"
        )

    def seen_at(self, first: int, last: int) -> int | None:
        """The latest step whose read showed every line of first..last, or None."""
        steps = [step for lo, hi, step in self.seen if lo <= first and last <= hi]
        return max(steps) if steps else None


class FileState:
    """Per-session read cache and write serializer.

    `dedupe_reads`: answer a re-read of unchanged, already shown lines with a one-line
    note. `sensitive_patterns`: the paths that need approval (see paths.py for the
    pattern forms); a policy extends `SENSITIVE_PATTERNS` rather than replacing it.
    Records are keyed by absolute path with symlinks resolved (`os.path.realpath`), so
    two names for one file share a record.
    """

    def __init__(
        self,
        *,
        dedupe_reads: bool = True,
        sensitive_patterns: tuple[str, ...] = SENSITIVE_PATTERNS,
    ) -> None:
        self.dedupe_reads = dedupe_reads
        self.sensitive_patterns = tuple(sensitive_patterns)
        self._records: dict[str, FileRecord] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def get(self, path: str) -> FileRecord | None:
        return self._records.get(str(path))

    def put(self, record: FileRecord) -> None:
        self._records[record.path] = record

    def forget(self, path: str | None = None) -> None:
        """Drop one record (or all): the agent must read the file again before editing."""
        if path is None:
            self._records.clear()
        else:
            self._records.pop(str(path), None)

    def forget_reads(self, path: str | None = None) -> None:
        """Keep the right to edit but drop the memory of what was shown, so the next read
        returns the text (for when earlier read results were compacted away)."""
        records = self._records.values() if path is None else [self.get(path)]
        for record in records:
            if record is not None:
                record.seen = []
                record.noted_step = None

    def lock(self, path: str) -> asyncio.Lock:
        """The lock that serializes writes to one path (reads never take it)."""
        key = str(path)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def paths(self) -> list[str]:
        return list(self._records)

    def __contains__(self, path: object) -> bool:
        return str(path) in self._records


def session_state(ctx: object) -> FileState:
    """The FileState of the session running this call (the runtime attaches one)."""
    state = getattr(ctx, "file_state", None)
    if not isinstance(state, FileState):
        from friday.tools.files.errors import FileToolError

        raise FileToolError(
            "unavailable",
            "the file tools have no session read cache (FileState) attached, so they cannot "
            "work. Tell the user: this is a setup problem, not something to retry.",
        )
    return state
