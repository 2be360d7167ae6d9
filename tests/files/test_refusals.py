"""Every refusal code, in one table: the situation, the call, and the first words of the
text the model gets (the stable `[code]`, then what happened and what to do)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from friday.tools.base import ToolContext, ToolError
from friday.tools.files import FILE_TOOLS, disk, read
from tests.files.conftest import PNG, Session


async def prepare_read(s: Session, name: str = "f.txt", text: str = "one\ntwo\n") -> None:
    (s.root / name).write_text(text)
    await s.ok("read_file", path=name)


def file(name: str, data: bytes = b"x\n") -> Callable[[Session], Awaitable[None]]:
    async def make(s: Session) -> None:
        path = s.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    return make


async def stale(s: Session) -> None:
    await prepare_read(s)
    (s.root / "f.txt").write_text("changed\n")


async def read_twice(s: Session) -> None:
    await prepare_read(s, text="one\none\n")


async def fifo(s: Session) -> None:
    os.mkfifo(s.root / "pipe")


async def nothing(s: Session) -> None:
    return None


async def folder(s: Session) -> None:
    (s.root / "d").mkdir()


CASES = [
    (
        "not_read",
        file("f.txt"),
        "edit_file",
        {"old_string": "x", "new_string": "y"},
        "f.txt has not been read in this session. Read it with read_file first",
    ),
    (
        "stale",
        stale,
        "edit_file",
        {"old_string": "one", "new_string": "1"},
        "f.txt was modified on disk since you last read or wrote it at step 1",
    ),
    (
        "no_match",
        prepare_read,
        "edit_file",
        {"old_string": "three", "new_string": "3"},
        "old_string was not found in f.txt.",
    ),
    (
        "ambiguous",
        read_twice,
        "edit_file",
        {"old_string": "one", "new_string": "1"},
        "old_string occurs 2 times in f.txt (at lines 1, 2).",
    ),
    (
        "no_change",
        prepare_read,
        "edit_file",
        {"old_string": "one", "new_string": "one"},
        "old_string and new_string are the same",
    ),
    ("bad_argument", prepare_read, "read_file", {"limit": 0}, "limit must be 1 or more"),
    ("out_of_range", prepare_read, "read_file", {"offset": 9}, "f.txt has 2 lines"),
    ("not_found", nothing, "read_file", {}, "f.txt does not exist."),
    ("is_directory", folder, "read_file", {"path": "d"}, "d is a directory, not a file."),
    (
        "not_a_directory",
        file("f.txt"),
        "write_file",
        {"path": "f.txt/x", "content": ""},
        "f.txt/x: a part of its folder path is a file.",
    ),
    ("not_a_file", fifo, "read_file", {"path": "pipe"}, "pipe is not a regular file."),
    ("binary", file("f.txt", b"\x00\x01"), "read_file", {}, "f.txt is a binary file"),
    ("encoding", nothing, "write_file", {"content": "\udc80"}, "the file is UTF-8, which"),
    ("sensitive", file(".env"), "read_file", {"path": ".env"}, ".env may hold secrets"),
    (
        "outside_workspace",
        nothing,
        "write_file",
        {"path": "../x.txt", "content": ""},
        "is outside the workspace",
    ),
    (
        "git_internal",
        nothing,
        "write_file",
        {"path": ".git/HEAD", "content": ""},
        ".git/HEAD is inside a .git directory",
    ),
]


@pytest.mark.parametrize(
    ("code", "setup", "tool", "args", "start"), CASES, ids=[c[0] for c in CASES]
)
async def test_refusal(session: Session, code, setup, tool, args, start):
    await setup(session)
    result = await session.refused(tool, code, step=2, **{"path": "f.txt", **args})
    assert start in result.text  # `refused` checked that the text starts with [code]


async def test_too_large(session: Session, monkeypatch):
    monkeypatch.setattr(disk, "MAX_FILE_BYTES", 10)
    (session.root / "big.txt").write_text("x" * 11)
    result = await session.refused("read_file", "too_large", path="big.txt")
    assert "over the 10-byte limit" in result.text
    monkeypatch.setattr(read, "MAX_IMAGE_BYTES", 5)
    monkeypatch.setattr(disk, "MAX_FILE_BYTES", 1000)
    (session.root / "i.png").write_bytes(PNG)
    image = await session.refused("read_file", "too_large", path="i.png")
    assert "images over 5 bytes are not sent" in image.text


async def test_io_error(session: Session, monkeypatch):
    def failing(*_args, **_kwargs):
        raise OSError(5, "Input/output error")

    (session.root / "f.txt").write_text("x\n")
    monkeypatch.setattr(disk, "open", failing, raising=False)
    result = await session.refused("read_file", "io_error", path="f.txt")
    assert result.text == "[io_error] f.txt: Input/output error."


@pytest.mark.parametrize("tool", FILE_TOOLS, ids=lambda t: t.name)
async def test_no_file_state_is_a_clear_setup_error(tool, tmp_path: Path):
    args = {
        "read_file": {"path": "a"},
        "write_file": {"path": "a", "content": ""},
        "edit_file": {"path": "a", "old_string": "a", "new_string": "b"},
        "multi_edit": {"path": "a", "edits": [{"old_string": "a", "new_string": "b"}]},
    }[tool.name]
    ctx = ToolContext(cwd=tmp_path)
    with pytest.raises(ToolError, match=r"^\[unavailable\] the file tools have no session"):
        await tool.run(args, ctx)
    assert ctx.meta == {"error": "unavailable"}
