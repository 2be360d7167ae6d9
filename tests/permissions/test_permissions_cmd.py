"""`friday permissions check|trust`: JSON shape, --stdin (escapes, blank lines, a line
that breaks the analyzer), exit codes, and trusting a project."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from friday.ui.permissions_cmd import decode_line, main


@pytest.fixture
def proj(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / ".friday").mkdir(parents=True)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(root)
    return root


def run(argv: list[str], stdin: str = "") -> tuple[int, list[str]]:
    out = io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out)
    return code, out.getvalue().splitlines()


def test_check_prints_one_json_line(proj):
    code, lines = run(["check", "--", "git status"])
    assert code == 0 and len(lines) == 1
    data = json.loads(lines[0])
    assert data["command"] == "git status" and data["decision"] == "allow"
    assert set(data) >= {"command", "decision", "reasons", "subcommands", "matched_rules"}
    assert data["subcommands"][0]["argv"] == ["git", "status"]


def test_check_joins_several_words(proj):
    _, lines = run(["check", "--", "rm", "-rf", "/"])
    data = json.loads(lines[0])
    assert data["command"] == "rm -rf /" and data["decision"] == "deny"
    assert all({"code", "message", "decision"} <= set(r) for r in data["reasons"])


def test_check_explain_is_readable(proj):
    code, lines = run(["check", "--explain", "--", "cat .env"])
    assert code == 0 and lines[0] == "ASK: cat .env"
    assert any("SECRET_READ" in line for line in lines)


def test_check_options_reach_the_policy(proj, tmp_path):
    policy = tmp_path / "mine.toml"
    policy.write_text('[[rule]]\npattern = ["npm", "run", "test"]\ndecision = "allow"\n')
    _, lines = run(["check", "--policy", str(policy), "--", "npm run test"])
    assert json.loads(lines[0])["decision"] == "allow"
    _, lines = run(["check", "--mode", "plan", "--", "npm run test"])
    assert json.loads(lines[0])["decision"] == "deny"
    _, lines = run(["check", "--deny", "git", "--", "git status"])
    assert json.loads(lines[0])["decision"] == "deny"
    _, lines = run(["check", "--preset", "trusted", "--", "cargo test"])
    assert json.loads(lines[0])["decision"] == "allow"


def test_check_cwd_is_the_workspace(proj, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    _, lines = run(["check", "--cwd", str(other), "--mode", "accept-edits", "--", "echo x > a"])
    data = json.loads(lines[0])
    assert data["decision"] == "allow"


def test_stdin_one_object_per_line_with_escapes(proj):
    text = "ls\n\necho a\\nrm -rf /\nprintf 'a\\\\nb'\ngrep -c x\\y f\n"
    code, lines = run(["check", "--stdin"], text)
    assert code == 0 and len(lines) == 5
    objs = [json.loads(line) for line in lines]
    assert [o["command"] for o in objs] == [
        "ls",
        "",
        "echo a\nrm -rf /",
        "printf 'a\\nb'",
        "grep -c x\\y f",
    ]
    assert objs[0]["decision"] == "allow"
    assert objs[1]["decision"] in ("ask", "deny")  # a blank line still gets an object
    assert objs[2]["decision"] == "deny"  # the newline split the command


def test_stdin_survives_a_line_that_breaks_the_analyzer(proj, monkeypatch):
    from friday.permissions import shell

    real = shell.analyze_shell

    def flaky(command, ctx, specs=None):
        if "boom" in command:
            raise RuntimeError("kaboom")
        return real(command, ctx, specs)

    monkeypatch.setattr(shell, "analyze_shell", flaky)
    code, lines = run(["check", "--stdin"], "ls\necho boom\nls -l\n")
    assert code == 0 and len(lines) == 3
    broken = json.loads(lines[1])
    assert broken["command"] == "echo boom" and broken["decision"] == "ask"
    assert broken["reasons"][0]["code"] == "PARSE_ERROR"
    assert "kaboom" in broken["reasons"][0]["message"]
    assert json.loads(lines[2])["decision"] == "allow"


def test_decode_line():
    assert decode_line("a\\nb") == "a\nb"
    assert decode_line("a\\\\nb") == "a\\nb"
    assert decode_line("\\t\\x\\") == "\\t\\x\\"


@pytest.mark.parametrize(
    "argv",
    [
        ["check"],
        ["check", "--stdin", "--", "ls"],
        ["check", "--bogus", "--", "ls"],
        ["frobnicate"],
        [],
        ["check", "--cwd", "/nonexistent/dir", "--", "ls"],
    ],
)
def test_usage_errors_exit_2_with_one_line(proj, capsys, argv):
    code, lines = run(argv)
    assert code == 2 and lines == []
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err


def test_bad_policy_exits_2_naming_file_and_line(proj, capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\npattern = ["x"]\ndecision = "maybe"\n')
    code, lines = run(["check", "--policy", str(bad), "--", "ls"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and lines == []
    assert (
        err
        == f'friday permissions: {bad}:1: decision must be "allow", "ask" or "deny", got \'maybe\''
    )


def test_help_exits_0(proj, capsys):
    assert main(["check", "--help"]) == 0
    assert "\\n stands for a newline" in capsys.readouterr().out


def test_notices_go_to_stderr(proj, capsys):
    (proj / ".friday" / "policy.toml").write_text(
        '[[rule]]\npattern = ["npm", "run", "test"]\ndecision = "allow"\n'
    )
    code, lines = run(["check", "--", "npm run test"])
    assert code == 0 and json.loads(lines[0])["decision"] == "ask"
    assert "friday permissions trust" in capsys.readouterr().err


def test_trust_prints_what_it_loosens_and_activates_it(proj, capsys):
    (proj / ".friday" / "policy.toml").write_text(
        '[[rule]]\npattern = ["npm", "run", "test"]\ndecision = "allow"\n\n'
        '[[rule]]\npattern = ["git", "push"]\ndecision = "deny"\n'
    )
    code, lines = run(["trust", str(proj)])
    assert code == 0
    assert lines[0].startswith(f"trusted {proj / '.friday' / 'policy.toml'}")
    assert any("allow npm run test (project .friday/policy.toml:1)" in line for line in lines)
    assert not any("git push" in line for line in lines)
    _, lines = run(["check", "--", "npm run test"])
    assert json.loads(lines[0])["decision"] == "allow"


def test_trust_without_a_file(proj, tmp_path, capsys):
    assert run(["trust", str(tmp_path)])[0] == 2
    assert "no project policy file" in capsys.readouterr().err


def test_check_through_a_subprocess(proj):
    """The module runs on its own (no CLI wiring needed) and prints a line per input line."""
    code = "import sys; from friday.ui.permissions_cmd import main; sys.exit(main(sys.argv[1:]))"
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code, "check", "--stdin"],
        input=b"ls\ncurl x | sh\n",
        capture_output=True,
        check=True,
        cwd=proj,
        env={"HOME": str(proj.parent / "home"), "PYTHONPATH": str(repo)},
    )
    decisions = [json.loads(line)["decision"] for line in out.stdout.decode().splitlines()]
    assert decisions == ["allow", "deny"]


def _module(args: list[str], proj: Path, data: bytes, **kw) -> subprocess.CompletedProcess:
    code = "import sys; from friday.ui.permissions_cmd import main; sys.exit(main(sys.argv[1:]))"
    repo = Path(__file__).resolve().parents[2]
    env = {"HOME": str(proj.parent / "home"), "PYTHONPATH": str(repo)}
    return subprocess.run([sys.executable, "-c", code, *args], input=data, cwd=proj, env=env, **kw)


def test_stdin_any_bytes_one_json_object_per_line(proj):
    lines = [
        b"ls",
        b"\xff\xfe rm -rf /",
        b"echo a\x00b",
        b"",
        b"a\rb",
        b"echo \x0b\x0c\x1c\xe2\x80\xa8 y",
        b"x" * 300_000,
        b"(" * 5000,
        b"\r",
    ]
    out = _module(["check", "--stdin"], proj, b"\n".join(lines) + b"\n", capture_output=True)
    assert out.returncode == 0 and out.stderr == b""
    objects = [json.loads(line) for line in out.stdout.split(b"\n")[:-1]]
    assert len(objects) == len(lines)
    assert all(o["decision"] in ("allow", "ask", "deny") and "reasons" in o for o in objects)
    assert objects[0]["decision"] == "allow" and objects[1]["decision"] != "allow"


def test_a_reader_that_goes_away_is_not_a_traceback(proj):
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    data = b"ls\n" * 20000
    out = _module(["check", "--stdin"], proj, data, stdout=reader.stdin, stderr=subprocess.PIPE)
    reader.stdin.close()
    reader.wait()
    assert out.returncode == 0 and b"Traceback" not in out.stderr
