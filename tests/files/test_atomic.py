"""The atomic write: a process killed with SIGKILL in the middle of writing a large file
leaves the old content or the new one, never a mix; a failed write leaves no temp file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from friday.tools.files.atomic import atomic_write
from tests.conftest import REPO

SIZE = 24 * 1024 * 1024

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from friday.tools.files.atomic import atomic_write

    path, size = Path(sys.argv[1]), int(sys.argv[2])
    versions = [b"A" * size, b"B" * size]
    n = 0
    while True:
        print("writing", n, flush=True)
        atomic_write(path, versions[n % 2], 0o640)
        n += 1
    """
)

EDITOR = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from friday.tools.base import ToolContext
    from friday.tools.files import FILE_TOOLS, FileState

    tools = {t.name: t for t in FILE_TOOLS}

    async def main(root):
        ctx = lambda step: ToolContext(cwd=root, file_state=state, step=step)
        state = FileState()
        await tools["read_file"].run({"path": "big.txt"}, ctx(1))
        marks = ["MARK-A", "MARK-B"]
        n = 0
        while True:
            print("editing", n, flush=True)
            args = {"path": "big.txt", "old_string": marks[n % 2], "new_string": marks[1 - n % 2]}
            await tools["edit_file"].run(args, ctx(n + 2))
            n += 1

    asyncio.run(main(Path(sys.argv[1])))
    """
)


def kill_during(script: str, args: list[str], marker: str, after: int, folder: Path) -> bool:
    """Run `script`, wait until it prints `marker after` and its temp file shows up in
    `folder`, then SIGKILL it. Returns whether the temp file was there (a kill mid-write)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, env=env, text=True
    )
    seen = False
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == f"{marker} {after}":
                for _ in range(100_000):
                    if any(folder.glob("*.friday-tmp")):
                        seen = True
                        break
                    time.sleep(0.0001)
                os.kill(proc.pid, signal.SIGKILL)
                break
        else:
            pytest.fail(f"the child ended early with {proc.wait()}")
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return seen


@pytest.mark.parametrize("after", [1, 2, 3, 5])
def test_sigkill_during_a_write_leaves_old_or_new(tmp_path: Path, after: int):
    path = tmp_path / "big.bin"
    path.write_bytes(b"B" * SIZE)
    assert kill_during(WRITER, [str(path), str(SIZE)], "writing", after, tmp_path)
    data = path.read_bytes()
    assert data in (b"A" * SIZE, b"B" * SIZE)
    assert os.stat(path).st_mode & 0o777 == 0o640  # the first write finished before "writing 1"


def test_sigkill_during_edit_file_leaves_old_or_new(tmp_path: Path):
    body = "".join(f"line {n:07d} of a large file\n" for n in range(400_000))
    (tmp_path / "big.txt").write_text("MARK-A\n" + body)
    kill_during(EDITOR, [str(tmp_path)], "editing", 3, tmp_path)
    text = (tmp_path / "big.txt").read_text()
    assert text in ("MARK-A\n" + body, "MARK-B\n" + body)


def test_a_failed_write_leaves_the_file_and_no_temp(tmp_path: Path, monkeypatch):
    path = tmp_path / "f.txt"
    path.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_mode_is_applied_and_new_files_get_the_umask_default(tmp_path: Path):
    kept = tmp_path / "kept.sh"
    kept.write_bytes(b"#!/bin/sh\n")
    atomic_write(kept, b"#!/bin/sh\necho hi\n", 0o755)
    assert os.stat(kept).st_mode & 0o777 == 0o755
    fresh = tmp_path / "fresh.txt"
    atomic_write(fresh, b"x", exclusive=True)
    assert os.stat(fresh).st_mode & 0o777 == 0o666 & ~_umask()


def test_exclusive_refuses_a_path_that_appeared(tmp_path: Path):
    path = tmp_path / "race.txt"
    path.write_bytes(b"theirs")
    with pytest.raises(FileExistsError):
        atomic_write(path, b"mine", exclusive=True)
    assert path.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["race.txt"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
