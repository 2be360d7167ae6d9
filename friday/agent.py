"""The ReAct loop: reason (model call), act (tool calls), observe (results), repeat.

`Agent.run(prompt)` is an async iterator of events and the agent's only output. Each run
has its own task and event queue, so tool calls running side by side can report as they
go, and `interrupt()` stops the model or the tools at once. However a run ends
(finished, interrupted, abandoned by its consumer, failed), the history it leaves is
well-formed: every tool call answered, partial text kept and marked.
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
    ContextUsage,
    ErrorOccurred,
    Event,
    ModelFellBack,
    ModelRequested,
    ModelResponded,
    ModelRetried,
    SessionStarted,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    TurnFinished,
    TurnStarted,
)
from friday.messages import Msg, TextBlock, ToolUseBlock, Usage
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
    ToolCallArgs,
    ToolCallBegan,
)
from friday.tool_runner import INTERRUPTED_RESULT, ToolRunner
from friday.tools.base import ToolRegistry

__all__ = ["INTERRUPTED_RESULT", "Agent", "AgentConfig"]

ABANDONED_RESULT = "Not run: the run ended before this call finished."


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

    def __init__(
        self, reason: str, error: str | None = None, kind: str | None = None, result: str = ""
    ) -> None:
        super().__init__(reason)
        self.reason, self.error, self.kind, self.result = reason, error, kind, result


class _Interrupted(Exception):
    """Raised at a step boundary when an interrupt arrived that nothing awaited saw."""


@dataclass
class _Run:
    """The state of one `run()`."""

    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)
    interrupt: str | None = None
    started: bool = False
    partial: str = ""
    calls: dict[int, tuple[str, str]] = field(default_factory=dict)  # streamed tool calls
    runner: ToolRunner | None = None
    cancelled_calls: list[str] = field(default_factory=list)


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
        context: Any = None,
    ) -> None:
        self.model = model
        self.tools = tools
        self.config = config
        self.middleware = list(middleware)
        self.cost = cost
        self.history: list[Msg] = list(history or [])
        self.file_state = file_state
        self.context = context  # a ContextManager, or None: the history is sent as it is
        self.step = 0  # model calls in this session
        self.usage = Usage()
        self.cost_usd: float | None = 0.0
        self.session_id = config.session_id
        self._seq = 0
        self._started = False
        self._run_state = _Run()
        self._task: asyncio.Task[None] | None = None
        self._interrupted_note: str | None = None

    # -- control surface -------------------------------------------------------------

    def run(self, prompt: str | Msg) -> AsyncIterator[Event]:
        """Run one user turn to its end, yielding every event."""
        message = Msg.user(prompt) if isinstance(prompt, str) else prompt
        return self._drive(lambda state: self._run(message, state))

    def compact(self, focus: str | None = None) -> AsyncIterator[Event]:
        """Compact the history now (the TUI's `/compact [focus]`), yielding the events:
        one `context.compacted`, or `agent.interrupted` when interrupted, which leaves
        the history as it was."""
        return self._drive(lambda state: self._compact_now(focus, state), compacting=True)

    async def _drive(
        self, work: Callable[[_Run], Any], *, compacting: bool = False
    ) -> AsyncIterator[Event]:
        """Start `work` as this run's task and yield its events until it ends; a consumer
        that stops early cancels it."""
        if self.running:
            raise RuntimeError("the agent is already running; interrupt it first")
        if compacting and self.context is None:
            raise RuntimeError("this agent has no context manager to compact with")
        state = self._run_state = _Run()
        task = self._task = asyncio.create_task(work(state))
        task.add_done_callback(lambda _t: state.queue.put_nowait(None))
        try:
            while (event := await state.queue.get()) is not None:
                yield event
        finally:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def interrupt(self, reason: str = "user") -> bool:
        """Stop the model stream or running tools now. Returns False when idle."""
        state = self._run_state
        if not self.running or state.interrupt is not None:
            return False
        state.interrupt = reason
        if state.runner is not None:
            state.runner.cancel()  # tools that poll ctx.cancelled see it too
        if state.started and self._task is not None:
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

    async def _compact_now(self, focus: str | None, state: _Run) -> None:
        state.started = True
        try:
            if state.interrupt is not None:
                raise _Interrupted
            self._session_started()
            await self._prepare_context(focus=focus, force=True)
        except (asyncio.CancelledError, _Interrupted):
            if state.interrupt is None:
                raise
            if (task := asyncio.current_task()) is not None and task.cancelling():
                task.uncancel()
            self.emit(AgentInterrupted, reason=state.interrupt, partial_text="")
        except Exception as exc:  # a bug must end with an event, not hang a UI
            self.emit(ErrorOccurred, kind="internal", message=f"internal error: {exc!r}")

    async def _prepare_context(self, *, focus: str | None = None, force: bool = False) -> None:
        """Let the context manager mask or compact before a request. Its answer is
        applied in one step after the last await, so an interrupt never half-applies it."""
        if self.context is None:
            return
        prepared = await self.context.prepare(
            self.history,
            self.config.system_prompt,
            self.tools.specs(),
            self.model,
            focus=focus,
            force=force,
        )
        self.history[:] = prepared.history
        self.config.system_prompt = prepared.system
        for cls, payload in prepared.events:
            self.emit(cls, **payload)

    def emit(self, cls: type[Event], **payload: Any) -> None:
        self._seq += 1
        event = cls(seq=self._seq, ts=time.time(), session_id=self.session_id, **payload)
        self._run_state.queue.put_nowait(event)

    # -- the loop ----------------------------------------------------------------------

    async def _run(self, message: Msg, state: _Run) -> None:
        state.started = True
        start = time.monotonic()
        turns = 0
        result, reason, error, kind = "", "end_turn", None, None
        try:
            if state.interrupt is not None:  # interrupted before the loop began
                raise _Interrupted
            self._session_started()
            message = self._with_steering_note(message)
            self.emit(TurnStarted, message=message)
            self.history.append(message)
            while True:
                self._check_limits(turns, state)
                turns += 1
                self.step += 1
                reply = await self._call_model(state)
                if not reply.tool_uses:
                    result = reply.text
                    _check_final(reply, self.config.max_tokens)
                    break
                await self._run_tools(reply.tool_uses, state)
        except _Stop as stop:
            reason, error, kind, result = stop.reason, stop.error, stop.kind, stop.result
        except (asyncio.CancelledError, _Interrupted):
            if state.interrupt is None:  # cancelled from outside: keep history sound, stop
                state.interrupt = "cancelled"
                self._record_interrupt(state)
                raise
            if (task := asyncio.current_task()) is not None and task.cancelling():
                task.uncancel()
            reason, result = "interrupted", self._record_interrupt(state)
        except Exception as exc:  # a bug must end the run with an event, not hang a UI
            reason, error, kind = "error", f"internal error: {exc!r}", "internal"
        if error:
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
        if self.context is not None and not self.context.window_known:
            self.emit(
                ErrorOccurred,
                kind="context_window",
                message=f"the context window of {self.model.name} is unknown: assuming "
                f"{self.context.window:,} tokens; set `window` under [context] in the config "
                "(or FRIDAY_CONTEXT_WINDOW) to use more",
                recoverable=True,
            )

    def _check_limits(self, turns: int, state: _Run) -> None:
        if state.interrupt is not None:
            raise _Interrupted  # a tool swallowed the cancellation
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

    async def _call_model(self, state: _Run) -> Msg:
        cfg = self.config
        await self._prepare_context()
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
        if self.context is not None:
            estimate = self.context.measure(request.system, request.tools, request.messages)
        else:
            estimate = estimate_tokens(request)
        self.emit(
            ModelRequested,
            model=self.model.name,
            message_count=len(request.messages),
            estimated_input_tokens=estimate,
        )
        state.partial, state.calls = "", {}
        reply: Msg | None = None
        try:
            async for ev in self.model.stream(request):
                reply = self._on_stream_event(ev, state) or reply
        except ModelError as exc:
            raise _Stop("error", exc.message, exc.kind) from None
        if reply is None:
            raise _Stop("error", f"{self.model.name} ended without a response", "internal")
        for mw in self.middleware:
            reply = await mw.after_model(request, reply)
        state.partial = ""
        if not reply.content:
            raise _Stop(
                "error",
                f"{self.model.name} returned an empty response (stop reason: {reply.stop_reason})",
                "empty_response",
            )
        self.history.append(reply)
        self._account(reply)
        if self.context is not None:
            self.emit(ContextUsage, **self.context.observe(reply.usage))
        return reply

    def _account(self, reply: Msg) -> None:
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

    def _on_stream_event(self, ev: Any, state: _Run) -> Msg | None:
        match ev:
            case TextChunk(text=text):
                state.partial += text
                self.emit(TextDelta, text=text)
            case ThinkingChunk(text=text):
                self.emit(ThinkingDelta, text=text)
            case ToolCallBegan(index=index, id=call_id, name=name):
                state.calls[index] = (call_id, name)
                self.emit(ToolCallDelta, index=index, call_id=call_id, name=name, fragment="")
            case ToolCallArgs(index=index, fragment=fragment):
                call_id, name = state.calls.get(index, ("", ""))
                self.emit(ToolCallDelta, index=index, call_id=call_id, name=name, fragment=fragment)
            case Retrying():
                state.partial, state.calls = "", {}
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
                state.partial, state.calls = "", {}
                self.emit(
                    ModelFellBack,
                    from_model=ev.from_model,
                    to_model=ev.to_model,
                    error=ev.error.message,
                )
            case Completed(message=message):
                return message
        return None

    async def _run_tools(self, calls: list[ToolUseBlock], state: _Run) -> None:
        runner = state.runner = ToolRunner(
            self.tools,
            self.middleware,
            self.emit,
            cwd=self.config.cwd,
            step=self.step,
            file_state=self.file_state,
            stopped=lambda: state.interrupt is not None,
            cap=self.context.cap_result if self.context is not None else None,
        )
        try:
            await runner.run(calls)
        finally:
            # Always one complete result message, whatever stopped the calls.
            text = INTERRUPTED_RESULT if state.interrupt is not None else ABANDONED_RESULT
            state.cancelled_calls = [c.id for c in calls if c.id not in runner.results]
            self.history.append(Msg("user", tuple(runner.close(calls, text))))
            state.runner = None

    # -- interrupts --------------------------------------------------------------------

    def _record_interrupt(self, state: _Run) -> str:
        """Keep what was produced and note the interruption for the next user message."""
        partial, state.partial = state.partial, ""
        if partial:
            self.history.append(
                Msg(
                    "assistant",
                    (TextBlock(partial),),
                    stop_reason="interrupted",
                    meta={"interrupted": True},
                )
            )
        cancelled = state.cancelled_calls
        what = f"tool call(s) {', '.join(cancelled)}" if cancelled else "your response"
        self._interrupted_note = f"[The user interrupted {what}.]"
        self.emit(
            AgentInterrupted,
            reason=state.interrupt or "user",
            partial_text=partial,
            cancelled_tool_calls=cancelled,
        )
        return partial

    def _with_steering_note(self, message: Msg) -> Msg:
        if self._interrupted_note is None:
            return message
        note, self._interrupted_note = self._interrupted_note, None
        return Msg("user", (TextBlock(note), *message.content))


def _check_final(reply: Msg, max_tokens: int) -> None:
    """A final answer that was cut off or refused is not a success."""
    if reply.stop_reason == "max_tokens":
        raise _Stop(
            "error",
            f"the answer was cut at the output limit of {max_tokens} tokens; raise max_tokens "
            "in the config, or ask for a shorter answer",
            "max_tokens",
            result=reply.text,
        )
    if reply.stop_reason == "refusal":
        raise _Stop("error", "the model refused to answer", "refusal", result=reply.text)


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
