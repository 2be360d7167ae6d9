"""`friday -p`: one task, no UI. The result goes to stdout (text, one JSON object, or a
JSON line per event); progress goes to stderr only when it is a terminal or --verbose
is set; every failure is one line on stderr and an exit code (see friday.cli)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import IO, Any

from friday.events import (
    ContextCompacted,
    ContextMasked,
    ErrorOccurred,
    Event,
    ModelFellBack,
    ModelRetried,
    PermissionResolved,
    ToolFinished,
    ToolStarted,
    TurnFinished,
)
from friday.exit_codes import (
    EXIT_BUDGET,
    EXIT_FAILED,
    EXIT_MAX_TURNS,
    EXIT_OK,
    EXIT_RETRYABLE,
    EXIT_SIGINT,
    EXIT_SIGPIPE,
    EXIT_SIGTERM,
    EXIT_USAGE,
)
from friday.messages import Usage
from friday.models.base import RETRYABLE_KINDS
from friday.ui.claude_format import StreamJsonMapper, usage_dict

MAX_STDIN_BYTES = 10 * 1024 * 1024
# With a task given as an argument, stdin is only extra context: a parent process that
# leaves it open and silent (a pipe never closed) must not hang the run.
STDIN_WAIT_SECONDS = 3.0
CONFIG_KINDS = {"auth", "permission", "not_found", "config", "bad_response"}


class UsageError(Exception):
    """A user mistake: one line on stderr, exit 2."""


# -- input -------------------------------------------------------------------------------


def read_stdin(
    stream: IO[bytes], limit: int = MAX_STDIN_BYTES, *, wait: float | None = None
) -> str | None:
    """Stdin as text, bounded. With `wait`, give up (None) when a pipe stays silent
    that long without data or end of file."""
    if wait is not None and not _ready(stream, wait):
        return None
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UsageError(
            f"stdin is larger than {limit // (1024 * 1024)} MiB; pipe less "
            "(e.g. `tail -c 1000000 FILE | friday -p ...`) or name the file in the task"
        )
    if b"\x00" in data[:8192]:
        raise UsageError(
            f"stdin looks binary ({len(data)} bytes with NUL bytes); friday -p reads text"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"stdin is not UTF-8 text (bad byte at offset {exc.start}); convert it first, "
            "e.g. with iconv"
        ) from None


def _ready(stream: IO[bytes], wait: float) -> bool:
    """True when reading `stream` will not block forever: data or end of file within
    `wait` seconds (streams without a file descriptor are always ready)."""
    import select

    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return True
    try:
        readable, _, _ = select.select([fd], [], [], wait)
    except (OSError, ValueError):
        return True
    return bool(readable)


def compose_task(prompt: str | None, stdin_text: str | None) -> str:
    """`-p TASK`, `-p` reading the task from stdin, or TASK with stdin attached."""
    if prompt is not None and not prompt.strip():
        raise UsageError('the task is empty: pass it as friday -p "TASK" or on stdin')
    if prompt is None:
        if stdin_text is None or not stdin_text.strip():
            raise UsageError('no task given: run friday -p "TASK", or pipe the task on stdin')
        return stdin_text
    if stdin_text and stdin_text.strip():
        return f"{prompt}\n\n<stdin>\n{stdin_text.rstrip()}\n</stdin>"
    return prompt


# -- output ------------------------------------------------------------------------------


class Output:
    """Writes what the chosen format wants; keeps the figures for the result object."""

    def __init__(
        self, fmt: str, *, partial: bool, progress: bool, out: IO[str], err: IO[str]
    ) -> None:
        self.fmt = fmt
        self.progress = progress
        self.out = out
        self.err = err
        self.mapper = StreamJsonMapper(partial=partial)
        self.denials: list[dict[str, Any]] = []
        self.broken = False
        self.on_broken: Any = lambda: None
        self.pending_tools: dict[str, dict[str, Any]] = {}

    def event(self, ev: Event) -> None:
        if isinstance(ev, ToolStarted):
            self.pending_tools[ev.call_id] = {"tool_name": ev.name, "tool_input": ev.arguments}
        if isinstance(ev, PermissionResolved) and ev.decision == "deny":
            info = self.pending_tools.get(ev.request_id, {"tool_name": ev.tool, "tool_input": {}})
            self.denials.append({"tool_use_id": ev.request_id, **info})
        if self.fmt == "stream-json":
            for line in self.mapper.map(ev):
                self._line(line)
        if self.progress:
            self._progress(ev)

    def _progress(self, ev: Event) -> None:
        match ev:
            case ToolStarted(name=name, arguments=args):
                shown = json.dumps(args, ensure_ascii=False)
                self.note(f"> {name} {shown[:120]}")
            case ToolFinished(name=name, result=result) if result.is_error:
                self.note(f"! {name}: {result.text.splitlines()[0][:160] if result.text else ''}")
            case ModelRetried():
                self.note(
                    f"~ {ev.model}: attempt {ev.attempt} of {ev.max_attempts} failed "
                    f"({ev.error}); retrying in {ev.delay:.1f}s"
                )
            case ModelFellBack():
                self.note(f"~ {ev.from_model} failed ({ev.error}); falling back to {ev.to_model}")
            case ErrorOccurred(recoverable=True):
                self.note(f"! {ev.message}")
            case ContextCompacted():
                how = "summarized" if ev.method == "summary" else f"masked ({ev.error})"
                self.note(f"~ context {how}: {ev.tokens_before:,} -> {ev.tokens_after:,} tokens")
            case ContextMasked():
                self.note(
                    f"~ {len(ev.call_ids)} old tool outputs masked: "
                    f"{ev.tokens_before:,} -> {ev.tokens_after:,} tokens"
                )

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def _line(self, obj: dict[str, Any]) -> None:
        self._write(json.dumps(obj, ensure_ascii=False) + "\n")

    def _write(self, text: str) -> None:
        """Write to stdout; when its reader has gone (`| head -1`), stop writing and
        tell the runner, which stops the agent instead of paying for unread output."""
        if self.broken:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:
            self.broken = True
            _silence(self.out)
            self.on_broken()

    def finish(self, result: dict[str, Any]) -> None:
        if self.fmt != "text":
            self._line(result)
        elif not result["is_error"] and (text := result["result"]):
            # stdout carries only a successful answer: `out=$(friday -p ...)` never
            # mistakes partial text for one
            self._write(text if text.endswith("\n") else text + "\n")
        if result["is_error"] and result.get("errors") and not self.broken:
            print(f"friday: error: {result['errors'][0]}", file=self.err, flush=True)
        if self.progress:
            self.note(summary_line(result))


def summary_line(result: dict[str, Any]) -> str:
    u = result["usage"]
    cost = result["total_cost_usd"]
    shown = "unknown" if cost is None else f"${cost:.4f}"
    return (
        f"{result['num_turns']} turn(s), {u['input_tokens']} in "
        f"(+{u['cache_read_input_tokens']} cached) / {u['output_tokens']} out tokens, "
        f"cost {shown}, {result['duration_ms'] / 1000:.1f}s"
    )


_SUBTYPES = {
    "end_turn": "success",
    "max_turns": "error_max_turns",
    "max_budget": "error_max_budget_usd",
}


def result_object(
    *,
    session_id: str,
    started: float,
    finished: TurnFinished | None,
    error: str | None = None,
    denials: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    stop = finished.stop_reason if finished else "error"
    message = error or (finished.error if finished else None)
    is_error = stop != "end_turn"
    obj: dict[str, Any] = {
        "type": "result",
        "subtype": _SUBTYPES.get(stop, "error_during_execution"),
        "is_error": is_error,
        "result": finished.result if finished else "",
        "stop_reason": stop,
        "num_turns": finished.turns if finished else 0,
        "session_id": session_id,
        "duration_ms": int((time.monotonic() - started) * 1000),
        "total_cost_usd": finished.cost_usd if finished else 0.0,
        "usage": usage_dict(finished.usage if finished else Usage()),
        "permission_denials": denials or [],
    }
    if is_error:
        obj["errors"] = [message or ("interrupted" if stop == "interrupted" else stop)]
    return obj


def exit_code(finished: TurnFinished | None) -> int:  # noqa: PLR0911
    if finished is None:
        return EXIT_FAILED
    match finished.stop_reason:
        case "end_turn":
            return EXIT_OK
        case "max_turns":
            return EXIT_MAX_TURNS
        case "max_budget":
            return EXIT_BUDGET
        case "interrupted":
            return EXIT_SIGINT
    if finished.error_kind in RETRYABLE_KINDS:
        return EXIT_RETRYABLE
    if finished.error_kind in CONFIG_KINDS:
        return EXIT_USAGE
    return EXIT_FAILED


# -- the run -------------------------------------------------------------------------------


class _Signalled(Exception):
    """SIGINT or SIGTERM before the agent runs: end with a result, not a traceback."""


class _Signals:
    """Which signal arrived, if any. Before and after the agent's event loop a signal
    raises `_Signalled` (start-up) or is only recorded (while the result is written);
    during the run the loop's handler interrupts the agent."""

    def __init__(self) -> None:
        self.name: str | None = None

    def install(self, *, raising: bool) -> None:
        def handler(signum: int, _frame: Any) -> None:
            if self.name is None:
                self.name = signal.Signals(signum).name
            if raising:
                raise _Signalled(self.name)

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, handler)

    def code(self) -> int | None:
        if self.name is None:
            return None
        return EXIT_SIGTERM if self.name == "SIGTERM" else EXIT_SIGINT


def run_headless(
    args: argparse.Namespace,
    *,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    env: dict[str, str] | None = None,
) -> int:
    signals = _Signals()
    signals.install(raising=True)
    stdin = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)
    stdout = stdout or sys.stdout or open(os.devnull, "w")  # noqa: SIM115
    stderr = stderr or sys.stderr or open(os.devnull, "w")  # noqa: SIM115
    env = dict(os.environ) if env is None else env
    started = time.monotonic()
    progress = args.verbose or (args.output_format == "text" and _isatty(stderr))
    out = Output(
        args.output_format,
        partial=args.include_partial_messages,
        progress=progress,
        out=stdout,
        err=stderr,
    )
    session_id = str(uuid.uuid4())

    def fail(message: str, code: int) -> int:
        signals.install(raising=False)
        result = result_object(session_id=session_id, started=started, finished=None, error=message)
        out.finish(result)
        return code

    try:
        cwd = _workdir(args.cwd)
        task = compose_task(args.prompt, _stdin_text(stdin, args.prompt, out))
        agent = _build(args, cwd, env, stderr)
    except UsageError as exc:
        return fail(str(exc), EXIT_USAGE)
    except (_Signalled, KeyboardInterrupt):
        return fail(
            f"interrupted ({signals.name or 'SIGINT'}) before the run started",
            signals.code() or EXIT_SIGINT,
        )
    out.on_broken = lambda: agent.interrupt("stdout closed")
    try:
        finished = asyncio.run(_drive(agent, task, out, signals))
    except (_Signalled, KeyboardInterrupt):  # between the loop's handlers and ours
        finished = None
    signals.install(raising=False)
    out.finish(
        result_object(
            session_id=agent.session_id, started=started, finished=finished, denials=out.denials
        )
    )
    if (code := signals.code()) is not None:
        return code
    if out.broken:
        return EXIT_SIGPIPE
    return exit_code(finished)


def _stdin_text(stdin: IO[bytes] | None, prompt: str | None, out: Output) -> str | None:
    if stdin is None or _isatty(stdin):
        return None
    if prompt is None:  # the task itself comes on stdin: wait for it
        return read_stdin(stdin)
    text = read_stdin(stdin, wait=STDIN_WAIT_SECONDS)
    if text is None:
        out.note(
            f"friday: note: stdin sent nothing for {STDIN_WAIT_SECONDS:.0f} s; going on without it"
        )
    return text


def _workdir(path: str | None) -> Path:
    cwd = Path(path).expanduser() if path else Path.cwd()
    if not cwd.is_dir():
        raise UsageError(f"--cwd {path}: no such directory")
    return cwd.resolve()


def _build(args: argparse.Namespace, cwd: Path, env: dict[str, str], stderr: IO[str]) -> Any:
    from friday.config import ConfigError, load_settings
    from friday.runtime import build_agent

    flags = {
        "max_turns": args.max_turns,
        "max_budget_usd": args.max_budget_usd,
        "append_system_prompt": args.append_system_prompt,
        "permission_mode": args.permission_mode,
        "permission_policy": args.policy,
    }
    fallbacks = [m.strip() for f in args.fallback_model for m in f.split(",") if m.strip()]
    holder: list[Any] = []
    approver = _approver(stderr, lambda: holder and holder[0].interrupt("user"))
    try:
        settings = load_settings(cwd, env, flags)
        agent = build_agent(
            settings,
            cwd,
            env,
            model=args.model,
            fallbacks=fallbacks,
            approver=approver,
            allow=args.allow,
            deny=args.deny,
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    holder.append(agent)
    return agent


def _approver(stderr: IO[str], interrupt: Any) -> Any:
    """A question on the terminal when the user is at one (stderr is a terminal and the
    process has a controlling terminal); None otherwise: questions become refusals."""
    if not _isatty(stderr):
        return None
    from friday.ui.approve_tty import TerminalApprover, open_terminal

    terminal = open_terminal()
    return TerminalApprover(terminal, interrupt) if terminal is not None else None


async def _check_trust(agent: Any, out: Output) -> None:
    """A project policy that loosens rules counts only once the user trusts it: ask
    when someone can answer, else say that its allow rules are ignored."""
    from friday.permissions.gate import PermissionGate

    gate = next((m for m in agent.middleware if isinstance(m, PermissionGate)), None)
    if gate is None:
        return
    policy = gate.policy
    for notice in policy.notices:
        out.note(f"friday: note: {notice}")
    if policy.untrusted_project is None or not gate.approver.interactive:
        return
    rules = [r.label() for r in policy.rules_needing_trust()]
    if await gate.approver.confirm_trust(policy.untrusted_project, rules):
        policy.trust_project()


async def _drive(agent: Any, task: str, out: Output, signals: _Signals) -> TurnFinished | None:
    loop = asyncio.get_running_loop()

    def on_signal(name: str) -> None:
        if signals.name is not None:  # a second signal: stop waiting for a clean end
            os._exit(EXIT_SIGTERM if name == "SIGTERM" else EXIT_SIGINT)
        signals.name = name
        agent.interrupt(name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig.name)
    finished = None
    try:
        await _check_trust(agent, out)
        async for ev in agent.run(task):
            out.event(ev)
            if isinstance(ev, TurnFinished):
                finished = ev
    finally:
        await agent.aclose()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        signals.install(raising=False)
    return finished


def _silence(stream: IO[str]) -> None:
    """Point a closed pipe's descriptor at /dev/null, so the flush at exit is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
