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

from friday.cli import (
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
from friday.events import (
    ErrorOccurred,
    Event,
    ModelFellBack,
    ModelRetried,
    PermissionResolved,
    ToolFinished,
    ToolStarted,
    TurnFinished,
)
from friday.messages import Usage
from friday.ui.claude_format import StreamJsonMapper, usage_dict

MAX_STDIN_BYTES = 10 * 1024 * 1024
RETRYABLE_KINDS = {
    "rate_limit",
    "overloaded",
    "server",
    "connection",
    "timeout",
    "stream_cut",
    "conflict",
}
CONFIG_KINDS = {"auth", "permission", "not_found", "config"}


class UsageError(Exception):
    """A user mistake: one line on stderr, exit 2."""


# -- input -------------------------------------------------------------------------------


def read_stdin(stream: IO[bytes], limit: int = MAX_STDIN_BYTES) -> str:
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
        if self.fmt == "text":
            text = result["result"]
            if text:
                self._write(text if text.endswith("\n") else text + "\n")
        elif self.fmt == "json":
            self._line(result)
        else:
            self._line(result)
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


def exit_code(finished: TurnFinished | None, signal_name: str | None) -> int:  # noqa: PLR0911
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
            return EXIT_SIGTERM if signal_name == "SIGTERM" else EXIT_SIGINT
    if finished.error_kind in RETRYABLE_KINDS:
        return EXIT_RETRYABLE
    if finished.error_kind in CONFIG_KINDS:
        return EXIT_USAGE
    return EXIT_FAILED


# -- the run -------------------------------------------------------------------------------


def run_headless(
    args: argparse.Namespace,
    *,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    env: dict[str, str] | None = None,
) -> int:
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
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
        if args.output_format == "text":
            print(f"friday: error: {message}", file=stderr, flush=True)
        else:
            out.finish(
                result_object(session_id=session_id, started=started, finished=None, error=message)
            )
        return code

    try:
        cwd = _workdir(args.cwd)
        piped = not _isatty(stdin)
        task = compose_task(args.prompt, read_stdin(stdin) if piped else None)
        agent = _build(args, cwd, env)
    except UsageError as exc:
        return fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_SIGINT)
    out.on_broken = lambda: agent.interrupt("stdout closed")
    finished, signal_name = asyncio.run(_drive(agent, task, out))
    out.finish(
        result_object(
            session_id=agent.session_id, started=started, finished=finished, denials=out.denials
        )
    )
    if out.broken and signal_name is None:
        return EXIT_SIGPIPE
    return exit_code(finished, signal_name)


def _workdir(path: str | None) -> Path:
    cwd = Path(path).expanduser() if path else Path.cwd()
    if not cwd.is_dir():
        raise UsageError(f"--cwd {path}: no such directory")
    return cwd.resolve()


def _build(args: argparse.Namespace, cwd: Path, env: dict[str, str]) -> Any:
    from friday.config import ConfigError, load_settings
    from friday.runtime import build_agent

    flags = {
        "max_turns": args.max_turns,
        "max_budget_usd": args.max_budget_usd,
        "append_system_prompt": args.append_system_prompt,
    }
    fallbacks = [m.strip() for f in args.fallback_model for m in f.split(",") if m.strip()]
    try:
        settings = load_settings(cwd, env, flags)
        return build_agent(settings, cwd, env, model=args.model, fallbacks=fallbacks)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


async def _drive(agent: Any, task: str, out: Output) -> tuple[TurnFinished | None, str | None]:
    loop = asyncio.get_running_loop()
    state: dict[str, Any] = {"signal": None}

    def on_signal(name: str) -> None:
        if state["signal"] is not None:  # a second signal: stop waiting for a clean end
            os._exit(EXIT_SIGTERM if name == "SIGTERM" else EXIT_SIGINT)
        state["signal"] = name
        agent.interrupt(name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig.name)
    finished = None
    try:
        async for ev in agent.run(task):
            out.event(ev)
            if isinstance(ev, TurnFinished):
                finished = ev
    finally:
        await agent.aclose()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return finished, state["signal"]


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
