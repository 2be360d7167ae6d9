"""Running one response's tool calls: concurrently when all are read-only, in order
otherwise, each through the middleware hooks, each reported as events.

Whatever happens (an interrupt, a cancellation, a hook that raises), every call gets a
result, so the history never holds a tool_use without its tool_result.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from friday.events import ToolFinished, ToolOutputDelta, ToolStarted
from friday.messages import ToolResultBlock, ToolUseBlock
from friday.middleware import Middleware
from friday.tools.base import ToolContext, ToolError, ToolRegistry

INTERRUPTED_RESULT = "Interrupted by user: the call was stopped before it finished."


class ToolRunner:
    def __init__(
        self,
        tools: ToolRegistry,
        middleware: Sequence[Middleware],
        emit: Callable[..., None],
        *,
        cwd: Path,
        step: int,
        file_state: Any,
        stopped: Callable[[], bool],
        cap: Callable[[ToolUseBlock, ToolResultBlock], tuple[ToolResultBlock, dict]] | None = None,
    ) -> None:
        self.tools = tools
        self.middleware = middleware
        self.emit = emit
        self.cwd = cwd
        self.step = step
        self.file_state = file_state
        self.stopped = stopped  # True once the run was interrupted
        # Cuts a result as it enters the history (the full text goes to a file).
        self.cap = cap
        self.results: dict[str, ToolResultBlock] = {}
        self.contexts: dict[str, ToolContext] = {}

    def parallel(self, calls: Sequence[ToolUseBlock]) -> bool:
        return len(calls) > 1 and all(
            (t := self.tools.get(c.name)) is not None and t.read_only for c in calls
        )

    async def run(self, calls: Sequence[ToolUseBlock]) -> None:
        """Fill `self.results`; raises CancelledError when stopped part way."""
        if self.parallel(calls):
            await asyncio.gather(*(self._one(c) for c in calls))
            return
        for call in calls:
            if self.stopped():
                raise asyncio.CancelledError  # a tool swallowed the interrupt
            await self._one(call)

    def close(self, calls: Sequence[ToolUseBlock], text: str) -> list[ToolResultBlock]:
        """The results in call order; calls that never finished get `text` as an error
        result, reported as finished too, so every consumer sees each call closed. What a
        stopped tool produced before it stopped (`ctx.meta["partial_output"]`) is kept."""
        out = []
        for call in calls:
            result = self.results.get(call.id)
            if result is None:
                ctx = self.contexts.get(call.id)
                meta = ctx.meta if ctx is not None else {}
                partial = meta.get("partial_output")
                body = f"{text}\n\nOutput before it stopped:\n{partial}" if partial else text
                result = self._capped(call, ToolResultBlock(call.id, body, is_error=True), meta)
                self.emit(ToolFinished, call_id=call.id, name=call.name, result=result, meta=meta)
            out.append(result)
        return out

    def cancel(self) -> None:
        for ctx in self.contexts.values():
            ctx.cancelled.set()

    async def _one(self, call: ToolUseBlock) -> None:
        started = time.monotonic()
        self.emit(ToolStarted, call_id=call.id, name=call.name, arguments=call.input)
        ctx = ToolContext(
            cwd=self.cwd,
            call_id=call.id,
            emit=lambda text: self.emit(ToolOutputDelta, call_id=call.id, text=text),
            emit_event=self.emit,
            step=self.step,
            file_state=self.file_state,
        )
        self.contexts[call.id] = ctx
        result = None
        for mw in self.middleware:
            result = await mw.before_tool(call, ctx)
            if result is not None:
                break
        if result is None:
            result = await self._execute(call, ctx)
        for mw in self.middleware:
            result = await mw.after_tool(call, result, ctx)
        result = self._capped(call, result, ctx.meta)
        self.results[call.id] = result
        self.emit(
            ToolFinished,
            call_id=call.id,
            name=call.name,
            result=result,
            bytes=len(result.text.encode()),
            duration_ms=int((time.monotonic() - started) * 1000),
            meta=ctx.meta,
        )

    def _capped(
        self, call: ToolUseBlock, result: ToolResultBlock, meta: dict[str, Any]
    ) -> ToolResultBlock:
        if self.cap is None:
            return result
        result, extra = self.cap(call, result)
        meta.update(extra)
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
