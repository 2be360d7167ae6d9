"""The working directory persists between calls, whatever way the command ended, and
the model is told where the shell is when it moves, leaves the workspace or loses its
directory."""

from __future__ import annotations

import os
from pathlib import Path

from tests.shell.conftest import Shell


async def test_cd_holds_for_the_next_call(shell: Shell):
    (shell.root / "src").mkdir()
    moved = await shell.ok("cd src")
    assert moved.text == f"(no output)\n[exit code 0 · {moved.text.split('· ')[1]}"
    assert moved.text.endswith(" [cwd: src]")
    assert shell.session.cwd == shell.root / "src"
    assert moved.meta["cwd"] == str(shell.root / "src")
    here = await shell.ok("pwd")
    assert here.text.splitlines()[0] == str(shell.root / "src")
    assert "[cwd:" not in here.text  # unchanged: no note


async def test_cd_holds_across_exit_with_a_code(shell: Shell):
    (shell.root / "src").mkdir()
    result = await shell.ok("cd src; exit 3")
    assert result.meta["exit_code"] == 3
    assert "[exit code 3 · " in result.text and result.text.endswith("[cwd: src]")
    assert (await shell.ok("pwd")).text.startswith(f"{shell.root / 'src'}\n")


async def test_cd_holds_across_a_failing_command_and_a_later_syntax_error(shell: Shell):
    (shell.root / "a" / "b").mkdir(parents=True)
    await shell.ok("cd a && false")
    assert shell.session.cwd == shell.root / "a"
    result = await shell.ok("cd b\nif then fi")
    assert result.meta["exit_code"] == 2
    assert "syntax error" in result.text
    assert shell.session.cwd == shell.root / "a" / "b"


async def test_cd_back_up_and_the_trailer_names_the_root(shell: Shell):
    (shell.root / "src").mkdir()
    await shell.ok("cd src")
    result = await shell.ok("cd ..")
    assert result.text.endswith("[cwd: .]")
    assert shell.session.cwd == shell.root


async def test_leaving_the_workspace_is_said_plainly(shell: Shell, tmp_path: Path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = await shell.ok(f"cd {outside}")
    assert f"[cwd: {outside}]" in result.text
    assert (
        f"[the shell is now in {outside}, outside the workspace {shell.root}; later "
        "commands run there until you cd back]" in result.text
    )
    assert shell.session.cwd == outside
    again = await shell.ok("pwd")
    assert again.text.startswith(f"{outside}\n")
    assert "outside the workspace" in again.text  # said on every call while outside
    back = await shell.ok(f"cd {shell.root}")
    assert "outside the workspace" not in back.text


async def test_a_removed_directory_falls_back_to_the_root(shell: Shell):
    result = await shell.ok("mkdir gone && cd gone && rmdir ../gone")
    assert "no longer exists; the next command runs in the workspace root" in result.text
    assert shell.session.cwd == shell.root
    assert (await shell.ok("pwd")).text.startswith(f"{shell.root}\n")


async def test_a_directory_removed_between_calls_falls_back_to_the_root(shell: Shell):
    (shell.root / "tmpdir").mkdir()
    await shell.ok("cd tmpdir")
    os.rmdir(shell.root / "tmpdir")
    result = await shell.ok("pwd")
    assert result.text.startswith(f"{shell.root}\n")
    assert f"[the shell's directory {shell.root / 'tmpdir'} no longer exists" in result.text


async def test_physical_paths_through_a_symlinked_root(tmp_path: Path):
    from friday.tools.shell import ShellSession, make_shell_tool

    real = tmp_path / "real"
    (real / "src").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real)
    session = ShellSession(link, tmp_path / "out")
    shell = Shell(session, make_shell_tool(session))
    result = await shell.ok("cd src")
    assert result.text.endswith("[cwd: src]")  # inside, though pwd -P names the real path
    assert "outside the workspace" not in result.text


async def test_a_replaced_exit_trap_keeps_the_previous_directory(shell: Shell):
    (shell.root / "src").mkdir()
    result = await shell.ok("trap 'echo bye' EXIT; cd src")
    assert result.text.startswith("bye\n")
    assert shell.session.cwd == shell.root  # the directory is unknown: nothing changes
