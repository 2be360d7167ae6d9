"""Framework overhead per turn: a 50-turn tool loop run in-process by `friday.agent.Agent`
with the scripted model (49 turns that each say a line and call a trivial read-only tool,
then a final answer), every event consumed, plus the cost of encoding every event as JSON.

    python -m tools.bench.turn_overhead [--runs 5]

No target: the figures show what the loop itself costs between model and tools (request
building, event stamping, history, the scripted stream's own chunking), with no network.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass

from friday.agent import Agent, AgentConfig
from friday.events import Event, TurnFinished
from friday.models.scripted import ScriptedModel
from friday.prompt import build_system_prompt
from friday.tools.base import ToolContext, ToolRegistry, tool
from tools.bench.common import REPO, Stats, load_note, noise_note, runs_option, table

TURNS = 50
FINAL = (
    "The timeout comes from the fixture, which writes the config after the loader reads "
    "it; moving the write into the session-scoped fixture fixes the failing test."
)


@tool(read_only=True)
async def lookup(ctx: ToolContext, key: str) -> str:
    """Look a key up in a small table.

    Args:
        key: the key to look up.
    """
    return f"{key} = {len(key)}"


def script() -> list[dict[str, object]]:
    calls = [
        {
            "text": f"Checking entry {n} next.",
            "tool_calls": [{"name": "lookup", "arguments": {"key": f"entry-{n}"}}],
        }
        for n in range(1, TURNS)
    ]
    return [*calls, {"text": FINAL}]


@dataclass(frozen=True)
class Sample:
    cpu: float
    wall: float
    json_cpu: float
    json_bytes: int
    events: list[Event]


async def one_run(system_prompt: str) -> Sample:
    agent = Agent(
        ScriptedModel(script()),
        ToolRegistry([lookup]),
        AgentConfig(system_prompt=system_prompt, cwd=REPO),
    )
    cpu0, wall0 = time.process_time(), time.perf_counter()
    events = [ev async for ev in agent.run("find why the test fails")]
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    end = events[-1]
    if not isinstance(end, TurnFinished) or (end.stop_reason, end.turns) != ("end_turn", TURNS):
        raise SystemExit(f"bench: the loop did not finish {TURNS} turns: {end!r}")
    json0 = time.process_time()
    encoded = [ev.to_json() for ev in events]
    json_cpu = time.process_time() - json0
    return Sample(cpu, wall, json_cpu, sum(len(e.encode()) for e in encoded), events)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.turn_overhead")
    runs_option(parser, 5)
    args = parser.parse_args(argv)
    system_prompt = build_system_prompt(REPO)
    print(
        f"== turn_overhead: {TURNS}-turn tool loop in-process, {args.runs} runs (after 1 warm-up)"
    )
    print(f"system prompt: build_system_prompt({REPO}) = {len(system_prompt):,} characters")
    print(load_note())
    samples = [asyncio.run(one_run(system_prompt)) for _ in range(args.runs + 1)][1:]
    per_turn = {
        "CPU per turn (process_time)": Stats.of([s.cpu / TURNS for s in samples]),
        "wall per turn": Stats.of([s.wall / TURNS for s in samples]),
        "Event.to_json CPU per turn": Stats.of([s.json_cpu / TURNS for s in samples]),
    }
    rows = [
        [name, *(f"{v * 1000:.3f} ms" for v in (s.min, s.median, s.max))]
        for name, s in per_turn.items()
    ]
    print(table(["per turn", "min", "median", "max"], rows))
    events = samples[-1].events
    counts = Counter(ev.type for ev in events)
    print(
        f"events per run: {len(events)} ({len(events) / TURNS:.1f} per turn); JSON "
        f"{samples[-1].json_bytes:,} bytes ({samples[-1].json_bytes // TURNS:,} per turn)"
    )
    print("  " + ", ".join(f"{name} {n}" for name, n in counts.items()))
    if note := noise_note(per_turn):
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
