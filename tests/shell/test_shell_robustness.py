"""Edge cases found in review: names that are not UTF-8, a directory that cannot be
entered, the private home of the cwd record, and the pipe's event-loop registration."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from friday.tools.shell import process, run
from tests.shell.conftest import Pids, Shell


async def test_a_directory_name_that_is_not_utf8_reaches_the_model_as_text(
    shell: Shell, tmp_path: Path
):
    odd = os.fsdecode(b"d\xff")
    (shell.root / odd).mkdir()
    result = await shell.ok("cd $'d\\xff'")
    result.text.encode("utf-8")  # a lone surrogate here would break the next request
    assert result.text.endswith("[cwd: d\ufffd]")
    assert result.meta["cwd"] == f"{shell.root}/d\ufffd"
    assert shell.session.cwd == shell.root / odd  # the real directory is kept
    outside = tmp_path / odd
    outside.mkdir()
    away = await shell.ok(f"cd {tmp_path}/$'d\\xff'")
    away.text.encode("utf-8")
    assert f"[the shell is now in {tmp_path}/d\ufffd, outside the workspace" in away.text


async def test_a_directory_that_cannot_be_entered_sends_the_shell_home(
    shell: Shell, monkeypatch: pytest.MonkeyPatch
):
    (shell.root / "locked").mkdir()
    await shell.ok("cd locked")
    spawn = process.spawn

    def refuse_locked(bash: str, script: str, cwd: str, env: dict[str, str]):
        if cwd.endswith("locked"):  # what chdir into a mode-000 directory gives a user
            raise PermissionError(13, "Permission denied")
        return spawn(bash, script, cwd, env)

    monkeypatch.setattr(process, "spawn", refuse_locked)
    failed = await shell.call("ls")
    assert failed.is_error
    assert failed.text == (
        f"could not start bash in {shell.root}/locked: Permission denied; the shell is back "
        f"in the workspace root {shell.root}: cd to where the command should run and try again."
    )
    assert shell.session.cwd == shell.root
    assert (await shell.ok("pwd")).text.startswith(f"{shell.root}\n")


async def test_the_cwd_record_lives_in_a_private_folder_removed_after(
    shell: Shell, monkeypatch: pytest.MonkeyPatch
):
    records: list[str] = []
    wrap = run.wrap

    def spy(command: str, cwd_file: str) -> str:
        records.append(cwd_file)
        return wrap(command, cwd_file)

    monkeypatch.setattr(run, "wrap", spy)
    modes: list[int] = []

    def on_emit(_text: str) -> None:
        modes.append(stat.S_IMODE(os.stat(os.path.dirname(records[0])).st_mode))

    result = await shell.call("echo hi", on_emit)
    assert not result.is_error
    assert modes == [0o700]  # not a shared, world-writable /tmp
    assert not os.path.exists(os.path.dirname(records[0]))


async def test_the_pipe_is_unregistered_from_the_loop_before_it_is_closed(
    shell: Shell, pids: Pids, monkeypatch: pytest.MonkeyPatch
):
    """A process outside the session holds the pipe, so the reader is still waiting when
    the call ends: a stale registration for a closed descriptor would be inherited by the
    next file opened with the same number."""
    stale: list[bool] = []
    close = run.Job._close

    def checked_close(job: run.Job) -> None:
        fd = job.proc.stdout.fileno()
        close(job)
        stale.append(asyncio.get_running_loop().remove_reader(fd))

    monkeypatch.setattr(run.Job, "_close", checked_close)
    result = await shell.call(
        "setsid sh -c 'echo $$ >> \"$PIDS\"; exec sleep 300' & sleep 0.2; echo done",
        timeout=600,
    )
    assert "still holds its output open" in result.text
    assert stale == [False]
