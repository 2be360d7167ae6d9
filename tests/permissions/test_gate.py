"""The permission gate inside the agent loop: every tool call judged, questions to the
approver, answers once / this session / always / no, refusals the model can act on, and
every request and decision an event."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from friday.config import Settings
from friday.events import PermissionRequested, PermissionResolved, ToolFinished, TurnFinished
from friday.permissions.gate import Answer, ApprovalRequest
from friday.runtime import build_agent
from tests.test_cli import clean_env, script


class Scripted:
    """An approver that gives the answers it was handed, in order, and keeps the
    questions it was asked."""

    interactive = True

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.asked: list[ApprovalRequest] = []

    async def ask(self, request: ApprovalRequest) -> Answer:
        self.asked.append(request)
        return self.answers.pop(0)

    async def confirm_trust(self, policy_file: Path, rules: list[str]) -> bool:
        return False


class Hangs(Scripted):
    async def ask(self, request: ApprovalRequest) -> Answer:
        self.asked.append(request)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def bash(command: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "bash", "arguments": {"command": command}}]}


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


async def run(
    workdir: Path, turns: list[dict], approver: Any = None, *, prompt: str = "go", **kw: Any
) -> tuple[Any, list[Any]]:
    settings = Settings(model=script(workdir, [*turns, {"text": "done"}]), **kw.pop("s", {}))
    agent = build_agent(settings, workdir, clean_env(workdir), approver=approver, **kw)
    events = [ev async for ev in agent.run(prompt)]
    await agent.aclose()
    return agent, events


def results(events: list[Any]) -> list[Any]:
    return [ev.result for ev in events if isinstance(ev, ToolFinished)]


def of(events: list[Any], cls: type) -> list[Any]:
    return [ev for ev in events if isinstance(ev, cls)]


async def test_a_read_only_command_runs_without_a_question(workdir: Path):
    (workdir / "a.txt").write_text("hello\n")
    approver = Scripted()
    _, events = await run(workdir, [bash("cat a.txt | wc -l")], approver)
    assert results(events)[0].text.startswith("1")
    assert approver.asked == []
    assert of(events, PermissionRequested) == []


async def test_with_no_terminal_an_ask_is_refused_and_says_how_to_allow_it(workdir: Path):
    _, events = await run(workdir, [bash("touch made.txt")])
    result = results(events)[0]
    assert result.is_error and result.text.startswith("[permission_denied]")
    assert "no terminal" in result.text and "--allow 'touch *'" in result.text
    assert not (workdir / "made.txt").exists()
    req, res = of(events, PermissionRequested)[0], of(events, PermissionResolved)[0]
    assert req.request_id == res.request_id == of(events, ToolFinished)[0].call_id
    assert req.analysis["decision"] == "ask"
    assert "FILE_WRITE" in [r["code"] for r in req.analysis["reasons"]]
    assert (res.decision, res.by) == ("deny", "policy")


async def test_a_denied_command_never_reaches_the_approver(workdir: Path):
    approver = Scripted()
    _, events = await run(workdir, [bash("rm -rf ~")], approver)
    result = results(events)[0]
    assert result.is_error and "refused by the permission policy" in result.text
    assert "DESTRUCTIVE_TARGET" in result.text
    assert approver.asked == []
    assert of(events, PermissionResolved)[0].by == "policy"


async def test_yes_once_runs_it_and_asks_again_next_time(workdir: Path):
    approver = Scripted(Answer("once"), Answer("once"))
    await run(workdir, [bash("touch a.txt"), bash("touch b.txt")], approver)
    assert (workdir / "a.txt").exists() and (workdir / "b.txt").exists()
    assert len(approver.asked) == 2


async def test_this_session_adds_the_rule_shown_with_the_question(workdir: Path):
    approver = Scripted(Answer("session"))
    _, events = await run(workdir, [bash("touch a.txt"), bash("touch b.txt")], approver)
    assert len(approver.asked) == 1
    assert approver.asked[0].rule_texts() == ["touch *"]
    assert (workdir / "b.txt").exists()
    assert [e.by for e in of(events, PermissionResolved)] == ["user"]
    assert of(events, PermissionResolved)[0].message == "session"


async def test_always_writes_the_rule_into_the_project_policy(workdir: Path):
    approver = Scripted(Answer("always"))
    await run(workdir, [bash("touch a.txt")], approver)
    policy = (workdir / ".friday" / "policy.toml").read_text()
    assert '"touch"' in policy and 'decision = "allow"' in policy
    # A new session in the same project: no question for touch any more.
    again = Scripted()
    await run(workdir, [bash("touch c.txt")], again)
    assert again.asked == [] and (workdir / "c.txt").exists()


async def test_no_with_a_message_reaches_the_model(workdir: Path):
    approver = Scripted(Answer("deny", message="use the build folder"))
    _, events = await run(workdir, [bash("mkdir out")], approver)
    text = results(events)[0].text
    assert text.startswith("[permission_denied]") and "use the build folder" in text
    assert not (workdir / "out").exists()


async def test_a_redirect_offers_no_session_rule(workdir: Path):
    """No rule lifts a redirect, so "this session" would not help: only once / no."""
    approver = Scripted(Answer("once"))
    await run(workdir, [bash("echo hi > note.txt")], approver)
    assert approver.asked[0].choices == ("once", "deny")
    assert (workdir / "note.txt").read_text() == "hi\n"


async def test_an_interrupt_at_the_question_resolves_it_as_interrupted(workdir: Path):
    settings = Settings(model=script(workdir, [bash("touch x"), {"text": "done"}]))
    approver = Hangs()
    agent = build_agent(settings, workdir, clean_env(workdir), approver=approver)
    events = []
    async for ev in agent.run("go"):
        events.append(ev)
        if isinstance(ev, PermissionRequested):
            agent.interrupt()
    await agent.aclose()
    res = of(events, PermissionResolved)
    assert [(r.decision, r.by) for r in res] == [("deny", "interrupt")]
    assert of(events, TurnFinished)[0].stop_reason == "interrupted"
    assert not (workdir / "x").exists()


async def test_file_tool_questions_go_through_the_gate(workdir: Path):
    (workdir / ".env").write_text("KEY=1\n")
    _, events = await run(workdir, [call("read_file", path=".env")])
    text = results(events)[0].text
    assert text.startswith("[permission_denied]") and "no terminal" in text
    assert of(events, PermissionRequested)[0].analysis["reasons"][0]["code"] == "SECRET_READ"
    approver = Scripted(Answer("session"))
    _, events = await run(
        workdir, [call("read_file", path=".env"), call("read_file", path=".env")], approver
    )
    assert "KEY=1" in results(events)[0].text
    assert len(approver.asked) == 1


async def test_plan_mode_refuses_writes_and_runs_reads(workdir: Path):
    (workdir / "a.txt").write_text("x\n")
    turns = [bash("ls"), bash("mkdir d"), call("write_file", path="n.txt", content="n")]
    _, events = await run(workdir, turns, Scripted(), s={"permission_mode": "plan"})
    ls, mkdir, write = results(events)
    assert "a.txt" in ls.text and not ls.is_error
    assert mkdir.text.startswith("[permission_denied]") and "plan mode" in mkdir.text
    assert write.text.startswith("[permission_denied]") and "plan mode" in write.text
    assert not (workdir / "d").exists() and not (workdir / "n.txt").exists()


async def test_accept_edits_runs_workspace_writes_but_asks_outside(workdir: Path, tmp_path):
    outside = tmp_path / "elsewhere"
    turns = [bash("mkdir -p build/x"), bash(f"mkdir {outside}")]
    approver = Scripted(Answer("deny"))
    await run(workdir, turns, approver, s={"permission_mode": "accept-edits"})
    assert (workdir / "build" / "x").is_dir()
    assert len(approver.asked) == 1 and not outside.exists()


async def test_bypass_runs_asks_but_still_honours_deny(workdir: Path):
    turns = [bash("touch made.txt"), bash("rm -rf ~")]
    _, events = await run(workdir, turns, None, s={"permission_mode": "bypass"})
    touch, rm = results(events)
    assert (workdir / "made.txt").exists() and not touch.is_error
    assert rm.is_error and rm.text.startswith("[permission_denied]")


async def test_allow_and_deny_flags(workdir: Path):
    turns = [bash("touch a.txt"), bash("ls")]
    _, events = await run(workdir, turns, None, allow=["touch *"], deny=["ls"])
    touch, ls = results(events)
    assert not touch.is_error and (workdir / "a.txt").exists()
    assert ls.is_error and "RULE_DENY" in ls.text


async def test_the_event_stream_serialises_permission_events(workdir: Path):
    _, events = await run(workdir, [bash("touch a")])
    asked = of(events, PermissionRequested) + of(events, PermissionResolved)
    assert len(asked) == 2
    for ev in asked:
        assert json.loads(ev.to_json())["type"].startswith("permission.")


async def test_always_with_an_unwritable_project_policy_still_allows_for_the_session(
    workdir: Path, tmp_path: Path
):
    """A project whose .friday is a link elsewhere cannot take the rule: the approval
    holds for this session and the decision event says why it was not saved."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workdir / ".friday" / "policy.toml").symlink_to(elsewhere / "policy.toml")
    approver = Scripted(Answer("always"))
    _, events = await run(workdir, [bash("touch a.txt"), bash("touch b.txt")], approver)
    assert (workdir / "b.txt").exists() and len(approver.asked) == 1
    message = of(events, PermissionResolved)[0].message
    assert message.startswith("always; could not save the rule")
    assert not (elsewhere / "policy.toml").exists()


async def test_the_question_names_the_project_policy_found_up_the_tree(tmp_path: Path):
    """Run from a subfolder of a repository whose policy sits at the root: "always"
    shows, and writes, that file."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".friday").mkdir()
    (repo / ".friday" / "policy.toml").write_text("# the project's rules\n")
    (repo / "src").mkdir()
    (tmp_path / "home").mkdir()
    approver = Scripted(Answer("always"))
    settings = Settings(model=script(repo / "src", [bash("touch a.txt"), {"text": "ok"}]))
    env = clean_env(repo / "src", HOME=str(tmp_path / "home"))
    agent = build_agent(settings, repo / "src", env, approver=approver)
    [ev async for ev in agent.run("go")]
    await agent.aclose()
    assert approver.asked[0].project_policy == repo / ".friday" / "policy.toml"
    assert '"touch"' in (repo / ".friday" / "policy.toml").read_text()
    assert not (repo / "src" / ".friday").exists()
