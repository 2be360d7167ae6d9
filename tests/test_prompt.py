"""The system prompt: environment facts from a real git repository, the project's own
instruction files from the git root down to cwd (and never above the root), and byte
stability across calls so provider prompt caches keep hitting."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest

from friday.prompt import MAX_INSTRUCTIONS_CHARS, build_system_prompt

TODAY = dt.date(2025, 3, 14)


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


@pytest.fixture
def outer(tmp_path: Path) -> Path:
    """A folder that holds the repository, with an AGENTS.md that must stay unread."""
    (tmp_path / "AGENTS.md").write_text("OUTSIDE-THE-REPO: never include me\n")
    return tmp_path


@pytest.fixture
def repo(outer: Path) -> Path:
    root = outer / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    _git(root, "config", "user.name", "Test User")
    _git(root, "config", "user.email", "test@example.com")
    _git(root, "config", "commit.gpgsign", "false")
    _git(root, "checkout", "-q", "-b", "feature/prompt-tests")
    (root / "README.md").write_text("# demo\n")
    (root / "AGENTS.md").write_text("ROOT-AGENTS: run `make test` before finishing.\n")
    sub = root / "pkg" / "core"
    sub.mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (sub / "AGENTS.md").write_text("CORE-AGENTS: keep functions pure here.\n")
    (sub / "FRIDAY.md").write_text("CORE-FRIDAY: prefer dataclasses.\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "initial")
    (root / "notes.txt").write_text("untracked\n")
    return root


def test_environment_section_in_a_git_repo(repo: Path) -> None:
    prompt = build_system_prompt(repo, today=TODAY)
    assert f"Working directory: {repo}\n" in prompt
    assert "Date: 2025-03-14\n" in prompt
    assert "Git branch: feature/prompt-tests\n" in prompt
    assert f"Git root: {repo.resolve()}\n" in prompt
    assert "Git status (porcelain):\n  ?? notes.txt\n" in prompt
    assert "not a git repository" not in prompt
    assert prompt.startswith("You are Friday")
    assert prompt.endswith("\n")


def test_status_matches_git_porcelain(repo: Path) -> None:
    (repo / "README.md").write_text("# changed\n")
    porcelain = _git(repo, "status", "--porcelain").splitlines()
    assert " M README.md" in porcelain
    assert "?? notes.txt" in porcelain
    prompt = build_system_prompt(repo, today=TODAY)
    for line in porcelain:
        assert f"\n  {line}\n" in prompt


def test_clean_repo_says_clean(repo: Path) -> None:
    (repo / "notes.txt").unlink()
    prompt = build_system_prompt(repo, today=TODAY)
    assert "Git status: clean\n" in prompt
    assert "porcelain" not in prompt


def test_instructions_from_root_down_to_cwd_outermost_first(repo: Path) -> None:
    cwd = repo / "pkg" / "core"
    prompt = build_system_prompt(cwd, today=TODAY)
    assert f"Working directory: {cwd}\n" in prompt
    assert "Git branch: feature/prompt-tests\n" in prompt
    root_at = prompt.index("ROOT-AGENTS: run `make test` before finishing.")
    agents_at = prompt.index("CORE-AGENTS: keep functions pure here.")
    friday_at = prompt.index("CORE-FRIDAY: prefer dataclasses.")
    assert root_at < agents_at < friday_at
    root_file = (repo / "AGENTS.md").resolve()
    assert f'<project-instructions file="{root_file}">\nROOT-AGENTS' in prompt
    assert prompt.count("<project-instructions ") == 3
    assert prompt.index("</environment>") < root_at


def test_folder_above_the_git_root_is_not_read(repo: Path) -> None:
    for cwd in (repo, repo / "pkg", repo / "pkg" / "core"):
        prompt = build_system_prompt(cwd, today=TODAY)
        assert "OUTSIDE-THE-REPO" not in prompt
        assert "ROOT-AGENTS" in prompt


def test_intermediate_folder_without_files_is_skipped(repo: Path) -> None:
    prompt = build_system_prompt(repo / "pkg", today=TODAY)
    assert "ROOT-AGENTS" in prompt
    assert "CORE-AGENTS" not in prompt
    assert "CORE-FRIDAY" not in prompt
    assert prompt.count("<project-instructions ") == 1


def test_outside_a_git_repo_reads_only_cwd(outer: Path) -> None:
    cwd = outer / "plain" / "inner"
    cwd.mkdir(parents=True)
    (outer / "plain" / "AGENTS.md").write_text("PARENT-AGENTS: not read\n")
    (cwd / "AGENTS.md").write_text("INNER-AGENTS: read me\n")
    prompt = build_system_prompt(cwd, today=TODAY)
    assert "Git: not a git repository\n" in prompt
    assert "Git branch" not in prompt
    assert f"Working directory: {cwd}\n" in prompt
    assert "INNER-AGENTS: read me" in prompt
    assert "PARENT-AGENTS" not in prompt
    assert "OUTSIDE-THE-REPO" not in prompt
    assert prompt.count("<project-instructions ") == 1


def test_append_text_comes_last(repo: Path) -> None:
    cwd = repo / "pkg" / "core"
    prompt = build_system_prompt(cwd, today=TODAY, append="\nAlways answer in French.\n\n")
    assert prompt.endswith("</project-instructions>\n\nAlways answer in French.\n")
    plain = build_system_prompt(cwd, today=TODAY)
    assert prompt.startswith(plain.rstrip("\n"))


def test_prompt_is_byte_identical_across_calls(repo: Path) -> None:
    cwd = repo / "pkg" / "core"
    first = build_system_prompt(cwd, today=TODAY, append="extra")
    second = build_system_prompt(cwd, today=TODAY, append="extra")
    assert first.encode() == second.encode()
    assert "Date: 2025-03-14" in first
    assert build_system_prompt(cwd, today=dt.date(2025, 3, 15), append="extra") != first


def test_oversized_agents_md_is_cut_with_marker(repo: Path) -> None:
    body = "".join(f"rule {i:06d}: be careful.\n" for i in range(5000))
    assert len(body) > MAX_INSTRUCTIONS_CHARS
    (repo / "AGENTS.md").write_text(body)
    _git(repo, "add", "AGENTS.md")
    _git(repo, "commit", "-q", "-m", "big rules")
    prompt = build_system_prompt(repo / "pkg" / "core", today=TODAY)
    marker = f"[... AGENTS.md cut at {MAX_INSTRUCTIONS_CHARS} characters]"
    assert marker in prompt
    assert body[:MAX_INSTRUCTIONS_CHARS] in prompt
    assert body[: MAX_INSTRUCTIONS_CHARS + 1] not in prompt
    assert "rule 004999" not in prompt
    assert prompt.index(marker) > prompt.index("rule 000000")
    # The budget is spent, so the files further down are left out.
    assert "CORE-AGENTS" not in prompt
    assert "CORE-FRIDAY" not in prompt


def test_small_files_are_not_marked_as_cut(repo: Path) -> None:
    prompt = build_system_prompt(repo / "pkg" / "core", today=TODAY)
    assert "cut at" not in prompt
