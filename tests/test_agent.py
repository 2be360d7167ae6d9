"""The ReAct loop, driven by the scripted model: event sequences first, then details."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from friday.agent import INTERRUPTED_RESULT, Agent, AgentConfig
from friday.events import (
    AgentInterrupted,
    ErrorOccurred,
    ModelFellBack,
    ModelRequested,
    ModelResponded,
    ModelRetried,
    SessionStarted,
    TextDelta,
    ToolCallDelta,
    ToolFinished,
    ToolOutputDelta,
    ToolStarted,
    TurnFinished,
    TurnStarted,
)
from friday.messages import TextBlock, ToolResultBlock, ToolUseBlock
from friday.middleware import Middleware
from friday.models.base import Request
from friday.models.retry import RetryingModel, RetryPolicy
from friday.models.scripted import ScriptedModel
from friday.tools.base import ToolContext, ToolRegistry, tool


@tool(read_only=True)
async def echo(ctx: ToolContext, text: str) -> str:
    """Echo the text back in capitals.

    Args:
        text: what to echo.
    """
    ctx.emit(f"echoing {text}")
    return text.upper()


@tool
async def boom(ctx: ToolContext) -> str:
    """Always fails."""
    raise RuntimeError("disk on fire")


def make_agent(turns, tools=(echo, boom), **config) -> tuple[Agent, ScriptedModel]:
    model = ScriptedModel(turns)
    agent = Agent(
        model,
        ToolRegistry(list(tools)),
        AgentConfig(system_prompt="You are a test.", cwd=Path("."), **config),
        **config.pop("agent_kwargs", {}),
    )
    return agent, model


async def collect(agent: Agent, prompt: str = "go"):
    return [ev async for ev in agent.run(prompt)]


def types(events):
    return [type(e) for e in events]


async def test_text_only_turn_event_sequence():
    agent, model = make_agent([{"text": "hello there", "chunk_size": 5}])
    events = await collect(agent)
    assert types(events) == [
        SessionStarted,
        TurnStarted,
        ModelRequested,
        TextDelta,
        TextDelta,
        TextDelta,
        ModelResponded,
        TurnFinished,
    ]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "hello there"
    end = events[-1]
    assert (end.stop_reason, end.result, end.turns) == ("end_turn", "hello there", 1)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert {e.session_id for e in events} == {agent.session_id}
    assert model.requests[0].system == "You are a test."
    assert [t.name for t in model.requests[0].tools] == ["boom", "echo"]


async def test_tool_loop_reason_act_observe():
    agent, model = make_agent(
        [
            {"text": "let me look", "tool_calls": [{"name": "echo", "arguments": {"text": "hi"}}]},
            {"text": "It says HI."},
        ]
    )
    events = await collect(agent)
    assert types(events) == [
        SessionStarted,
        TurnStarted,
        ModelRequested,
        TextDelta,
        ToolCallDelta,
        ToolCallDelta,
        ModelResponded,
        ToolStarted,
        ToolOutputDelta,
        ToolFinished,
        ModelRequested,
        TextDelta,
        ModelResponded,
        TurnFinished,
    ]
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert finished.result == ToolResultBlock(finished.call_id, "HI", is_error=False)
    # the second request carries the tool call and its result
    second = model.requests[1].messages
    assert [m.role for m in second] == ["user", "assistant", "user"]
    assert second[2].content[0].content == "HI"
    assert events[-1].result == "It says HI." and events[-1].turns == 2


async def test_second_run_keeps_history_and_starts_no_new_session():
    agent, model = make_agent([{"text": "one"}, {"text": "two"}])
    await collect(agent, "first")
    events = await collect(agent, "second")
    assert SessionStarted not in types(events)
    assert [m.text for m in model.requests[1].messages] == ["first", "one", "second"]


async def test_tool_failures_become_error_results_the_model_sees():
    agent, model = make_agent(
        [
            {
                "tool_calls": [
                    {"name": "boom", "arguments": {}},
                    {"name": "nope", "arguments": {}},
                    {"name": "echo", "arguments": "{not json"},
                    {"name": "echo", "arguments": {"text": 3}},
                    {"name": "echo", "arguments": {"txt": "x"}},
                ]
            },
            {"text": "ok"},
        ]
    )
    events = await collect(agent)
    results = [e.result for e in events if isinstance(e, ToolFinished)]
    assert all(r.is_error for r in results)
    texts = [r.text for r in results]
    assert texts[0] == "boom failed: RuntimeError: disk on fire"
    assert texts[1] == "Unknown tool 'nope'. Available tools: boom, echo."
    assert "not valid JSON" in texts[2] and "Call the tool again" in texts[2]
    assert texts[3] == "invalid arguments for echo: text must be string, got int"
    assert "unknown argument(s): txt" in texts[4]
    assert events[-1].stop_reason == "end_turn"
    sent = model.requests[1].messages[-1]
    assert [b.tool_use_id for b in sent.content] == [c.id for c in agent.history[1].tool_uses]


async def test_read_only_calls_run_concurrently():
    a_started, b_started = asyncio.Event(), asyncio.Event()

    @tool(name="a", read_only=True)
    async def tool_a(ctx: ToolContext) -> str:
        """A."""
        a_started.set()
        await asyncio.wait_for(b_started.wait(), 5)  # only returns if b runs meanwhile
        return "a"

    @tool(name="b", read_only=True)
    async def tool_b(ctx: ToolContext) -> str:
        """B."""
        b_started.set()
        await asyncio.wait_for(a_started.wait(), 5)
        return "b"

    agent, _ = make_agent(
        [{"tool_calls": [{"name": "a"}, {"name": "b"}]}, {"text": "done"}],
        tools=(tool_a, tool_b),
    )
    events = await collect(agent)
    assert [e.result.text for e in events if isinstance(e, ToolFinished)] == ["a", "b"]
    assert agent.history[2].content[0].content == "a"  # results stay in call order


async def test_calls_run_in_order_when_one_is_not_read_only():
    order: list[str] = []

    @tool(name="slow_reader", read_only=True)
    async def slow_reader(ctx: ToolContext) -> str:
        """Reads slowly."""
        await asyncio.sleep(0.05)
        order.append("read")
        return "r"

    @tool(name="writer")
    async def writer(ctx: ToolContext) -> str:
        """Writes."""
        order.append("write")
        return "w"

    agent, _ = make_agent(
        [{"tool_calls": [{"name": "slow_reader"}, {"name": "writer"}]}, {"text": "done"}],
        tools=(slow_reader, writer),
    )
    await collect(agent)
    assert order == ["read", "write"]


async def test_middleware_edits_requests_and_vetoes_tool_calls():
    ran: list[str] = []

    @tool(name="rm")
    async def rm(ctx: ToolContext, path: str) -> str:
        """Remove a file.

        Args:
            path: the file.
        """
        ran.append(path)
        return "removed"

    class Hooks(Middleware):
        async def before_model(self, request: Request) -> Request:
            return dataclasses.replace(request, system=request.system + " Be brief.")

        async def after_model(self, request, message):
            return dataclasses.replace(message, stop_reason="edited")

        async def before_tool(self, call: ToolUseBlock, ctx: ToolContext):
            if call.input.get("path") == "/":
                return ToolResultBlock(call.id, "Denied by policy: never remove /", is_error=True)
            return None

        async def after_tool(self, call, result, ctx):
            return ToolResultBlock(result.tool_use_id, f"[checked] {result.text}", result.is_error)

    model = ScriptedModel(
        [
            {
                "tool_calls": [
                    {"name": "rm", "arguments": {"path": "/"}},
                    {"name": "rm", "arguments": {"path": "tmp.txt"}},
                ]
            },
            {"text": "done"},
        ]
    )
    agent = Agent(
        model,
        ToolRegistry([rm]),
        AgentConfig(system_prompt="S.", cwd=Path(".")),
        middleware=[Hooks()],
    )
    events = await collect(agent)
    assert [r.system for r in model.requests] == ["S. Be brief.", "S. Be brief."]
    assert ran == ["tmp.txt"]
    results = [e.result for e in events if isinstance(e, ToolFinished)]
    assert results[0].is_error and results[0].text == "[checked] Denied by policy: never remove /"
    assert results[1].text == "[checked] removed"
    assert all(e.stop_reason == "edited" for e in events if isinstance(e, ModelResponded))


async def test_max_turns_stops_before_the_next_model_call():
    loop_turn = {"tool_calls": [{"name": "echo", "arguments": {"text": "x"}}]}
    agent, model = make_agent([loop_turn, loop_turn, loop_turn], max_turns=2)
    events = await collect(agent)
    end = events[-1]
    assert (end.stop_reason, end.turns, end.error_kind) == ("max_turns", 2, "max_turns")
    assert len(model.requests) == 2
    assert agent.history[-1].role == "user"  # every call answered: the history can go on


async def test_budget_stops_the_run():
    turn = {"tool_calls": [{"name": "echo", "arguments": {"text": "x"}}]}
    model = ScriptedModel([turn, turn, turn])
    agent = Agent(
        model,
        ToolRegistry([echo]),
        AgentConfig(system_prompt="S", cwd=Path("."), max_budget_usd=0.25),
        cost=lambda msg: 0.2,
    )
    events = await collect(agent)
    end = events[-1]
    assert end.stop_reason == "max_budget"
    assert end.cost_usd == 0.4 and end.turns == 2
    assert "budget of $0.2500" in end.error


async def test_unknown_price_with_a_budget_is_reported():
    agent, _ = make_agent([{"text": "hi"}], max_budget_usd=1.0)
    events = await collect(agent)
    warn = [e for e in events if isinstance(e, ErrorOccurred)]
    assert warn and warn[0].recoverable and "cannot be enforced" in warn[0].message
    assert events[-1].stop_reason == "end_turn" and events[-1].cost_usd is None


async def test_empty_response_ends_the_run_with_a_clear_error():
    agent, _ = make_agent([{}])
    events = await collect(agent)
    end = events[-1]
    assert (end.stop_reason, end.error_kind) == ("error", "empty_response")
    assert "returned an empty response" in end.error


async def test_non_retryable_model_error_ends_the_run():
    agent, _ = make_agent([{"status": 401, "message": "bad key: check ANTHROPIC_API_KEY"}])
    events = await collect(agent)
    assert types(events)[-2:] == [ErrorOccurred, TurnFinished]
    assert (
        events[-1].error_kind == "auth" and events[-1].error == "bad key: check ANTHROPIC_API_KEY"
    )


async def test_retry_then_fallback_leave_no_partial_text_in_history():
    first = ScriptedModel(
        [
            {"text": "partial text that will be cut", "cut_after": 1, "chunk_size": 4},
            {"status": 529},
        ],
        model_id="primary",
    )
    second = ScriptedModel([{"text": "from the fallback", "chunk_size": 100}], model_id="backup")
    delays: list[float] = []

    async def fake_sleep(d: float) -> None:
        delays.append(d)

    chain = RetryingModel(
        [first, second],
        RetryPolicy(max_attempts=2, base_delay=1),
        sleep=fake_sleep,
        rand=lambda: 1.0,
    )
    agent = Agent(chain, ToolRegistry(), AgentConfig(system_prompt="S", cwd=Path(".")))
    events = await collect(agent)
    assert types(events) == [
        SessionStarted,
        TurnStarted,
        ModelRequested,
        TextDelta,
        ModelRetried,
        ModelFellBack,
        TextDelta,
        ModelResponded,
        TurnFinished,
    ]
    retry = next(e for e in events if isinstance(e, ModelRetried))
    assert (retry.attempt, retry.max_attempts, retry.delay) == (1, 2, 1.0)
    assert delays == [1.0]
    assert events[-1].result == "from the fallback"
    assert [m.text for m in agent.history] == ["go", "from the fallback"]
    assert chain.name == "scripted:backup"  # the fallback sticks for the session


async def test_interrupt_during_stream_keeps_partial_text_and_steers_next_turn():
    agent, model = make_agent(
        [{"text": "a" * 400, "chunk_size": 10, "chunk_delay": 0.01}, {"text": "ok"}]
    )
    events = []
    async for ev in agent.run("write a lot"):
        events.append(ev)
        if isinstance(ev, TextDelta) and sum(isinstance(e, TextDelta) for e in events) == 3:
            assert agent.interrupt("user")
    assert types(events)[-2:] == [AgentInterrupted, TurnFinished]
    stop = events[-2]
    assert stop.partial_text == "a" * 30 and stop.cancelled_tool_calls == []
    assert events[-1].stop_reason == "interrupted" and events[-1].result == "a" * 30
    assert agent.history[-1].text == "a" * 30 and agent.history[-1].meta == {"interrupted": True}
    await collect(agent, "shorter please")
    steer = model.requests[1].messages[-1]
    assert steer.content[0] == TextBlock("[The user interrupted your response.]")
    assert steer.content[1] == TextBlock("shorter please")


async def test_interrupt_during_tool_closes_the_call():
    started = asyncio.Event()

    @tool(name="hang")
    async def hang(ctx: ToolContext) -> str:
        """Never ends."""
        started.set()
        await asyncio.sleep(3600)
        return "unreachable"

    agent, model = make_agent(
        [
            {"tool_calls": [{"name": "echo", "arguments": {"text": "x"}}, {"name": "hang"}]},
            {"text": "fine"},
        ],
        tools=(echo, hang),
    )
    events = []
    async for ev in agent.run("go"):
        events.append(ev)
        if isinstance(ev, ToolStarted) and ev.name == "hang":
            await started.wait()
            agent.interrupt("user")
    stop = next(e for e in events if isinstance(e, AgentInterrupted))
    hang_id = agent.history[1].tool_uses[1].id
    assert stop.cancelled_tool_calls == [hang_id]
    results = agent.history[2].content
    assert [r.text for r in results] == ["X", INTERRUPTED_RESULT]
    assert results[1].is_error
    await collect(agent, "skip it")
    assert (
        model.requests[1]
        .messages[-1]
        .content[0]
        .text.startswith(f"[The user interrupted tool call(s) {hang_id}")
    )


async def test_interrupt_when_idle_is_a_no_op():
    agent, _ = make_agent([{"text": "hi"}])
    assert agent.interrupt() is False


async def test_tools_see_the_step_and_report_meta_in_the_event():
    seen: list[int] = []

    @tool(name="note", read_only=True)
    async def note(ctx: ToolContext) -> str:
        """Notes the step."""
        seen.append(ctx.step)
        ctx.meta["cached"] = ctx.file_state == "state"
        return "ok"

    model = ScriptedModel([{"tool_calls": [{"name": "note"}]}] * 2 + [{"text": "done"}])
    agent = Agent(
        model,
        ToolRegistry([note]),
        AgentConfig(system_prompt="S", cwd=Path(".")),
        file_state="state",
    )
    events = await collect(agent)
    assert seen == [1, 2]
    assert [e.meta for e in events if isinstance(e, ToolFinished)] == [{"cached": True}] * 2


async def test_an_abandoned_run_leaves_history_sound_and_the_next_run_works():
    started = asyncio.Event()

    @tool(name="hang")
    async def hang(ctx: ToolContext) -> str:
        """Never ends."""
        started.set()
        await asyncio.sleep(3600)
        return "unreachable"

    agent, model = make_agent(
        [{"text": "abc", "tool_calls": [{"name": "hang"}]}, {"text": "second answer"}],
        tools=(hang,),
    )
    gen = agent.run("one")
    async for ev in gen:
        if isinstance(ev, ToolStarted):
            await started.wait()
            break  # the consumer walks away mid-tool
    await gen.aclose()
    assert not agent.running
    roles = [m.role for m in agent.history]
    assert roles == ["user", "assistant", "user"]
    assert agent.history[2].content[0].is_error
    events = await collect(agent, "two")
    assert events[-1].result == "second answer"
    assert model.requests[1].messages[-1].text.endswith("two")


async def test_a_tool_that_swallows_the_interrupt_still_ends_the_run():
    cancelled_seen: list[bool] = []

    @tool(name="stubborn")
    async def stubborn(ctx: ToolContext) -> str:
        """Cleans up on cancel and returns anyway."""
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled_seen.append(ctx.cancelled.is_set())
            return "cleaned up"
        return "unreachable"

    agent, model = make_agent(
        [{"tool_calls": [{"name": "stubborn"}, {"name": "stubborn"}]}, {"text": "never"}],
        tools=(stubborn,),
    )
    events = []
    async for ev in agent.run("go"):
        events.append(ev)
        if isinstance(ev, ToolStarted):
            await asyncio.sleep(0.01)
            agent.interrupt("SIGINT")
    assert events[-1].stop_reason == "interrupted"
    assert len(model.requests) == 1  # no further model call after the interrupt
    assert cancelled_seen == [True]  # the tool saw ctx.cancelled; the second never ran
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [e.result.text for e in finished] == ["cleaned up", INTERRUPTED_RESULT]
    assert next(e for e in events if isinstance(e, AgentInterrupted)).cancelled_tool_calls == [
        agent.history[1].tool_uses[1].id
    ]


@pytest.mark.parametrize(
    ("stop", "kind", "needle"),
    [("max_tokens", "max_tokens", "cut at the output limit"), ("refusal", "refusal", "refused")],
)
async def test_a_cut_or_refused_final_answer_is_not_a_success(stop, kind, needle):
    agent, _ = make_agent([{"text": "partial answ", "stop_reason": stop}])
    events = await collect(agent)
    end = events[-1]
    assert (end.stop_reason, end.error_kind, end.result) == ("error", kind, "partial answ")
    assert needle in end.error


async def test_streamed_tool_call_deltas_carry_id_and_name():
    agent, _ = make_agent(
        [{"tool_calls": [{"id": "c1", "name": "echo", "arguments": {"text": "x"}}]}, {"text": "ok"}]
    )
    events = await collect(agent)
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert [(d.index, d.call_id, d.name) for d in deltas] == [(0, "c1", "echo")] * 2
    assert "".join(d.fragment for d in deltas) == '{"text": "x"}'


async def test_an_interrupt_before_the_loop_starts_ends_the_run_cleanly():
    agent, model = make_agent([{"text": "never"}, {"text": "second"}])
    gen = agent.run("go")
    first = asyncio.ensure_future(gen.__anext__())
    await asyncio.sleep(0)  # the run's task exists but has not started yet
    assert agent.interrupt("SIGINT")
    events = [await first] + [ev async for ev in gen]
    assert [type(e) for e in events] == [AgentInterrupted, TurnFinished]
    assert events[-1].stop_reason == "interrupted" and model.requests == []
    assert [e.result for e in await collect(agent, "again") if isinstance(e, TurnFinished)] == [
        "never"
    ]
