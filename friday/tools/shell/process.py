"""Low-level process handling for the shell tool: start bash in a session of its own, read
its pipe without blocking the event loop, wait for it, and stop everything it started.

bash starts with `start_new_session=True`, so its pid is both the process group and the
session id. Stopping signals the group (one atomic kill for everything that stayed in
it) and, where /proc exists, every other process of the session too: `set -m` in a
script puts jobs in groups of their own, but they stay in the session. Only a process
that calls setsid() itself leaves; the tool then stops waiting for its output.

asyncio's own subprocess transport is not used: on some Python versions its `wait()`
does not return while a background job still holds the output pipe, which is exactly
the case that must not hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Callable
from typing import NamedTuple

CHUNK = 65536
POLL_S = 0.02
# After SIGKILL, how long to keep sweeping for processes forked while it was sent.
KILL_SWEEP_S = 1.0


def spawn(bash: str, script: str, cwd: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`bash -c SCRIPT` with stdout and stderr on one pipe (their order kept), stdin from
    /dev/null, in a new session and process group."""
    return subprocess.Popen(
        [bash, "-c", script],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        close_fds=True,
    )


# -- waiting ---------------------------------------------------------------------------------


async def _readable(fd: int) -> None:
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(fd)


async def read_pipe(fd: int, on_data: Callable[[bytes], None]) -> None:
    """Hand each chunk to `on_data` as it arrives, until end of file (every writer gone).
    Yields to the loop between full chunks, so a flood of output starves nothing."""
    os.set_blocking(fd, False)
    while True:
        try:
            data = os.read(fd, CHUNK)
        except BlockingIOError:
            await _readable(fd)
            continue
        if not data:
            return
        on_data(data)
        if len(data) == CHUNK:
            await asyncio.sleep(0)
        else:
            await _readable(fd)


async def wait_exit(proc: subprocess.Popen[bytes]) -> int:
    """Wait for bash to end and reap it: a pidfd when the kernel has them (no polling),
    else a short poll."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        while proc.poll() is None:
            await asyncio.sleep(POLL_S)
        return proc.returncode
    try:
        while proc.poll() is None:
            await _readable(pidfd)
    finally:
        os.close(pidfd)
    return proc.returncode


# -- the processes of a session --------------------------------------------------------------


class _Stat(NamedTuple):
    state: str
    pgrp: int
    session: int


def _stat(pid: int) -> _Stat | None:
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        raw = os.read(fd, 1024)
    except OSError:
        return None
    finally:
        os.close(fd)
    # "pid (comm) S ppid pgrp session ...": comm may hold spaces and parentheses.
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return _Stat(fields[0].decode(), int(fields[2]), int(fields[3]))
    except (IndexError, ValueError):
        return None


def _live(st: _Stat | None, sid: int) -> bool:
    """In the session (or the group, which is the same id) and not already dead."""
    return st is not None and sid in (st.pgrp, st.session) and st.state not in ("Z", "X")


def members(sid: int) -> list[int] | None:
    """Live processes of the session/group `sid` (zombies are dead: they only wait to be
    reaped), or None when /proc cannot tell."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    return [int(n) for n in names if n.isdigit() and _live(_stat(int(n)), sid)]


def group_alive(sid: int) -> bool:
    """Whether the process group still has a member (zombies included): one system
    call, for the common case of a command that left nothing behind."""
    try:
        os.killpg(sid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def alive(sid: int) -> bool:
    """Whether anything of the session is still running."""
    try:
        os.killpg(sid, 0)
    except ProcessLookupError:
        in_group = False
    except PermissionError:
        in_group = True
    else:
        in_group = True
    found = members(sid)
    if found is None:
        return in_group
    return bool(found)


def signal_all(sid: int, sig: int) -> None:
    """Send `sig` to the group at once, then to each other live process of the session.
    A pidfd pins the process while it is checked, so a recycled pid is never signalled."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(sid, sig)
    for pid in members(sid) or ():
        _signal_pid(pid, sid, sig)


def _signal_pid(pid: int, sid: int, sig: int) -> None:
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        if _live(_stat(pid), sid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        return
    try:
        if _live(_stat(pid), sid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                signal.pidfd_send_signal(pidfd, sig)
    finally:
        os.close(pidfd)


def kill_now(sid: int) -> None:
    """SIGKILL everything, synchronously: for when there is no time left to wait."""
    signal_all(sid, signal.SIGKILL)


async def terminate(sid: int, grace: float) -> bool:
    """SIGTERM to everything (and SIGCONT, so stopped processes can act on it); SIGKILL
    to whatever is still alive after `grace` seconds. True when SIGKILL was needed."""
    loop = asyncio.get_running_loop()
    signal_all(sid, signal.SIGTERM)
    signal_all(sid, signal.SIGCONT)
    deadline = loop.time() + grace
    while alive(sid):
        if loop.time() >= deadline:
            await _sweep(sid)
            return True
        await asyncio.sleep(POLL_S)
    return False


async def _sweep(sid: int) -> None:
    """SIGKILL until nothing is left (a process may fork between two scans), bounded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + KILL_SWEEP_S
    kill_now(sid)
    while alive(sid) and loop.time() < deadline:
        await asyncio.sleep(POLL_S)
        kill_now(sid)
