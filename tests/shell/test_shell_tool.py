"""The tool as the model sees it: its schema and description, argument checks with
messages that say what to do, the environment commands get, and where outputs go."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from friday.tools.shell import ShellSession, default_output_dir, make_shell_tool
from tests.shell.conftest import Shell


def test_schema_and_description(shell: Shell):
    tool = shell.tool
    assert tool.name == "bash" and tool.read_only is False
    params = tool.parameters
    assert params["required"] == ["command"]
    assert set(params["properties"]) == {"command", "timeout", "description"}
    assert params["properties"]["timeout"]["type"] == "integer"
    assert "1-600 (default 120)" in params["properties"]["timeout"]["description"]
    text = tool.description
    for words in (
        "bash",
        "persists",
        "read_file",
        "grep",
        "glob",
        "30,000",
        "120 s",
        "600 s",
        "description",
        "stdin is /dev/null",
        "interactive",
    ):
        assert words in text, words
    assert "{" not in text  # every placeholder filled


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"command": ""}, "command is empty: pass the shell command to run"),
        ({"command": "  \n\t"}, "command is empty"),
        ({"command": "echo a\0b"}, "command contains a NUL character"),
        ({"command": "true", "timeout": 0}, "timeout must be between 1 and 600 seconds, got 0"),
        ({"command": "true", "timeout": 601}, "timeout must be between 1 and 600 seconds"),
        ({"command": "true", "timeout": -5}, "leave it out for the default of 120 s"),
        ({"command": "true", "timeout": "9"}, "timeout must be integer, got str"),
        ({"command": "true", "cwd": "/"}, "unknown argument(s): cwd"),
        ({"command": "x" * 200_000}, "write the script to a file with write_file"),
        ({"command": "echo \ud800"}, "command contains a lone UTF-16 surrogate"),
    ],
)
async def test_bad_arguments_are_refused_with_what_to_do(shell: Shell, args, message):
    command = args.pop("command")
    result = await shell.call(command, **args)
    assert result.is_error
    assert message in result.text
    assert "\n" not in result.text


async def test_a_null_timeout_means_the_default(shell: Shell):
    result = await shell.ok("echo fine", timeout=None)
    assert result.text.startswith("fine\n")


async def test_missing_bash_is_reported(shell: Shell, tmp_path: Path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = await shell.call("true")
    assert result.is_error
    assert result.text.startswith("bash was not found on PATH: install bash")


async def test_the_environment_has_pagers_and_colour_off(shell: Shell, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("PAGER", "less")
    monkeypatch.setenv("FRIDAY_TEST_KEEP", "kept")
    result = await shell.ok("env")
    env = dict(line.split("=", 1) for line in result.text.splitlines() if "=" in line)
    assert env["PAGER"] == env["GIT_PAGER"] == env["MANPAGER"] == "cat"
    assert (env["NO_COLOR"], env["CLICOLOR"], env["TERM"]) == ("1", "0", "dumb")
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_EDITOR"] == env["GIT_SEQUENCE_EDITOR"] == "true"
    assert "FORCE_COLOR" not in env
    assert env["FRIDAY_TEST_KEEP"] == "kept"


async def test_each_command_has_its_own_process_group(shell: Shell):
    import os

    result = await shell.ok("ps -o pgid= -o sid= -p $$; echo $$")
    pgid, sid, pid = result.text.split()[:3]
    assert pgid == sid == pid
    assert int(pgid) != os.getpgid(0)


async def test_the_description_is_a_label_not_a_command(shell: Shell):
    result = await shell.ok("echo ran", description="touch should-not-exist\nsecond line")
    assert result.meta["description"] == "touch should-not-exist second line"
    assert not (shell.root / "should-not-exist").exists()


def test_default_output_dir():
    assert default_output_dir({"XDG_CACHE_HOME": "/c", "HOME": "/h"}, "s1") == Path(
        "/c/friday/outputs/s1"
    )
    assert default_output_dir({"HOME": "/h"}, "s1") == Path("/h/.cache/friday/outputs/s1")
    relative = {"XDG_CACHE_HOME": "rel", "HOME": "/h"}
    assert default_output_dir(relative, "s1") == Path("/h/.cache/friday/outputs/s1")
    assert default_output_dir({"HOME": "/h"}, "../../etc") == Path(
        "/h/.cache/friday/outputs/_.._etc"
    )


def test_nothing_is_created_until_an_output_is_cut(tmp_path: Path):
    out = default_output_dir({"XDG_CACHE_HOME": str(tmp_path)}, "abc")
    session = ShellSession(tmp_path, out)
    make_shell_tool(session)
    assert not (tmp_path / "friday").exists()


def test_declaring_the_tool_imports_no_process_machinery():
    code = (
        "import sys; from friday.tools.shell import make_shell_tool, ShellSession; "
        "from pathlib import Path; make_shell_tool(ShellSession(Path('.'), Path('o'))); "
        "print(sorted(m for m in ('friday.tools.shell.run', 'friday.tools.shell.process', "
        "'bashlex', 'textual', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_git_commit_without_a_message_ends_at_once(shell: Shell, tmp_path):
    """No one can type into an editor in the shell tool: git must not wait for one."""
    repo = "git init -q r && cd r && git -c user.name=a -c user.email=a@b commit -q --allow-empty"
    result = await shell.call(repo, timeout=20)
    assert "Aborting commit due to empty commit message" in result.text
    assert "timed out" not in result.text
