"""Fixtures for the shell tool: a workspace with a session bound to it, a way to call the
tool as the agent would, and a record of the pids a command reports, each killed after
the test whatever happened (a failing test must not leave `sleep 300` behind)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from friday.tools.base import Tool, ToolContext, ToolError
from friday.tools.shell import ShellSession, make_shell_tool


@dataclass
class Result:
    text: str
    is_error: bool
    meta: dict[str, Any]
    chunks: list[str] = field(default_factory=list)


@dataclass
class Shell:
    session: ShellSession
    tool: Tool
    calls: int = 0

    @property
    def root(self) -> Path:
        return self.session.root

    def context(self, on_emit: Callable[[str], None] | None = None) -> tuple[ToolContext, list]:
        self.calls += 1
        chunks: list[str] = []

        def emit(text: str) -> None:
            chunks.append(text)
            if on_emit is not None:
                on_emit(text)

        ctx = ToolContext(cwd=self.root, call_id=f"call_{self.calls}", emit=emit)
        return ctx, chunks

    async def call(
        self, command: str, on_emit: Callable[[str], None] | None = None, **args: Any
    ) -> Result:
        ctx, chunks = self.context(on_emit)
        try:
            out = await self.tool.run({"command": command, **args}, ctx)
        except ToolError as exc:
            return Result(str(exc), True, ctx.meta, chunks)
        assert isinstance(out.content, str)
        return Result(out.content, out.is_error, ctx.meta, chunks)

    async def ok(self, command: str, **args: Any) -> Result:
        result = await self.call(command, **args)
        assert not result.is_error, result.text
        return result


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root.resolve()


@pytest.fixture
def shell(ws: Path, tmp_path: Path) -> Shell:
    session = ShellSession(ws, tmp_path / "outputs" / "s1")
    return Shell(session, make_shell_tool(session))


def running(pid: int) -> bool:
    """Alive and not a zombie (a zombie has ended; it only waits to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


class Pids:
    """A file the command appends pids to (`echo $! >> "$PIDS"`), read back by the test."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[int]:
        if not self.path.exists():
            return []
        return [int(n) for n in self.path.read_text().split()]

    async def wait_for(self, count: int) -> list[int]:
        """Until the command has reported `count` pids (the test's timeout bounds it)."""
        while len(pids := self.read()) < count:
            await asyncio.sleep(0.01)
        return pids


@pytest.fixture
def pids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pids]:
    record = Pids(tmp_path / "pids")
    monkeypatch.setenv("PIDS", str(record.path))
    yield record
    for pid in record.read():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
