"""Fixtures for the file tools: a workspace folder, a session (FileState + a way to call
a tool as the agent would, at a given step), and an approval gate that records what it
was asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from friday.tools.base import ToolContext, ToolError
from friday.tools.files import FILE_TOOLS, FileState

TOOLS = {t.name: t for t in FILE_TOOLS}

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@dataclass
class Result:
    text: str
    is_error: bool
    meta: dict[str, Any]
    content: Any = None

    @property
    def code(self) -> str | None:
        if self.is_error and self.text.startswith("["):
            return self.text[1 : self.text.index("]")]
        return None


class FakeGate:
    """An approval gate that answers `answer` and remembers every question."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.calls: list[dict[str, str]] = []

    async def request(self, *, tool: str, path: str, reason: str, message: str) -> bool:
        self.calls.append({"tool": tool, "path": path, "reason": reason, "message": message})
        return self.answer


@dataclass
class Session:
    root: Path
    state: FileState = field(default_factory=FileState)
    approvals: Any = None
    step: int = 1

    async def call(self, name: str, step: int | None = None, **args: Any) -> Result:
        ctx = ToolContext(
            cwd=self.root,
            file_state=self.state,
            approvals=self.approvals,
            step=self.step if step is None else step,
        )
        try:
            out = await TOOLS[name].run(args, ctx)
        except ToolError as exc:
            return Result(str(exc), True, ctx.meta)
        text = out.content if isinstance(out.content, str) else ""
        if not isinstance(out.content, str):
            text = "\n".join(getattr(b, "text", "") for b in out.content)
        return Result(text, out.is_error, ctx.meta, out.content)

    async def ok(self, name: str, step: int | None = None, **args: Any) -> Result:
        result = await self.call(name, step, **args)
        assert not result.is_error, result.text
        return result

    async def refused(self, name: str, code: str, step: int | None = None, **args: Any) -> Result:
        result = await self.call(name, step, **args)
        assert result.is_error, result.text
        assert result.text.startswith(f"[{code}] "), result.text
        assert result.meta.get("error") == code
        return result


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root.resolve()


@pytest.fixture
def session(ws: Path) -> Session:
    return Session(ws)
