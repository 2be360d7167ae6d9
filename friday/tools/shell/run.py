"""One `bash` call from start to result: check the arguments, start bash, stream and
capture its output, stop it on timeout or interrupt, and write the text the model reads.

The whole life of the process runs in its own task, awaited through `asyncio.shield`:
cancelling the tool's task (the agent's interrupt) cannot abandon the process half way.
The tool sends SIGTERM at once, lets the life task finish the stop (SIGKILL after the
grace period, reaping, draining the pipe), puts the partial result in
`ctx.meta["partial_output"]`, and re-raises. A second cancellation while that runs sends
SIGKILL to everything at once and gives up waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from friday.tools.base import ToolContext, ToolError, ToolOutput
from friday.tools.shell import process
from friday.tools.shell.output import OutputCapture
from friday.tools.shell.session import ShellSession, text_of
from friday.tools.shell.tool import DEFAULT_TIMEOUT, MAX_TIMEOUT

# After bash exits or is killed: how long to wait for the last output to arrive.
DRAIN_S = 1.0
# Arguments longer than this cannot be passed to a program on Linux (MAX_ARG_STRLEN).
MAX_COMMAND_BYTES = 128 * 1024 - 1024

ENV_OVERRIDES = {
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "MANPAGER": "cat",
    "NO_COLOR": "1",
    "CLICOLOR": "0",
    "TERM": "dumb",
    "GIT_TERMINAL_PROMPT": "0",
    "PYTHONUNBUFFERED": "1",  # python scripts stream their output like everything else
    # No one can type into an editor here: `git commit` without -m, `git rebase -i`
    # end at once instead of waiting out the timeout.
    "GIT_EDITOR": "true",
    "GIT_SEQUENCE_EDITOR": "true",
}
ENV_REMOVED = ("FORCE_COLOR",)


def check_args(command: str, timeout: int | None) -> int:
    """The timeout to use, or a ToolError that says how to call the tool right."""
    if not command.strip():
        raise ToolError("command is empty: pass the shell command to run, e.g. `ls -la`.")
    if "\0" in command:
        raise ToolError(
            "command contains a NUL character, which cannot be passed to bash: remove it "
            "(print one with printf '\\0' if the output needs it)."
        )
    try:
        size = len(os.fsencode(command))
    except UnicodeEncodeError:
        raise ToolError(
            "command contains a lone UTF-16 surrogate (such as \\ud800), which is not text "
            "and cannot be passed to bash: remove it (write raw bytes with printf '\\xNN')."
        ) from None
    if size > MAX_COMMAND_BYTES:
        raise ToolError(
            f"command is too long to pass to bash (over {MAX_COMMAND_BYTES // 1024} KiB): "
            "write the script to a file with write_file and run `bash FILE`."
        )
    if timeout is None:
        return DEFAULT_TIMEOUT
    if not 1 <= timeout <= MAX_TIMEOUT:
        raise ToolError(
            f"timeout must be between 1 and {MAX_TIMEOUT} seconds, got {timeout}; "
            f"leave it out for the default of {DEFAULT_TIMEOUT} s."
        )
    return timeout


def shell_env() -> dict[str, str]:
    """The agent's environment, with pagers, colour and terminal prompts off: nothing
    may wait for a keypress or fill the output with escape codes."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_REMOVED}
    env.update(ENV_OVERRIDES)
    return env


def wrap(command: str, cwd_file: str) -> str:
    """The script bash runs: an EXIT trap that records the final directory (it runs after
    `exit 3`, a failing command or a syntax error further down), then the command on the
    same line, so bash's "line N" in error messages matches the model's command."""
    # A complete record ends with a newline; a lone newline means pwd failed (the
    # directory was removed). Anything else (a shell killed while writing) is unknown.
    target = shlex.quote(cwd_file)
    # TERM is ignored while it writes: the stop sequence may signal it a second time.
    record = (
        f"builtin trap '' TERM; builtin pwd -P >| {target} 2>/dev/null || builtin echo >| {target}"
    )
    return f"trap {shlex.quote(record)} EXIT; {command}"


async def run_bash(
    session: ShellSession,
    ctx: ToolContext,
    command: str,
    timeout: int | None,
    description: str | None,
) -> ToolOutput:
    limit = check_args(command, timeout)
    if description and description.strip():
        ctx.meta["description"] = " ".join(description.split())
    bash = shutil.which("bash")
    if bash is None:
        raise ToolError(
            "bash was not found on PATH: install bash (or add it to PATH) to use this tool; "
            "the file and search tools still work without it."
        )
    cwd, notes = session.start_dir()
    # The record lives in a folder only this user can enter: in a shared /tmp, another
    # user who learnt the name could create the file first and choose the next cwd.
    record_dir = tempfile.mkdtemp(prefix="friday-cwd-")
    cwd_file = os.path.join(record_dir, "cwd")  # exists once the EXIT trap has written it
    try:
        try:
            proc = process.spawn(bash, wrap(command, cwd_file), str(cwd), shell_env())
        except OSError as exc:
            raise ToolError(_spawn_failed(session, cwd, exc)) from None
        job = Job(session, ctx, proc, limit, cwd_file, notes)
        return await job.execute()
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(cwd_file)
        with contextlib.suppress(OSError):
            os.rmdir(record_dir)


def _spawn_failed(session: ShellSession, cwd: Path, exc: OSError) -> str:
    """The error for a bash that could not start. When the shell's directory is the
    cause (it cannot be entered any more), the session goes back to the root: left
    there, every later call would fail the same way and the model could not cd out."""
    why = exc.strerror or str(exc)
    if cwd == session.root:
        return f"could not start bash in {text_of(cwd)}: {why}."
    session.cwd = session.root
    return (
        f"could not start bash in {text_of(cwd)}: {why}; the shell is back in the workspace "
        f"root {text_of(session.root)}: cd to where the command should run and try again."
    )


@dataclass
class Outcome:
    exit_code: int | None = None
    timed_out: bool = False
    interrupted: bool = False
    killed_hard: bool = False  # something ignored SIGTERM
    background_stopped: bool = False
    pipe_abandoned: bool = False  # a process outside the session kept the pipe open
    notes: list[str] = field(default_factory=list)


class Job:
    """A running bash and what is known about it so far."""

    def __init__(
        self,
        session: ShellSession,
        ctx: ToolContext,
        proc: subprocess.Popen[bytes],
        limit: int,
        cwd_file: str,
        notes: list[str],
    ) -> None:
        self.session = session
        self.ctx = ctx
        self.proc = proc
        self.sid = proc.pid
        self.limit = limit
        self.cwd_file = cwd_file
        self.cwd_before = session.cwd
        self.started = time.monotonic()
        self.outcome = Outcome(notes=list(notes))
        self.capture = OutputCapture(lambda: session.open_output(ctx.call_id))
        self.emit = ctx.emit
        self.stop = asyncio.Event()
        self.duration = 0.0
        self.settled = False  # bash reaped and nothing of its session left running

    async def execute(self) -> ToolOutput:
        life = asyncio.create_task(self._life())
        try:
            return await asyncio.shield(life)
        except asyncio.CancelledError:
            self.stop.set()
            process.signal_all(self.sid, signal.SIGTERM)  # now, whatever runs next
            try:
                result = await asyncio.shield(life)
            except asyncio.CancelledError:
                process.kill_now(self.sid)
                self.ctx.meta["partial_output"] = self.render(interrupted=True)
                raise
            self.ctx.meta["partial_output"] = result.content
            raise

    # -- the process's life ----------------------------------------------------------------

    async def _life(self) -> ToolOutput:
        assert self.proc.stdout is not None
        pump = asyncio.create_task(process.read_pipe(self.proc.stdout.fileno(), self._on_data))
        exited = asyncio.create_task(process.wait_exit(self.proc))
        relay = asyncio.create_task(self._relay_cancel())
        stopped = asyncio.create_task(self.stop.wait())
        try:
            done, _ = await asyncio.wait(
                {exited, stopped}, timeout=self.limit, return_when=asyncio.FIRST_COMPLETED
            )
            # The stop flag wins over an exit: the tool signals bash as it is cancelled,
            # so bash may end from that signal before this task sees the flag.
            self.outcome.interrupted = self.stop.is_set()
            self.outcome.timed_out = not done
            if exited in done and not self.outcome.interrupted:
                await self._after_exit(pump)
            else:
                self.outcome.killed_hard = await process.terminate(
                    self.sid, self.session.kill_grace
                )
                await self._reap(exited)
                await self._drain(pump)
            self.settled = True
        finally:
            for task in (relay, stopped, pump, exited):
                task.cancel()
            self._close()
        return self._result()

    async def _relay_cancel(self) -> None:
        await self.ctx.cancelled.wait()
        self.stop.set()

    def _on_data(self, data: bytes) -> None:
        text = self.capture.feed(data)
        if text and self.emit is not None:
            try:
                self.emit(text)
            except Exception:  # a broken UI sink must not stop the pipe being drained
                self.emit = None

    async def _after_exit(self, pump: asyncio.Task[None]) -> None:
        """bash is gone. Its output may still be arriving (a pipeline's last writes) or
        held open by a background job: wait a moment, then stop whatever is left."""
        self.outcome.exit_code = _exit_code(self.proc.returncode)
        await asyncio.wait({pump}, timeout=self.session.pipe_grace)
        # Scanning the session in /proc costs milliseconds: only when the group is not
        # empty or the pipe is still open. (A job that both left the group with `set -m`
        # and redirected its output is the one case this lets go, like setsid.)
        suspect = not pump.done() or process.group_alive(self.sid)
        if suspect and process.alive(self.sid):
            self.outcome.background_stopped = True
            self.outcome.killed_hard = await process.terminate(self.sid, self.session.kill_grace)
            await self._drain(pump)
        elif not pump.done():
            self.outcome.pipe_abandoned = True

    async def _reap(self, exited: asyncio.Task[int]) -> None:
        done, _ = await asyncio.wait({exited}, timeout=DRAIN_S)
        if not done:  # cannot happen after SIGKILL, unless the kernel is stuck on I/O
            process.kill_now(self.sid)
            await asyncio.wait({exited}, timeout=DRAIN_S)

    async def _drain(self, pump: asyncio.Task[None]) -> None:
        await asyncio.wait({pump}, timeout=DRAIN_S)
        if not pump.done():
            self.outcome.pipe_abandoned = True

    def _close(self) -> None:
        """Runs on every path, also when the life task itself is cancelled (the event loop
        closing): nothing may be left running, and the pipe and file get closed."""
        if not self.settled:
            process.kill_now(self.sid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=DRAIN_S)
        if self.proc.stdout is not None:
            # The reader may still be registered (the pump was cancelled, its cleanup has
            # not run yet): unregister before closing, or a new descriptor given the same
            # number (another task's pipe or socket) would meet a stale registration.
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self.proc.stdout.fileno())
            self.proc.stdout.close()
        self.duration = time.monotonic() - self.started
        self.capture.finish()

    # -- the result --------------------------------------------------------------------------

    def _result(self) -> ToolOutput:
        reported = _read_cwd(self.cwd_file)
        self.outcome.notes += self.session.settle(reported)
        text = self.render()
        o = self.outcome
        self.ctx.meta.update(
            exit_code=o.exit_code,
            duration_ms=int(self.duration * 1000),
            timed_out=o.timed_out,
            interrupted=o.interrupted,
            truncated=self.capture.spilled,
            output_file=str(self.capture.path) if self.capture.path else None,
            cwd=text_of(self.session.cwd),
            background_stopped=o.background_stopped,
        )
        if o.interrupted:
            self.ctx.meta["partial_output"] = text
        # A timeout or an interrupt is an error result: the command did not finish, and
        # the model must not read a partial output as a complete one. A non-zero exit is
        # a normal result: the command ran, its exit code is in the text.
        return ToolOutput(text, is_error=o.timed_out or o.interrupted)

    def render(self, *, interrupted: bool = False) -> str:
        """The output, then a trailer line with how the command ended, then notes."""
        o = self.outcome
        duration = self.duration or time.monotonic() - self.started
        body = self.capture.text() or "(no output)"
        if o.timed_out:
            tail = "partial output above" if self.capture.chars else "no output"
            trailer = f"[timed out after {self.limit} s · {tail}]"
        elif o.interrupted or interrupted:
            trailer = "[interrupted]"
        else:
            trailer = f"[exit code {_describe_exit(self.proc.returncode)} · {_secs(duration)}]"
        if self.session.cwd != self.cwd_before:
            trailer += f" [cwd: {self.session.shown(self.session.cwd)}]"
        return "\n".join([body.removesuffix("\n"), trailer, *self._notes()])

    def _notes(self) -> list[str]:
        o = self.outcome
        notes = list(o.notes)
        if o.background_stopped:
            how = "SIGTERM, then SIGKILL" if o.killed_hard else "SIGTERM"
            notes.append(
                f"[processes still running when the shell exited were stopped ({how}): "
                "nothing outlives a call; start a server and its client in one command]"
            )
        elif o.killed_hard:
            notes.append("[processes that ignored SIGTERM were killed with SIGKILL]")
        if o.pipe_abandoned:
            notes.append(
                "[a process that left the command's session still holds its output open; "
                "later output from it was not read]"
            )
        if self.capture.file_error and not self.capture.spilled:
            notes.append(f"[the full output could not be saved: {self.capture.file_error}]")
        return notes


def _describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "unknown"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"{128 - returncode} (killed by {name})"
    return str(returncode)


def _secs(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _exit_code(returncode: int) -> int:
    """Like a shell's `$?`: a process killed by signal N is 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def _read_cwd(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    if not raw.endswith(b"\n"):
        return None
    return os.fsdecode(raw[:-1])
