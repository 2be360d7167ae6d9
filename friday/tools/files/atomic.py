"""Replace a file's content so that a crash or a kill at any moment leaves either the
old file or the new one, never a mix: write a temporary file in the same directory,
flush it to disk, rename it over the target (atomic on POSIX within one file system),
then flush the directory so the rename itself survives a power cut."""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path

_counter = itertools.count()


def atomic_write(
    path: Path,
    data: bytes,
    mode: int | None = None,
    *,
    owner: tuple[int, int] | None = None,
    exclusive: bool = False,
) -> None:
    """Write `data` to `path` atomically. `mode` (permission bits) is applied to the new
    file; None leaves the default for a new file (0o666 less the umask). `owner` (uid,
    gid) is applied where the process may (root editing another user's file); elsewhere
    the new file is the writer's, as with any editor that saves by rename. `exclusive`:
    create only, raising FileExistsError if something appeared at `path` meanwhile."""
    folder = path.parent
    fd, tmp = _open_temp(folder, path.name)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if owner is not None:
                with contextlib.suppress(OSError):
                    os.fchown(fd, *owner)
            if mode is not None:
                os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            _link_new(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    fsync_dir(folder)


def _link_new(tmp: Path, path: Path) -> None:
    """Put the finished temp file at `path` only if nothing is there: link() fails when
    the name exists, where rename would replace it. File systems without hard links get
    a check then a rename."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(path):
            raise FileExistsError(str(path)) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _open_temp(folder: Path, name: str) -> tuple[int, Path]:
    """A new file beside the target, created exclusively (never an existing one)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = folder / f".{name}.{os.getpid()}.{next(_counter)}.friday-tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def fsync_dir(folder: Path) -> None:
    """Flush a directory entry change; a no-op where directories cannot be opened."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
