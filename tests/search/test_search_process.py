"""The ripgrep process and the Python worker cannot hang the agent: cancellation kills
ripgrep, a timeout ends either backend with what was found so far, a broken or missing
ripgrep is reported or replaced, and importing the tools costs no search machinery."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from friday.tools.base import Tool, ToolContext, ToolError
from friday.tools.search import calls, glob_tool, grep_tool
from friday.tools.search.engine import Query, python_search
from friday.tools.search.regex import compile_pattern
from friday.tools.search.rg import find_rg, rg_search
from tests.search.trees import call, rg_available, write


def fake_rg(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-rg"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return script


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    write(tmp_path, "ws/a.py", "needle\n")
    return tmp_path / "ws"


@pytest.mark.parametrize("tool", [grep_tool, glob_tool], ids=["grep", "glob"])
async def test_cancelling_a_search_kills_ripgrep(
    tmp_path: Path, ws: Path, monkeypatch: pytest.MonkeyPatch, tool: Tool
):
    pidfile = tmp_path / "pid"
    monkeypatch.setenv("FRIDAY_RG", str(fake_rg(tmp_path, 'echo $$ > "$PIDFILE"\nexec sleep 60\n')))
    monkeypatch.setenv("PIDFILE", str(pidfile))
    task = asyncio.create_task(tool.run({"pattern": "needle"}, ToolContext(cwd=ws)))
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert not task.done(), task.result()  # ended before ripgrep started: say how
        await asyncio.sleep(0.01)
    pid = int(pidfile.read_text())
    os.kill(pid, 0)  # running
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped


async def test_a_timeout_keeps_what_was_found(
    tmp_path: Path, ws: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FRIDAY_RG", str(fake_rg(tmp_path, "printf 'a.py\\0'\nexec sleep 60\n")))
    monkeypatch.setattr(calls, "TIMEOUT_S", 0.3)
    ctx = ToolContext(cwd=ws)
    out = await grep_tool.run({"pattern": "needle"}, ctx)
    assert out.content == (
        "Found 1 file\na.py\n[search stopped early (timed out after 0.3 s): results are "
        "incomplete; narrow the search]"
    )
    assert ctx.meta["truncated"] is True


async def test_a_glob_timeout_keeps_what_was_listed(
    tmp_path: Path, ws: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FRIDAY_RG", str(fake_rg(tmp_path, "printf './a.py\\0'\nexec sleep 60\n")))
    monkeypatch.setattr(calls, "TIMEOUT_S", 0.3)
    out = await glob_tool.run({"pattern": "*.py"}, ToolContext(cwd=ws))
    assert out.content == (
        "Found 1 file\na.py\n[search stopped early (timed out after 0.3 s): results are "
        "incomplete; narrow the search]"
    )


async def test_a_timeout_without_results_is_an_error(
    tmp_path: Path, ws: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FRIDAY_RG", str(fake_rg(tmp_path, "exec sleep 60\n")))
    monkeypatch.setattr(calls, "TIMEOUT_S", 0.2)
    with pytest.raises(ToolError, match=r"^\[timeout\] the search timed out after 0.2 s"):
        await grep_tool.run({"pattern": "needle"}, ToolContext(cwd=ws))


async def test_the_python_backend_times_out_too(ws: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(calls, "TIMEOUT_S", -1.0)  # already past the deadline
    text, _ = await call(grep_tool, ws, "python", pattern="needle")
    assert text.startswith("ERROR [timeout] the search timed out")


def test_the_python_backend_stops_when_cancelled(ws: Path):
    q = Query(str(ws), "", False, "files", pattern=compile_pattern("needle", False))
    assert python_search(q).files == {"a.py": None}
    hits = python_search(q, cancelled=lambda: True)
    assert (hits.files, hits.stopped) == ({}, "cancelled")


@pytest.mark.parametrize(
    "backend",
    ["python", pytest.param("rg", marks=pytest.mark.skipif(not rg_available(), reason="no rg"))],
)
async def test_result_count_limit(tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch):
    for i in range(10):
        write(tmp_path, f"f{i}.txt", "needle\n")
    q = Query(
        str(tmp_path), "", False, "files", pattern=compile_pattern("needle", False), max_records=3
    )
    if backend == "rg":
        monkeypatch.delenv("FRIDAY_RG", raising=False)
        hits = await rg_search(q, find_rg() or "rg")
    else:
        hits = python_search(q)
    assert hits.stopped == "more than 3 results"
    assert len(hits.files) == 4


async def test_a_ripgrep_that_cannot_start_falls_back_to_python(
    tmp_path: Path, ws: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FRIDAY_RG", str(tmp_path / "no-such-rg"))
    ctx = ToolContext(cwd=ws)
    out = await grep_tool.run({"pattern": "needle"}, ctx)
    assert out.content == "Found 1 file\na.py"
    assert ctx.meta["backend"] == "python"
    assert ctx.meta["rg_error"].startswith("FileNotFoundError")


@pytest.mark.parametrize(
    ("stderr", "code"),
    [
        ("rg: regex parse error:\\n    (?:x)\\n", "bad_pattern"),
        ("rg: something else broke", "search_failed"),
    ],
)
async def test_a_failing_ripgrep_is_reported(
    tmp_path: Path, ws: Path, monkeypatch: pytest.MonkeyPatch, stderr: str, code: str
):
    monkeypatch.setenv("FRIDAY_RG", str(fake_rg(tmp_path, f"printf '{stderr}' >&2\nexit 2\n")))
    with pytest.raises(ToolError, match=rf"^\[{code}\] "):
        await grep_tool.run({"pattern": "needle"}, ToolContext(cwd=ws))


def test_find_rg_honours_the_environment(monkeypatch: pytest.MonkeyPatch):
    for off in ("none", "off", "0", ""):
        monkeypatch.setenv("FRIDAY_RG", off)
        assert find_rg() is None
    monkeypatch.setenv("FRIDAY_RG", "/opt/rg")
    assert find_rg() == "/opt/rg"


def test_importing_the_tools_loads_no_search_machinery():
    probe = "import sys, json, friday.tools.search\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, check=True)
    loaded = set(json.loads(out.stdout.decode().splitlines()[-1]))
    lazy = {
        "friday.tools.search.calls",
        "friday.tools.search.engine",
        "friday.tools.search.rg",
        "friday.tools.search.walk",
        "friday.tools.search.globs",
        "friday.tools.search.regex",
        "friday.tools.search.output",
        "friday.tools.search.filetypes",
        "difflib",
        "sysconfig",
    }
    assert "friday.tools.search.tools" in loaded
    assert not loaded & lazy


@pytest.mark.parametrize("dir_fd", [True, False])
def test_stat_helpers_with_and_without_dir_fd(
    tmp_path: Path, dir_fd: bool, monkeypatch: pytest.MonkeyPatch
):
    from friday.tools.search import engine

    write(tmp_path, "sub/a.txt", "abc", mtime=1_700_000_000)
    if not dir_fd:
        monkeypatch.setattr(os, "supports_dir_fd", set())
    paths = ["sub/a.txt", "gone.txt"]
    assert engine.mtimes_of(str(tmp_path), paths) == [1_700_000_000 * 10**9, -1]
    assert engine.mtimes_and_sizes(str(tmp_path), paths) == (
        [1_700_000_000 * 10**9, -1],
        [3, -1],
    )


async def test_a_cancel_while_ripgrep_starts_leaves_no_worker_thread_behind(
    ws: Path, monkeypatch: pytest.MonkeyPatch
):
    """glob stats files in a worker thread fed by a queue; a cancel that lands while
    ripgrep is being started must still tell that worker to stop, or the event loop's
    executor waits for it forever at shutdown."""
    from friday.tools.search import rg

    started = asyncio.Event()

    async def slow_spawn(*_args: object) -> None:
        started.set()
        await asyncio.sleep(60)

    monkeypatch.setattr(rg, "_spawn", slow_spawn)
    task = asyncio.create_task(glob_tool.run({"pattern": "*.py"}, ToolContext(cwd=ws)))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    loop = asyncio.get_running_loop()
    await asyncio.wait_for(loop.shutdown_default_executor(), 10)
