"""Permissions through the real `friday` command: refusals in runs without a terminal,
the question on a terminal (a pseudo-terminal the test answers), the flags, project
trust, and `friday permissions check`."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.test_cli import clean_env, friday, script


def bash(command: str) -> dict:
    return {"tool_calls": [{"name": "bash", "arguments": {"command": command}}]}


def run_json(workdir: Path, turns: list[dict], *flags: str, fmt: str = "json"):
    proc = friday(
        workdir, "-p", "go", "--model", script(workdir, [*turns, {"text": "done"}]),
        "--output-format", fmt, *flags,
    )  # fmt: skip
    lines = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    return proc, lines


def test_a_refused_command_is_listed_in_the_result(workdir: Path):
    proc, lines = run_json(workdir, [bash("touch made.txt")])
    assert proc.returncode == 0, proc.stderr
    result = lines[-1]
    assert result["permission_denials"] == [
        {
            "tool_use_id": "call_1_0",
            "tool_name": "bash",
            "tool_input": {"command": "touch made.txt"},
        }
    ]
    assert not (workdir / "made.txt").exists()


def test_stream_json_shows_the_request_the_decision_and_the_refusal(workdir: Path):
    proc, lines = run_json(workdir, [bash("curl https://example.com")], fmt="stream-json")
    subtypes = [x.get("subtype") for x in lines if x["type"] == "system"]
    assert "permission_request" in subtypes and "permission_decision" in subtypes
    request = next(x for x in lines if x.get("subtype") == "permission_request")
    assert request["analysis"]["decision"] == "ask"
    assert "NETWORK" in [r["code"] for r in request["analysis"]["reasons"]]
    tool_result = next(x for x in lines if x["type"] == "user")["message"]["content"][0]
    assert tool_result["content"].startswith("[permission_denied]")


def test_allow_flag_and_permission_mode_flag(workdir: Path):
    proc, lines = run_json(workdir, [bash("touch a.txt")], "--allow", "touch *")
    assert (workdir / "a.txt").exists() and lines[-1]["permission_denials"] == []
    proc, lines = run_json(workdir, [bash("touch b.txt")], "--permission-mode", "accept-edits")
    assert (workdir / "b.txt").exists()
    proc, lines = run_json(workdir, [bash("ls")], "--permission-mode", "plan", "--deny", "ls")
    assert len(lines[-1]["permission_denials"]) == 1


def test_the_strict_preset_runs_in_plan_mode(workdir: Path):
    proc, lines = run_json(workdir, [bash("ls")], "--policy", "strict", fmt="stream-json")
    assert lines[0]["permission_mode"] == "plan"
    proc, lines = run_json(workdir, [bash("touch x")], "--policy", "strict")
    assert len(lines[-1]["permission_denials"]) == 1 and not (workdir / "x").exists()


def test_a_bad_flag_rule_is_a_usage_error(workdir: Path):
    proc = friday(workdir, "-p", "go", "--model", script(workdir, []), "--allow", "'unclosed")
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_project_config_cannot_choose_the_permission_mode(workdir: Path):
    (workdir / ".friday" / "config.toml").write_text('permission_mode = "bypass"\n')
    proc = friday(workdir, "-p", "go", "--model", script(workdir, [{"text": "x"}]))
    assert proc.returncode == 2
    assert "permission_mode may only be set in your user config" in proc.stderr.decode()


def test_an_untrusted_project_policy_cannot_allow_its_own_commands(workdir: Path):
    (workdir / ".friday" / "policy.toml").write_text(
        '[[rule]]\npattern = ["touch", "*"]\ndecision = "allow"\n'
    )
    proc, lines = run_json(workdir, [bash("touch a.txt")])
    assert not (workdir / "a.txt").exists()
    assert "ignoring 1 allow rule until you trust this project's policy" in proc.stderr.decode()
    trusted = friday(workdir, "permissions", "trust")
    assert trusted.returncode == 0, trusted.stderr
    proc, lines = run_json(workdir, [bash("touch a.txt")])
    assert (workdir / "a.txt").exists()


def test_permissions_check_through_the_command(workdir: Path):
    proc = friday(workdir, "permissions", "check", "--", "rm -rf /")
    assert proc.returncode == 0, proc.stderr
    verdict = json.loads(proc.stdout)
    assert verdict["command"] == "rm -rf /" and verdict["decision"] == "deny"
    lines = b"ls -la\ncurl x | sh\n\necho a\\\\nb\nls &&\n"
    proc = friday(workdir, "permissions", "check", "--stdin", stdin=lines)
    out = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert [o["decision"] for o in out][:2] == ["allow", "deny"]
    assert len(out) == 5 and out[4]["decision"] == "ask"


# -- the question on a terminal -----------------------------------------------------------


def _in_terminal(workdir: Path, args: list[str], replies: list[tuple[str, bytes]]):
    """Run friday with a pseudo-terminal as its controlling terminal (stdin, stderr) and
    stdout on a pipe; when the screen shows each prompt text, type its reply."""
    master, slave = pty.openpty()

    def become_session_leader() -> None:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    env = clean_env(workdir, TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "friday.cli", *args],
        stdin=slave, stdout=subprocess.PIPE, stderr=slave, cwd=workdir, env=env,
        preexec_fn=become_session_leader, pass_fds=(slave,),
    )  # fmt: skip
    os.close(slave)
    screen = ""
    deadline = time.monotonic() + 30
    pending = list(replies)
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                screen += os.read(master, 65536).decode(errors="replace")
            except OSError:
                break
        plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
        if pending and pending[0][0] in plain:
            screen = ""
            os.write(master, pending.pop(0)[1])
    out, _ = proc.communicate(timeout=30)
    os.close(master)
    return proc.returncode, out.decode(), pending


def test_on_a_terminal_the_user_is_asked_and_yes_runs_it(workdir: Path):
    turns = [bash("touch asked.txt"), {"text": "done"}]
    code, out, pending = _in_terminal(
        workdir,
        ["-p", "go", "--model", script(workdir, turns), "--output-format", "json"],
        [("allow?", b"y\r")],
    )
    assert pending == [] and code == 0, out
    assert (workdir / "asked.txt").exists()
    assert json.loads(out)["permission_denials"] == []


def test_on_a_terminal_no_with_a_message_reaches_the_model(workdir: Path):
    turns = [bash("touch asked.txt"), {"text": "done"}]
    code, out, pending = _in_terminal(
        workdir,
        ["-p", "go", "--model", script(workdir, turns), "--output-format", "stream-json"],
        [("allow?", b"n\r"), ("tell the agent", b"not now\r")],
    )
    assert pending == [] and code == 0, out
    lines = [json.loads(x) for x in out.splitlines()]
    result = next(x for x in lines if x["type"] == "user")["message"]["content"][0]["content"]
    assert "declined" in result and "not now" in result
    assert not (workdir / "asked.txt").exists()
