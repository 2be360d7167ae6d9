"""The ReAct loop: reason (model call), act (tool calls), observe (results), repeat.

`Agent.run(prompt)` is an async iterator of events and the agent's only output. The
loop runs in its own task and puts events on a queue, so tool calls running side by
side can report as they go and `interrupt()` can stop the model or the tools at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from friday import __version__
from friday.events import (
    AgentInterrupted,
    ErrorOccurred,
    Event,
    ModelFellBack,
    ModelRequested,
    ModelResponded,
    ModelRetried,
    SessionStarted,
    TextDelta,
    ThinkingDelta,
    ToolFinished,
    ToolOutputDelta,
    ToolStarted,
    TurnFinished,
    TurnStarted,
)
from friday.messages import Msg, TextBlock, ToolResultBlock, ToolUseBlock, Usage
from friday.middleware import Middleware
from friday.models.base import (
    Completed,
    FellBack,
    Model,
    ModelError,
    Request,
    Retrying,
    TextChunk,
    ThinkingChunk,
)
from friday.tools.base import ToolContext, ToolError, ToolRegistry

INTERRUPTED_RESULT = "Interrupted by user: the call was stopped before it finished."


@dataclass
class AgentConfig:
    system_prompt: str
    cwd: Path
    max_turns: int | None = None
    max_budget_usd: float | None = None
    max_tokens: int = 16000
    thinking: dict[str, Any] | None = None
    permission_mode: str = "default"
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class _Stop(Exception):
    """Ends the loop with a stop reason (max_turns, max_budget, error)."""

    def __init__(self, reason: str, error: str | None = None, kind: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error
        self.kind = kind


class Agent:
    def __init__(
        self,
        model: Model,
        tools: ToolRegistry,
        config: AgentConfig,
        *,
        middleware: Sequence[Middleware] = (),
        cost: Callable[[Msg], float | None] = lambda _msg: None,
        history: list[Msg] | None = None,
        file_state: Any = None,
    ) -> None:
        self.model = model
        self.tools = tools
        self.config = config
        self.middleware = list(middleware)
        self.cost = cost
        self.history: list[Msg] = list(history or [])
        self.file_state = file_state
        self.step = 0  # model calls in this session
        self.usage = Usage()
        self.cost_usd: float | None = 0.0
        self.session_id = config.session_id
        self._seq = 0
        self._started = False
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._interrupt: str | None = None
        self._interrupted_note: str | None = None
        self._partial = ""
        self._loop_started = False
        self._open_calls: dict[str, ToolUseBlock] = {}
        self._finished_results: dict[str, ToolResultBlock] = {}

    # -- control surface -------------------------------------------------------------

    async def run(self, prompt: str | Msg) -> AsyncIterator[Event]:
        """Run one user turn to its end, yielding every event."""
        if self._task is not None and not self._task.done():
            raise RuntimeError("the agent is already running; interrupt it first")
        message = Msg.user(prompt) if isinstance(prompt, str) else prompt
        self._interrupt = None
        self._loop_started = False
        self._task = asyncio.create_task(self._run(message))
        self._task.add_done_callback(lambda _t: self._queue.put_nowait(None))
        try:
            while (event := await self._queue.get()) is not None:
                yield event
        finally:
            if not self._task.done():
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def interrupt(self, reason: str = "user") -> bool:
        """Stop the model stream or running tools now. Returns False when idle."""
        if self._task is None or self._task.done() or self._interrupt is not None:
            return False
        self._interrupt = reason
        if self._loop_started:
            self._task.cancel()
        return True

    async def aclose(self) -> None:
        """Release the model's connections; call before the event loop ends."""
        close = getattr(self.model, "aclose", None)
        if close is not None:
            await close()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- events ------------------------------------------------------------------------

    def emit(self, cls: type[Event], **payload: Any) -> None:
        self._seq += 1
        self._queue.put_nowait(
            cls(seq=self._seq, ts=time.time(), session_id=self.session_id, **payload)
        )

    # -- the loop ----------------------------------------------------------------------

    async def _run(self, message: Msg) -> None:
        self._loop_started = True
        start = time.monotonic()
        turns = 0
        result, reason, error, kind = "", "end_turn", None, None
        try:
            if self._interrupt is not None:  # interrupted before the loop began
                raise asyncio.CancelledError
            self._session_started()
            message = self._with_steering_note(message)
            self.emit(TurnStarted, message=message)
            self.history.append(message)
            while True:
                self._check_limits(turns)
                turns += 1
                self.step += 1
                reply = await self._call_model()
                if not reply.tool_uses:
                    result = reply.text
                    break
                await self._run_tools(reply.tool_uses)
        except _Stop as stop:
            reason, error, kind = stop.reason, stop.error, stop.kind
        except asyncio.CancelledError:
            if self._interrupt is None:
                raise  # cancelled from outside: no turn to finish
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            reason, result = "interrupted", self._record_interrupt()
        except Exception as exc:  # a bug must end the run with an event, not hang a UI
            reason, error, kind = "error", f"internal error: {exc!r}", "internal"
        if error:
            self._close_open_calls(f"Not run: {error}")
            self.emit(ErrorOccurred, kind=kind or "internal", message=error)
        self.emit(
            TurnFinished,
            stop_reason=reason,
            result=result,
            usage=self.usage,
            cost_usd=self.cost_usd,
            turns=turns,
            duration_ms=int((time.monotonic() - start) * 1000),
            error=error,
            error_kind=kind,
        )

    def _session_started(self) -> None:
        if self._started:
            return
        self._started = True
        self.emit(
            SessionStarted,
            cwd=str(self.config.cwd),
            model=self.model.name,
            version=__version__,
            permission_mode=self.config.permission_mode,
            tools=self.tools.names(),
        )

    def _check_limits(self, turns: int) -> None:
        cfg = self.config
        if cfg.max_turns is not None and turns >= cfg.max_turns:
            raise _Stop("max_turns", f"reached the limit of {cfg.max_turns} turns", "max_turns")
        if (
            cfg.max_budget_usd is not None
            and self.cost_usd is not None
            and self.cost_usd >= cfg.max_budget_usd
        ):
            raise _Stop(
                "max_budget",
                f"spent ${self.cost_usd:.4f}, reaching the budget of ${cfg.max_budget_usd:.4f}",
                "budget",
            )

    async def _call_model(self) -> Msg:
        cfg = self.config
        request = Request(
            system=cfg.system_prompt,
            messages=tuple(self.history),
            tools=self.tools.specs(),
            max_tokens=cfg.max_tokens,
            thinking=cfg.thinking,
            cache_key=self.session_id,
        )
        for mw in self.middleware:
            request = await mw.before_model(request)
        self.emit(
            ModelRequested,
            model=self.model.name,
            message_count=len(request.messages),
            estimated_input_tokens=estimate_tokens(request),
        )
        self._partial = ""
        reply: Msg | None = None
        try:
            async for ev in self.model.stream(request):
                reply = self._on_stream_event(ev) or reply
        except ModelError as exc:
            raise _Stop("error", exc.message, exc.kind) from None
        if reply is None:
            raise _Stop(
                "error", f"{self.model.name} ended its stream without a response", "internal"
            )
        for mw in self.middleware:
            reply = await mw.after_model(request, reply)
        self._partial = ""
        if not reply.content:
            raise _Stop(
                "error",
                f"{self.model.name} returned an empty response (stop reason: {reply.stop_reason})",
                "empty_response",
            )
        self.history.append(reply)
        usage = reply.usage or Usage()
        self.usage = self.usage + usage
        cost = self.cost(reply)
        if cost is None:
            if self.cost_usd is not None and self.config.max_budget_usd is not None:
                self.emit(
                    ErrorOccurred,
                    kind="budget",
                    message=f"the price of {reply.model or self.model.name} is unknown: "
                    "--max-budget-usd cannot be enforced",
                    recoverable=True,
                )
            self.cost_usd = None
        elif self.cost_usd is not None:
            self.cost_usd += cost
        self.emit(
            ModelResponded,
            message=reply,
            usage=usage,
            stop_reason=reply.stop_reason,
            model=reply.model or self.model.model_id,
            cost_usd=cost,
        )
        return reply

    def _on_stream_event(self, ev: Any) -> Msg | None:
        match ev:
            case TextChunk(text=text):
                self._partial += text
                self.emit(TextDelta, text=text)
            case ThinkingChunk(text=text):
                self.emit(ThinkingDelta, text=text)
            case Retrying():
                self._partial = ""
                self.emit(
                    ModelRetried,
                    model=ev.model,
                    attempt=ev.attempt,
                    max_attempts=ev.max_attempts,
                    error=ev.error.message,
                    status=ev.error.status,
                    delay=ev.delay,
                )
            case FellBack():
                self._partial = ""
                self.emit(
                    ModelFellBack,
                    from_model=ev.from_model,
                    to_model=ev.to_model,
                    error=ev.error.message,
                )
            case Completed(message=message):
                return message
        return None

    # -- tools -------------------------------------------------------------------------

    async def _run_tools(self, calls: list[ToolUseBlock]) -> None:
        self._open_calls = {c.id: c for c in calls}
        results: dict[str, ToolResultBlock] = {}

        async def one(call: ToolUseBlock) -> None:
            results[call.id] = await self._run_tool(call)
            self._open_calls.pop(call.id, None)

        parallel = len(calls) > 1 and all(
            (t := self.tools.get(c.name)) is not None and t.read_only for c in calls
        )
        try:
            if parallel:
                await asyncio.gather(*(one(c) for c in calls))
            else:
                for call in calls:
                    await one(call)
        finally:
            # When stopped early, the calls that did finish keep their results and the
            # rest are closed by _close_open_calls: the history stays well-formed.
            if not self._open_calls:
                self.history.append(Msg("user", tuple(results[c.id] for c in calls)))
            else:
                self._finished_results = results

    async def _run_tool(self, call: ToolUseBlock) -> ToolResultBlock:
        started = time.monotonic()
        self.emit(ToolStarted, call_id=call.id, name=call.name, arguments=call.input)
        ctx = ToolContext(
            cwd=self.config.cwd,
            call_id=call.id,
            emit=lambda text: self.emit(ToolOutputDelta, call_id=call.id, text=text),
            emit_event=self.emit,
            step=self.step,
            file_state=self.file_state,
        )
        result = None
        for mw in self.middleware:
            result = await mw.before_tool(call, ctx)
            if result is not None:
                break
        if result is None:
            result = await self._execute(call, ctx)
        for mw in self.middleware:
            result = await mw.after_tool(call, result, ctx)
        self.emit(
            ToolFinished,
            call_id=call.id,
            name=call.name,
            result=result,
            bytes=len(result.text.encode()),
            duration_ms=int((time.monotonic() - started) * 1000),
            meta=ctx.meta,
        )
        return result

    async def _execute(self, call: ToolUseBlock, ctx: ToolContext) -> ToolResultBlock:
        def error(text: str) -> ToolResultBlock:
            return ToolResultBlock(call.id, text, is_error=True)

        tool = self.tools.get(call.name)
        if tool is None:
            known = ", ".join(self.tools.names()) or "none"
            return error(f"Unknown tool {call.name!r}. Available tools: {known}.")
        if call.input_error:
            return error(
                f"The arguments for {call.name} were not usable: {call.input_error}. "
                "Call the tool again with a JSON object that matches its schema."
            )
        try:
            out = await tool.run(call.input, ctx)
        except ToolError as exc:
            return error(str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return error(f"{call.name} failed: {type(exc).__name__}: {exc}")
        return ToolResultBlock(call.id, out.content, is_error=out.is_error)

    # -- interrupts --------------------------------------------------------------------

    def _record_interrupt(self) -> str:
        """Keep what was produced, close open tool calls, and note the interruption for
        the next user message."""
        partial, self._partial = self._partial, ""
        if partial:
            self.history.append(
                Msg(
                    "assistant",
                    (TextBlock(partial),),
                    stop_reason="interrupted",
                    meta={"interrupted": True},
                )
            )
        cancelled = self._close_open_calls(INTERRUPTED_RESULT)
        what = f"tool call(s) {', '.join(cancelled)}" if cancelled else "your response"
        self._interrupted_note = f"[The user interrupted {what}.]"
        self.emit(
            AgentInterrupted,
            reason=self._interrupt or "user",
            partial_text=partial,
            cancelled_tool_calls=cancelled,
        )
        return partial

    def _close_open_calls(self, text: str) -> list[str]:
        """Answer every tool call of the last response that has no result yet."""
        open_ids = list(self._open_calls)
        if open_ids:
            done = self._finished_results
            calls = self.history[-1].tool_uses
            results = [done.get(c.id) or ToolResultBlock(c.id, text, is_error=True) for c in calls]
            self.history.append(Msg("user", tuple(results)))
        self._open_calls, self._finished_results = {}, {}
        return open_ids

    def _with_steering_note(self, message: Msg) -> Msg:
        if self._interrupted_note is None:
            return message
        note, self._interrupted_note = self._interrupted_note, None
        return Msg("user", (TextBlock(note), *message.content))


def estimate_tokens(request: Request) -> int:
    """A cheap estimate (4 characters a token) until the context layer counts with
    tiktoken; the provider's usage is the truth once a response arrives."""
    chars = len(request.system) + sum(
        len(s.name) + len(s.description) + len(str(s.parameters)) for s in request.tools
    )
    for m in request.messages:
        for b in m.content:
            chars += len(str(getattr(b, "text", "") or getattr(b, "input", "") or ""))
    return chars // 4
