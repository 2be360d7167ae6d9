"""No process outlives a call and nothing hangs: a timeout and an interrupt stop the
whole process group (grandchildren, jobs in their own groups, processes ignoring
SIGTERM), keep the partial output, and a background job holding the output pipe does
not keep the call waiting."""

from __future__ import annotations

import asyncio
import os

import pytest

from friday.tools.shell import ShellSession
from tests.shell.conftest import Pids, Shell, running

# Two grandchildren (one in a subshell that exits at once, one a job) and bash itself,
# then output and a long wait.
SPAWN = (
    '(sleep 300 & echo $! >> "$PIDS"); sleep 300 & echo $! >> "$PIDS"; '
    'echo $$ >> "$PIDS"; echo ready'
)


def test_the_grace_period_is_two_seconds():
    assert ShellSession.kill_grace == 2.0


async def test_timeout_kills_the_group_and_keeps_partial_output(shell: Shell, pids: Pids):
    result = await shell.call(f"{SPAWN}; sleep 300", timeout=1)
    assert result.is_error
    assert result.text.startswith("ready\n[timed out after 1 s · partial output above]")
    assert result.meta["timed_out"] is True and result.meta["exit_code"] is None
    found = pids.read()
    assert len(found) == 3
    assert [pid for pid in found if running(pid)] == []


async def test_timeout_without_output_says_so(shell: Shell):
    result = await shell.call("sleep 300", timeout=1)
    assert result.text.startswith("(no output)\n[timed out after 1 s · no output]")


async def test_interrupt_by_cancelling_the_task(shell: Shell, pids: Pids):
    ready = asyncio.Event()
    ctx, _chunks = shell.context(lambda text: ready.set() if "ready" in text else None)
    task = asyncio.create_task(shell.tool.run({"command": f"{SPAWN}; sleep 300"}, ctx))
    await ready.wait()
    found = await pids.wait_for(3)
    assert all(running(pid) for pid in found)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [pid for pid in found if running(pid)] == []
    # (bash may add a line of its own as SIGTERM interrupts its wait)
    assert ctx.meta["partial_output"].startswith("ready\n")
    assert "\n[interrupted]" in ctx.meta["partial_output"]
    assert "no longer exists" not in ctx.meta["partial_output"]
    assert ctx.meta["interrupted"] is True


async def test_a_second_cancel_kills_at_once(shell: Shell, pids: Pids):
    shell.session.kill_grace = 30  # the second cancel must not wait for it
    ready = asyncio.Event()
    ctx, _ = shell.context(lambda text: ready.set() if "ready" in text else None)
    command = f"trap '' TERM; {SPAWN}; while :; do sleep 0.05; done"
    task = asyncio.create_task(shell.tool.run({"command": command}, ctx))
    await ready.wait()
    found = await pids.wait_for(3)
    task.cancel()
    await asyncio.sleep(0)  # the tool is now waiting for the stop to finish
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):  # SIGKILL was sent; the kernel may need a moment to finish them
        if not any(running(pid) for pid in found):
            break
        await asyncio.sleep(0.01)
    assert [pid for pid in found if running(pid)] == []
    assert "[interrupted]" in ctx.meta["partial_output"]


async def test_interrupt_by_the_cancelled_flag(shell: Shell, pids: Pids):
    ctx, _ = shell.context()
    ctx.cancelled.clear()

    def on_emit(text: str) -> None:
        if "ready" in text:
            ctx.cancelled.set()

    ctx.emit = on_emit
    out = await shell.tool.run({"command": f"{SPAWN}; sleep 300"}, ctx)
    assert out.is_error
    assert out.content == ctx.meta["partial_output"]
    assert str(out.content).startswith("ready\n")
    assert "\n[interrupted]" in str(out.content)
    assert "no longer exists" not in str(out.content)
    assert [pid for pid in pids.read() if running(pid)] == []


async def test_a_process_ignoring_sigterm_gets_sigkill(shell: Shell, pids: Pids):
    shell.session.kill_grace = 0.3
    command = (
        "trap '' TERM; sh -c 'echo $$ >> \"$PIDS\"; while :; do sleep 0.05; done' & "
        'echo $$ >> "$PIDS"; wait'
    )
    result = await shell.call(command, timeout=1)
    assert result.meta["timed_out"] is True
    assert "[processes that ignored SIGTERM were killed with SIGKILL]" in result.text
    found = pids.read()
    assert len(found) == 2 and [pid for pid in found if running(pid)] == []


async def test_a_background_job_holding_the_pipe_does_not_hang(shell: Shell, pids: Pids):
    result = await shell.call('sleep 300 & echo $! >> "$PIDS"; echo started', timeout=600)
    assert not result.is_error
    assert result.text.startswith("started\n[exit code 0 · ")
    assert "[processes still running when the shell exited were stopped (SIGTERM)" in result.text
    assert result.meta["background_stopped"] is True
    assert [pid for pid in pids.read() if running(pid)] == []


async def test_background_job_as_the_whole_command(shell: Shell):
    result = await shell.call("sleep 300 &", timeout=600)
    assert result.meta["exit_code"] == 0 and result.meta["background_stopped"] is True


async def test_a_detached_job_with_its_own_output_is_stopped_too(shell: Shell, pids: Pids):
    result = await shell.ok('nohup sleep 300 > /dev/null 2>&1 & echo $! >> "$PIDS"')
    assert result.meta["background_stopped"] is True
    assert [pid for pid in pids.read() if running(pid)] == []


async def test_jobs_in_their_own_process_group_are_found_by_session(shell: Shell, pids: Pids):
    result = await shell.call(
        'set -m; sleep 300 & echo $! >> "$PIDS"; echo $$ >> "$PIDS"; sleep 300', timeout=1
    )
    assert result.meta["timed_out"] is True
    found = pids.read()
    assert os.getpgid(os.getpid()) not in found
    assert len(found) == 2 and [pid for pid in found if running(pid)] == []


async def test_a_process_that_left_the_session_cannot_hold_the_call(shell: Shell, pids: Pids):
    result = await shell.call(
        "setsid sh -c 'echo $$ >> \"$PIDS\"; exec sleep 300' & sleep 0.2; echo done",
        timeout=600,
    )
    assert result.text.startswith("done\n[exit code 0 · ")
    assert "still holds its output open" in result.text
    escaped = pids.read()
    assert len(escaped) == 1  # outside the session: the pids fixture kills it


async def test_stdin_is_dev_null(shell: Shell):
    result = await shell.call('cat; read line; echo "read: $?"', timeout=5)
    assert not result.is_error
    assert result.text.startswith("read: 1\n[exit code 0 · ")


async def test_a_stopped_process_is_still_killed(shell: Shell, pids: Pids):
    result = await shell.call('sleep 300 & echo $! >> "$PIDS"; kill -STOP $!; sleep 300', timeout=1)
    assert result.meta["timed_out"] is True
    assert [pid for pid in pids.read() if running(pid)] == []
