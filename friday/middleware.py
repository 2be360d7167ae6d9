"""Hook points around every model call and every tool call.

A middleware may rewrite a request before it is sent, rewrite the response, answer a
tool call itself (a veto, or a cached result) and rewrite a tool result. The permission
gate is one such middleware. Hooks run in the order given, the `after_*` ones too.
"""

from __future__ import annotations

from friday.messages import Msg, ToolResultBlock, ToolUseBlock
from friday.models.base import Request
from friday.tools.base import ToolContext


class Middleware:
    async def before_model(self, request: Request) -> Request:
        return request

    async def after_model(self, request: Request, message: Msg) -> Msg:
        return message

    async def before_tool(self, call: ToolUseBlock, ctx: ToolContext) -> ToolResultBlock | None:
        """Return a result to stop the call from running (that result is what the
        model sees); None lets it run."""
        return None

    async def after_tool(
        self, call: ToolUseBlock, result: ToolResultBlock, ctx: ToolContext
    ) -> ToolResultBlock:
        return result
