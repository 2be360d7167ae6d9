"""What the adapter tests (Anthropic, Chat Completions, Responses) share, so that the three
drive their models, read recorded streams and check imports the same way."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any, Protocol

import pytest

from friday.messages import Msg
from friday.models.base import ModelError, Request, StreamEvent, ToolSpec
from tests.conftest import REPO, need_shared

READ_TOOL = ToolSpec(
    "read_file",
    "Read a file from the workspace.",
    {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
)


class StreamingModel(Protocol):
    """An adapter whose SDK client must be closed on the event loop that opened it."""

    def stream(self, request: Request) -> AsyncIterator[StreamEvent]: ...

    async def aclose(self) -> None: ...


def hello(**kw: Any) -> Request:
    return Request(system="You are Friday.", messages=(Msg.user("hello"),), **kw)


async def collect(model: StreamingModel, request: Request) -> list[Any]:
    """Every event of one stream; the client is closed on the loop that opened it."""
    try:
        return [event async for event in model.stream(request)]
    finally:
        await model.aclose()


async def fail(model: StreamingModel, request: Request) -> tuple[ModelError, list[Any]]:
    """The ModelError a stream raises, and what it yielded before."""
    seen: list[Any] = []
    try:
        with pytest.raises(ModelError) as info:
            async for event in model.stream(request):
                seen.append(event)
    finally:
        await model.aclose()
    return info.value, seen


def recorded(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The expected outcome of a recorded stream, and the FakeLLM turn that serves it as
    it was recorded; skips when ../shared/recorded-streams is absent."""
    folder = need_shared("recorded-streams")
    expected = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))["expected"]
    return expected, {"raw_sse": str(folder / f"{name}.sse")}


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on, for a refused connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def modules_loaded_by(code: str) -> str:
    """What `code` prints when run in a fresh interpreter, so that a test sees which
    modules an import pulls in without this process's imports hiding it."""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()
