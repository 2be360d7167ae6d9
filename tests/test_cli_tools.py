"""The default tools through the real `friday -p` command: the read -> edit -> re-read
flow a user sees, with the edit really made on disk and refusals the model can act on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.test_cli import clean_env, script


def run(workdir: Path, turns: list[dict]) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "friday.cli", "-p", "fix it", "--model", script(workdir, turns),
         "--output-format", "stream-json"],
        capture_output=True, cwd=workdir, env=clean_env(workdir), timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def results(lines: list[dict]) -> list[dict]:
    return [x["message"]["content"][0] for x in lines if x["type"] == "user"]


def test_init_lists_the_default_tools(workdir: Path):
    lines = run(workdir, [{"text": "hi"}])
    assert lines[0]["tools"] == ["bash", "edit_file", "glob", "grep", "multi_edit",
                                 "read_file", "write_file"]  # fmt: skip


def test_read_edit_reread_through_the_command(workdir: Path):
    (workdir / "app.py").write_text("def add(a, b):\r\n    return a - b\r\n")
    turns = [
        {"tool_calls": [{"name": "edit_file", "arguments": {
            "path": "app.py", "old_string": "a - b", "new_string": "a + b"}}]},
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]},
        {"tool_calls": [{"name": "edit_file", "arguments": {
            "path": "app.py", "old_string": "a - b", "new_string": "a + b"}}]},
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]},
        {"tool_calls": [{"name": "grep", "arguments": {"pattern": "a \\+ b",
                                                        "output_mode": "content"}}]},
        {"text": "Fixed the sign."},
    ]  # fmt: skip
    lines = run(workdir, turns)
    out = results(lines)
    assert out[0]["is_error"] and out[0]["content"].startswith("[not_read]")
    assert not out[1]["is_error"] and "return a - b" in out[1]["content"]
    assert not out[2]["is_error"]
    assert "return a + b" in out[3]["content"]  # the re-read sees the edit
    assert "app.py:2:" in out[4]["content"]
    assert (workdir / "app.py").read_bytes() == b"def add(a, b):\r\n    return a + b\r\n"
    assert lines[-1]["result"] == "Fixed the sign."


def test_writes_outside_the_workspace_are_refused_without_a_terminal(workdir: Path, tmp_path):
    target = tmp_path / "outside.txt"
    turns = [
        {"tool_calls": [{"name": "write_file",
                         "arguments": {"path": str(target), "content": "x"}}]},
        {"text": "ok"},
    ]  # fmt: skip
    out = results(run(workdir, turns))
    assert out[0]["is_error"] and out[0]["content"].startswith("[permission_denied]")
    assert "outside the workspace" in out[0]["content"] and "no terminal" in out[0]["content"]
    assert not target.exists()


def test_build_agent_gives_one_file_state_per_session_as_configured(workdir: Path):
    from friday.config import Settings
    from friday.runtime import build_agent

    model = script(workdir, [{"text": "x"}])
    on = build_agent(Settings(model=model), workdir, {})
    off = build_agent(Settings(model=model, dedupe_reads=False), workdir, {})
    assert on.file_state is not off.file_state
    assert (on.file_state.dedupe_reads, off.file_state.dedupe_reads) == (True, False)
