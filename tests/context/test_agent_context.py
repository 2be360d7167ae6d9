"""The context manager inside the agent loop, with the scripted model: append-only
requests, usage events, cuts at insertion, automatic and manual compaction, interrupts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from friday.agent import Agent, AgentConfig
from friday.events import (
    AgentInterrupted,
    ContextCompacted,
    ContextUsage,
    ErrorOccurred,
    ModelRequested,
    ToolFinished,
)
from friday.models.anthropic import build_params
from friday.runtime import default_tools
from friday.tools.files import FileState
from friday.tools.shell import ShellSession
from tests.context.helpers import SUMMARY, SummarizingModel, manager


def bash(command: str, **usage: int) -> dict:
    turn: dict = {"tool_calls": [{"name": "bash", "arguments": {"command": command}}]}
    if usage:
        turn["usage"] = usage
    return turn


def agent_for(tmp_path: Path, turns: list[dict], window: int | None = 200_000, **settings):
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    model = SummarizingModel(turns)
    state = FileState()
    shell = ShellSession(ws, tmp_path / "outputs")
    agent = Agent(
        model,
        default_tools(shell),
        AgentConfig(system_prompt="You are Friday.", cwd=ws),
        file_state=state,
        context=manager(tmp_path, window, file_state=state, **settings),
    )
    return agent, model


def wire(request) -> bytes:
    """The request as sent to Anthropic, keys in the order its cache reads them, without
    the cache markers (they move by design; the content before them must not)."""
    params = build_params(request, "claude-sonnet-4-5")
    ordered = {k: params[k] for k in ("tools", "system", "messages") if k in params}
    text = json.dumps(ordered, ensure_ascii=False, separators=(",", ":"))
    return text.replace(',"cache_control":{"type":"ephemeral"}', "").encode()


async def test_requests_are_append_only_between_compactions(tmp_path: Path):
    turns = [bash(f"echo step {i}") for i in range(6)] + [{"text": "done"}]
    agent, model = agent_for(tmp_path, turns)
    events = [ev async for ev in agent.run("run the steps")]
    assert not [e for e in events if isinstance(e, ContextCompacted)]
    bodies = [wire(r) for r in model.requests]
    assert len(bodies) == 7
    for before, after in zip(bodies, bodies[1:], strict=False):
        # everything up to the end of the previous conversation is byte-identical
        assert after.startswith(before[: before.rindex(b"]}")])
    assert all(r.tools == model.requests[0].tools for r in model.requests)
    assert len({r.system for r in model.requests}) == 1


async def test_each_response_reports_estimate_actual_cached_and_fill(tmp_path: Path):
    usage = {"input_tokens": 40, "cache_read_tokens": 900, "output_tokens": 3}
    agent, _ = agent_for(tmp_path, [bash("echo hi", **usage), {"text": "ok", "usage": usage}])
    events = [ev async for ev in agent.run("go")]
    requested = [e for e in events if isinstance(e, ModelRequested)]
    reports = [e for e in events if isinstance(e, ContextUsage)]
    assert len(reports) == len(requested) == 2
    for req, rep in zip(requested, reports, strict=True):
        assert rep.estimated_input_tokens == req.estimated_input_tokens > 0
        assert rep.input_tokens == 940 and rep.cached_tokens == 900
        assert rep.fill == round(940 / 200_000, 4) and rep.window == 200_000


async def test_a_huge_output_is_cut_at_insertion_and_kept_on_disk(tmp_path: Path):
    command = "seq 1 200000"
    agent, model = agent_for(tmp_path, [bash(command), {"text": "ok"}], window=16_000)
    events = [ev async for ev in agent.run("count")]
    [done] = [e for e in events if isinstance(e, ToolFinished)]
    assert done.meta["context_cut"] is True
    full = Path(done.meta["full_output"]).read_text()
    sent = model.requests[1].messages[-1].content[0].text
    assert sent == done.result.text and len(sent) < 2_000 * 4 + 1_000
    assert done.meta["full_output"] in sent
    # nothing lost: the saved text is what the shell returned, whose own marker names
    # the file with every line
    import re

    shell_file = re.search(r"full output: (\S+) \(read it", full)[1]
    assert "\n100000\n" in Path(shell_file).read_text()
    # and the model is told that file's name directly, not only through the first one
    assert f"the tool's complete output, before any cut, is in {shell_file}" in sent


async def test_the_agent_compacts_when_the_next_request_would_pass_the_threshold(tmp_path: Path):
    big = "python -c 'print(\"x\" * 1900)'"
    thought = "Reasoning about what the output says and what to try next. " * 22
    # no provider count (input_tokens 0): the estimate alone decides, as with a server
    # that reports no usage
    none = {"usage": {"input_tokens": 0}}
    turns = [dict(bash(big), text=thought, **none) for _ in range(30)]
    turns += [{"text": "done", **none}]
    agent, model = agent_for(tmp_path, turns, window=10_000)
    events = [ev async for ev in agent.run("fill the context")]
    compactions = [e for e in events if isinstance(e, ContextCompacted)]
    assert compactions and all(c.method == "summary" for c in compactions)
    assert compactions[0].tokens_after < compactions[0].tokens_before
    assert compactions[0].tokens_before > 0.8 * 10_000
    # the summarizing call had the prefix of a normal request; the next request starts
    # with the summary message
    [summarizing, *_] = model.summaries.requests
    assert "fill the context" in summarizing.messages[0].text
    firsts = [r.messages[0] for r in model.requests]
    assert any(m.meta.get("summary", {}).get("fields") == SUMMARY for m in firsts)
    assert agent.history[0].meta["summary"]["fields"] == SUMMARY
    assert events[-1].stop_reason == "end_turn"


async def test_manual_compaction_through_the_api(tmp_path: Path):
    agent, model = agent_for(
        tmp_path,
        [bash("seq 1 2000"), bash("seq 1 2000"), {"text": "ok"}],
    )
    [ev async for ev in agent.run("go")]
    events = [ev async for ev in agent.compact("what was echoed")]
    [compacted] = [e for e in events if isinstance(e, ContextCompacted)]
    assert compacted.trigger == "manual" and compacted.focus == "what was echoed"
    assert agent.history[0] is compacted.summary_message


async def test_an_interrupt_during_compaction_leaves_the_history_as_it_was(tmp_path: Path):
    agent, model = agent_for(tmp_path, [bash("seq 1 2000"), {"text": "ok"}])
    model.summaries.turns[0] = {"text": json.dumps(SUMMARY), "delay": 30}
    [ev async for ev in agent.run("go")]
    before = list(agent.history)
    events = []

    async def consume():
        async for ev in agent.compact():
            events.append(ev)

    task = asyncio.create_task(consume())
    while not model.summaries.requests:
        await asyncio.sleep(0.01)
    assert agent.interrupt()
    await task
    assert agent.history == before
    assert [type(e) for e in events if isinstance(e, AgentInterrupted | ContextCompacted)] == [
        AgentInterrupted
    ]


async def test_an_unknown_window_is_said_once(tmp_path: Path):
    agent, _ = agent_for(tmp_path, [{"text": "a"}, {"text": "b"}], window=None)
    first = [ev async for ev in agent.run("one")]
    second = [ev async for ev in agent.run("two")]
    notes = [e for e in first + second if isinstance(e, ErrorOccurred)]
    assert len(notes) == 1 and notes[0].recoverable and "32,000" in notes[0].message
