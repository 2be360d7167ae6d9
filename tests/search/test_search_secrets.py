"""grep never prints lines of files that read_file would refuse as sensitive: the same
patterns (folder-based ones like ~/.aws/** included, and a policy's additions), checked on
the path as found and with symlinks resolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from friday.tools.base import ToolContext
from friday.tools.files import FileState
from friday.tools.search import grep_tool


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))  # the workspace is the home folder
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git-credentials").write_text("https://bob:TOKEN1@github.com\n")
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("aws_secret_access_key=TOKEN2\n")
    (tmp_path / "deploy.cfg").write_text("password=TOKEN3\n")
    (tmp_path / "notes.txt").write_text("TOKEN4 is public\n")
    (tmp_path / "alias.txt").symlink_to(tmp_path / ".git-credentials")
    return tmp_path


async def grep(ws: Path, state: FileState, **args: object) -> str:
    out = await grep_tool.run({"pattern": "TOKEN", "output_mode": "content", **args},
                              ToolContext(cwd=ws, file_state=state))  # fmt: skip
    return out.content if isinstance(out.content, str) else ""


async def test_sensitive_lines_are_never_printed(ws: Path):
    text = await grep(ws, FileState(sensitive_patterns=("*.cfg",)), glob="*", path=".")
    for secret in ("TOKEN1", "TOKEN2", "TOKEN3"):
        assert secret not in text
    assert "TOKEN4 is public" in text
    assert "not shown: the file may hold secrets" in text


async def test_a_named_sensitive_file_and_a_link_to_one_stay_hidden(ws: Path):
    state = FileState()
    for path in (".git-credentials", ".aws/credentials", "alias.txt"):
        text = await grep(ws, state, path=path)
        assert "TOKEN" not in text.replace("'TOKEN'", "")
        assert "not shown" in text
