"""Shared pieces for the context tests: a counter with round numbers (4 characters a
token), history builders that produce what the real tools produce, and a summary reply."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from friday.context.manager import ContextManager, ContextSettings
from friday.context.offload import OutputStore
from friday.messages import Msg, TextBlock, ToolResultBlock, ToolUseBlock
from friday.models.base import ToolSpec


class FourCharCounter:
    """Four characters a token, no overhead: figures a test can work out by hand."""

    name = "test:4chars"

    def count(self, text: str) -> int:
        return len(text) // 4

    def message(self, msg: Msg) -> int:
        total = 0
        for block in msg.content:
            if isinstance(block, TextBlock | ToolResultBlock):
                total += self.count(block.text)
            elif isinstance(block, ToolUseBlock):
                total += self.count(block.name + json.dumps(block.input, sort_keys=True))
        return total

    def request(self, system: str, tools: Sequence[ToolSpec], messages: Sequence[Msg]) -> int:
        return self.count(system) + sum(self.message(m) for m in messages)


SUMMARY = {
    "goal": "Make greet() say hello instead of hi.",
    "state": "app.py edited; the test run failed once on an import error, now fixed.",
    "findings": ["greet lives in app.py", "tests run with pytest -q"],
    "next_steps": ["run the tests again"],
    "open_questions": [],
}


def manager(
    tmp_path: Path,
    window: int | None = 10_000,
    *,
    file_state: Any = None,
    system_prompt: Any = None,
    **settings: Any,
) -> ContextManager:
    return ContextManager(
        ContextSettings(window=window, **settings),
        store=OutputStore(tmp_path / "outputs"),
        counter=FourCharCounter(),
        file_state=file_state,
        system_prompt=system_prompt,
        cwd=tmp_path,
    )


def bash_turn(
    n: int, command: str, output: str, exit_code: int = 0, thought: str = ""
) -> list[Msg]:
    """One assistant tool call and its result, as the shell tool reports it."""
    call = ToolUseBlock(f"call_{n}", "bash", {"command": command})
    result = ToolResultBlock(
        call.id, f"{output}\n[exit code {exit_code} · 0.1 s]", is_error=exit_code != 0
    )
    return [
        Msg("assistant", (TextBlock(f"step {n}. {thought}"), call)),
        Msg("user", (result,)),
    ]


def read_turn(n: int, path: str, text: str) -> list[Msg]:
    call = ToolUseBlock(f"call_{n}", "read_file", {"path": path})
    numbered = "\n".join(f"{i:>6}\t{line}" for i, line in enumerate(text.splitlines(), 1))
    return [Msg("assistant", (call,)), Msg("user", (ToolResultBlock(call.id, numbered),))]


def long_history(turns: int, output_chars: int = 2_000, thought_chars: int = 0) -> list[Msg]:
    """A task and `turns` shell calls; `thought_chars` of reasoning per call make a
    history that masking alone cannot shrink enough."""
    history = [Msg.user("Make greet() say hello instead of hi. Keep the tests green.")]
    thought = "I will look at the next part to see what it holds. " * (thought_chars // 52)
    for n in range(1, turns + 1):
        output = f"line of part {n}\n" * (output_chars // 15)
        history += bash_turn(n, f"cat part{n}.txt", output, thought=thought)
    return history


def chatty_history(turns: int) -> list[Msg]:
    """Long reasoning, short outputs: only a compaction can shrink it."""
    return long_history(turns, output_chars=400, thought_chars=1_300)


def pairs_intact(history: Sequence[Msg]) -> bool:
    """Every tool call has its result right after it, and every result its call."""
    for i, msg in enumerate(history):
        if msg.role == "assistant" and msg.tool_uses:
            nxt = history[i + 1] if i + 1 < len(history) else None
            ids = (
                {b.tool_use_id for b in nxt.content if isinstance(b, ToolResultBlock)}
                if nxt
                else set()
            )
            if {c.id for c in msg.tool_uses} - ids:
                return False
        if msg.role == "user":
            results = [b for b in msg.content if isinstance(b, ToolResultBlock)]
            prev = history[i - 1] if i > 0 else None
            calls = {c.id for c in prev.tool_uses} if prev is not None else set()
            if any(r.tool_use_id not in calls for r in results):
                return False
    return True


class SummarizingModel:
    """A scripted model that answers summarizing calls (recognized by the instruction)
    with SUMMARY and every other call from its script, wherever the compaction falls."""

    def __init__(self, turns: list[dict[str, Any]]) -> None:
        from friday.context.summary import summary_instruction
        from friday.models.scripted import ScriptedModel

        self.script = ScriptedModel(turns)
        self.summaries = ScriptedModel([{"text": json.dumps(SUMMARY)}] * 50)
        self.name, self.model_id, self.provider = "scripted:test", "test", "scripted"
        self.marker = summary_instruction(None)[:60]

    @property
    def requests(self) -> list[Any]:
        return self.script.requests

    def stream(self, request: Any) -> Any:
        last = request.messages[-1].text if request.messages else ""
        model = self.summaries if last.startswith(self.marker) else self.script
        return model.stream(request)
