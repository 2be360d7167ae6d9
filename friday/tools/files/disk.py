"""The read-first and unchanged-since rules, and the write that updates FileState.

These functions run in a worker thread (a 10 MB file should not stall the event loop),
so they take plain values and return or store records; they never await.
"""

from __future__ import annotations

import asyncio
import os
import stat as stat_mod
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from friday.tools.files.atomic import atomic_write
from friday.tools.files.codec import Encoding, decode, describe_binary
from friday.tools.files.errors import FileToolError
from friday.tools.files.paths import Target
from friday.tools.files.state import FileRecord, FileState

# Larger files are refused: they do not belong in a model's context, and the edit path
# holds several copies of the text in memory.
MAX_FILE_BYTES = 64 * 1024 * 1024

T = TypeVar("T")


def digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def stat_or_none(target: Target) -> os.stat_result | None:
    try:
        return os.stat(target.path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise FileToolError(
            "not_a_directory", f"{target.shown}: a part of its folder path is a file."
        ) from None
    except OSError as exc:
        raise io_error(target, exc) from None


def io_error(target: Target, exc: OSError) -> FileToolError:
    if isinstance(exc, PermissionError):
        return FileToolError(
            "permission", f"{target.shown}: permission denied by the operating system."
        )
    return FileToolError("io_error", f"{target.shown}: {exc.strerror or exc}.")


def read_bytes(target: Target, st: os.stat_result) -> bytes:
    if stat_mod.S_ISDIR(st.st_mode):
        raise FileToolError(
            "is_directory",
            f"{target.shown} is a directory. Use glob to list its files, then read one.",
        )
    if not stat_mod.S_ISREG(st.st_mode):
        raise FileToolError("not_a_file", f"{target.shown} is not a regular file.")
    if st.st_size > MAX_FILE_BYTES:
        raise FileToolError(
            "too_large",
            f"{target.shown} is {st.st_size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit "
            "of the file tools. Use grep to find what you need, or the shell (head, sed -n).",
        )
    try:
        with open(target.path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise io_error(target, exc) from None


class Current(NamedTuple):
    """An existing file, fresh against FileState, ready to be changed."""

    data: bytes
    stat: os.stat_result
    text: str
    encoding: Encoding


def load_for_change(fs: FileState, target: Target, st: os.stat_result) -> Current:
    """The file's content, if the agent read it and it is unchanged since; else a
    refusal that says which rule failed and what to do."""
    record = fs.get(target.key)
    if record is None:
        raise FileToolError(
            "not_read",
            f"{target.shown} has not been read in this session. Read it with read_file "
            "first, then make the change.",
        )
    data = read_bytes(target, st)
    check_fresh(record, target, st, data)
    decoded = decode(data)
    if decoded is None or record.encoding is None:
        kind = describe_binary(data, target.path.name)
        raise FileToolError(
            "binary", f"{target.shown} is a binary file ({kind}); the file tools edit text only."
        )
    text, encoding = decoded
    return Current(data, st, text, encoding)


def check_fresh(record: FileRecord, target: Target, st: os.stat_result, data: bytes) -> None:
    """mtime and size first, then the content hash (which also catches a change that
    kept both, e.g. a same-size rewrite with the time reset)."""
    again = "Read it again with read_file, then redo the change on the current content."
    same_hash = digest(data) == record.digest
    if (st.st_mtime_ns, st.st_size) != (record.mtime_ns, record.size):
        if not same_hash:
            changes = []
            if st.st_mtime_ns != record.mtime_ns:
                changes.append("its modification time changed")
            if st.st_size != record.size:
                changes.append(f"its size went from {record.size:,} to {st.st_size:,} bytes")
            raise FileToolError(
                "stale",
                f"{target.shown} was modified on disk since you last read or wrote it at step "
                f"{record.step} ({' and '.join(changes)}). {again}",
            )
        record.mtime_ns, record.size = st.st_mtime_ns, st.st_size  # touched, not changed
    elif not same_hash:
        raise FileToolError(
            "stale",
            f"{target.shown} changed on disk since you last read or wrote it at step "
            f"{record.step}: same size and modification time, but its content hash differs. "
            f"{again}",
        )


def commit(
    fs: FileState,
    target: Target,
    data: bytes,
    *,
    before: os.stat_result | None,
    encoding: Encoding,
    newline: str,
    step: int,
) -> FileRecord:
    """Write atomically (keeping the file's mode) and record the new content as known,
    so the agent can go on editing without a re-read. `before` is the stat the change
    was based on: if the file moved on meanwhile, the write is refused, not merged."""
    if before is not None:
        now = stat_or_none(target)
        if now is None or _identity(now) != _identity(before):
            raise FileToolError(
                "stale",
                f"{target.shown} changed on disk while the change was being made. Read it "
                "again with read_file, then redo the change.",
            )
    mode = owner = None
    if before is not None:
        mode = stat_mod.S_IMODE(before.st_mode)
        if (before.st_uid, before.st_gid) != (os.geteuid(), os.getegid()):
            owner = (before.st_uid, before.st_gid)
    try:
        atomic_write(target.path, data, mode, owner=owner, exclusive=before is None)
        st = os.stat(target.path)
    except FileExistsError:
        raise FileToolError(
            "stale",
            f"{target.shown} was created by someone else while you were writing it. Read it "
            "with read_file, then decide what to change.",
        ) from None
    except OSError as exc:
        raise io_error(target, exc) from None
    record = FileRecord(
        path=target.key,
        mtime_ns=st.st_mtime_ns,
        size=st.st_size,
        digest=digest(data),
        encoding=encoding.codec,
        bom=encoding.bom,
        newline=newline,
        step=step,
    )
    fs.put(record)
    return record


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_ino, st.st_dev, st.st_mtime_ns, st.st_size)


def count_lines(text: str) -> int:
    """Lines as `cat -n` numbers them: a final line without a newline still counts."""
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


async def locked_in_thread(lock: asyncio.Lock, fn: Callable[..., T], *args: Any) -> T:
    """Run `fn` in a worker thread holding `lock` until the thread is done, even when the
    calling task is cancelled (an interrupt must not let a second write start while the
    first is still running; the first finishes and records its result)."""
    await lock.acquire()
    try:
        future = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    except BaseException:
        lock.release()
        raise

    def done(f: asyncio.Future[T]) -> None:
        lock.release()
        if not f.cancelled():
            f.exception()  # retrieved, so an abandoned failure is not logged as unhandled

    future.add_done_callback(done)
    return await asyncio.shield(future)
