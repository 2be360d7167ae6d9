"""Refusals with a stable code: the text a model sees starts with `[code]`, so a model,
a test or a UI can tell a stale file from a missing one without parsing prose."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from friday.tools.base import ToolError

T = TypeVar("T")


class FileToolError(ToolError):
    """A refused file-tool call. `str()` is `[code] message`, the text the model gets."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message


def reports_code(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Wrap a tool function so a refusal's code also lands in ctx.meta["error"], where
    the tool.finished event carries it to the UI and the journal."""

    @functools.wraps(fn)
    async def wrapper(ctx: Any, *args: Any, **kwargs: Any) -> T:
        try:
            return await fn(ctx, *args, **kwargs)
        except FileToolError as exc:
            ctx.meta["error"] = exc.code
            raise

    return wrapper
