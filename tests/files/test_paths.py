"""Path safety: symlinks are resolved before any check, writes outside the workspace and
any access to a sensitive file need approval (refused when no gate is attached), and
nothing under .git is ever written, approval or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from friday.tools.base import ToolContext, ToolError
from friday.tools.files import SENSITIVE_PATTERNS, FileState
from friday.tools.files.paths import resolve_target, sensitive_match
from tests.files.conftest import TOOLS, FakeGate, Session


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "victim.txt").write_text("original\n")
    return folder.resolve()


async def test_symlinked_folder_cannot_carry_a_write_out(session: Session, outside: Path):
    (session.root / "link").symlink_to(outside, target_is_directory=True)
    result = await session.refused(
        "write_file", "outside_workspace", path="link/new.txt", content="x"
    )
    assert str(outside / "new.txt") in result.text
    assert "needs the user's approval" in result.text
    assert not (outside / "new.txt").exists()


async def test_symlinked_file_cannot_carry_an_edit_out(session: Session, outside: Path):
    (session.root / "innocent.txt").symlink_to(outside / "victim.txt")
    # reading through the link is allowed (reads outside the workspace are)
    await session.ok("read_file", path="innocent.txt")
    await session.refused(
        "edit_file",
        "outside_workspace",
        step=2,
        path="innocent.txt",
        old_string="original",
        new_string="owned",
    )
    await session.refused(
        "write_file", "outside_workspace", step=2, path="innocent.txt", content="x"
    )
    assert (outside / "victim.txt").read_text() == "original\n"


async def test_dotdot_and_absolute_paths_outside(session: Session, outside: Path):
    await session.refused("write_file", "outside_workspace", path="../outside/a.txt", content="x")
    await session.refused(
        "write_file", "outside_workspace", path=str(outside / "a.txt"), content="x"
    )
    assert not (outside / "a.txt").exists()


async def test_symlink_inside_the_workspace_is_followed(session: Session):
    (session.root / "real.txt").write_text("a\n")
    (session.root / "alias.txt").symlink_to("real.txt")
    await session.ok("read_file", path="alias.txt")
    await session.ok("edit_file", step=2, path="alias.txt", old_string="a", new_string="b")
    assert (session.root / "real.txt").read_text() == "b\n"
    assert (session.root / "alias.txt").is_symlink()


async def test_link_to_a_sensitive_file_is_sensitive(session: Session):
    (session.root / ".env").write_text("KEY=1\n")
    (session.root / "notes.txt").symlink_to(".env")
    result = await session.refused("read_file", "sensitive", path="notes.txt")
    assert "matches '.env*'" in result.text


async def test_a_sensitive_name_as_written_counts_too(session: Session):
    (session.root / "plain.txt").write_text("x\n")
    (session.root / "server.pem").symlink_to("plain.txt")
    await session.refused("read_file", "sensitive", path="server.pem")


@pytest.mark.parametrize(
    "name",
    [".env", ".env.local", "certs/server.pem", "keys/id_rsa", "keys/id_ed25519", ".git/config"],
)
async def test_sensitive_files_are_refused_without_a_gate(session: Session, name: str):
    path = session.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("secret\n")
    read = await session.refused("read_file", "sensitive", path=name)
    assert "No approval prompt is attached" in read.text
    code = "git_internal" if name.startswith(".git/") else "sensitive"
    await session.refused("write_file", code, path=name, content="x")
    assert path.read_text() == "secret\n"


def test_home_folders_are_sensitive(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("HOME", str(tmp_path))
    for rel in [".ssh/config", ".ssh/keys/deep", ".aws/credentials", ".kube/config"]:
        assert sensitive_match(tmp_path / rel, SENSITIVE_PATTERNS), rel
    for rel in [".sshrc", "project/.aws-notes", "src/main.py", "docs/identity.md"]:
        assert sensitive_match(tmp_path / rel, SENSITIVE_PATTERNS) is None, rel


async def test_tilde_paths_expand(monkeypatch, session: Session, tmp_path: Path):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "known_hosts").write_text("host\n")
    monkeypatch.setenv("HOME", str(home))
    result = await session.refused("read_file", "sensitive", path="~/.ssh/known_hosts")
    assert str(home / ".ssh" / "known_hosts") in result.text


async def test_policy_can_extend_the_patterns(ws: Path):
    session = Session(ws, FileState(sensitive_patterns=(*SENSITIVE_PATTERNS, "*.secret")))
    (ws / "db.secret").write_text("pw\n")
    await session.refused("read_file", "sensitive", path="db.secret")
    (ws / ".env").write_text("x\n")
    await session.refused("read_file", "sensitive", path=".env")


async def test_approved_requests_go_ahead_and_carry_the_facts(ws: Path, outside: Path):
    gate = FakeGate(True)
    session = Session(ws, approvals=gate)
    (ws / ".env").write_text("A=1\n")
    result = await session.ok("read_file", path=".env")
    assert result.text == "     1\tA=1"
    await session.ok("write_file", path=str(outside / "ok.txt"), content="fine\n")
    assert (outside / "ok.txt").read_text() == "fine\n"
    assert [(c["tool"], c["path"], c["reason"]) for c in gate.calls] == [
        ("read_file", str(ws / ".env"), "sensitive"),
        ("write_file", str(outside / "ok.txt"), "outside_workspace"),
    ]
    assert gate.calls[0]["message"] == (
        ".env may hold secrets (it matches '.env*'), so reading it needs the user's approval."
    )


async def test_declined_requests_are_refused(ws: Path, outside: Path):
    gate = FakeGate(False)
    session = Session(ws, approvals=gate)
    result = await session.refused(
        "write_file", "outside_workspace", path=str(outside / "no.txt"), content="x"
    )
    assert result.text.endswith("The user declined. Do not retry it; choose another way or ask.")
    assert not (outside / "no.txt").exists()
    (ws / "id_rsa").write_text("key\n")
    await session.refused("read_file", "sensitive", path="id_rsa")
    assert [c["reason"] for c in gate.calls] == ["outside_workspace", "sensitive"]


async def test_sensitive_and_outside_ask_for_each(ws: Path, outside: Path):
    gate = FakeGate(True)
    session = Session(ws, approvals=gate)
    await session.ok("write_file", path=str(outside / ".env"), content="x\n")
    assert [c["reason"] for c in gate.calls] == ["sensitive", "outside_workspace"]


async def test_git_internals_are_never_written_even_when_approved(ws: Path):
    gate = FakeGate(True)
    session = Session(ws, approvals=gate)
    (ws / ".git" / "hooks").mkdir(parents=True)
    (ws / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    await session.ok("read_file", path=".git/HEAD")
    result = await session.refused(
        "edit_file", "git_internal", step=2, path=".git/HEAD", old_string="main", new_string="x"
    )
    assert "Use git commands through the shell" in result.text
    await session.refused("write_file", "git_internal", path=".git/hooks/pre-commit", content="x")
    (ws / "hooklink").symlink_to(ws / ".git" / "hooks", target_is_directory=True)
    await session.refused("write_file", "git_internal", path="hooklink/post-merge", content="x")
    assert gate.calls == []
    assert not (ws / ".git" / "hooks" / "pre-commit").exists()
    # names that only look like it are fine
    await session.ok("write_file", path=".gitignore", content="*.pyc\n")


def test_resolve_target_shows_paths_relative_to_the_root(ws: Path):
    target = resolve_target(ws, "src/../a.txt")
    assert (target.path, target.shown, target.inside) == (ws / "a.txt", "a.txt", True)
    assert resolve_target(ws, ".").shown == "."
    assert resolve_target(ws, "/").inside is False


async def test_a_context_can_add_patterns_for_one_call(session: Session):
    (session.root / "notes.vault").write_text("x\n")
    ctx = ToolContext(cwd=session.root, file_state=session.state)
    ctx.sensitive_patterns = ("*.vault",)  # type: ignore[attr-defined]
    with pytest.raises(ToolError, match=r"^\[sensitive\] notes.vault may hold secrets"):
        await TOOLS["read_file"].run({"path": "notes.vault"}, ctx)
    await session.ok("read_file", path="notes.vault")  # without it: a plain file
