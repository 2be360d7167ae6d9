"""Tokens the read cache saves: one scripted session (explore a small project, re-read
files while working, edit one, re-check) run in-process through `friday.agent.Agent`
twice, with FileState(dedupe_reads=True) and with it off.

    python -m tools.bench.read_cache

Counted: the input tokens of every model request summed over the session (what a
provider bills without prompt caching: the history is sent again each turn), and the
tool-result tokens in the final context (what stays in the window). Tokens are
tiktoken's cl100k_base when its encoding file is already cached on this machine (nothing
is downloaded), else characters / 4. No target: the issue asks for the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from friday.agent import Agent, AgentConfig
from friday.events import ToolFinished, TurnFinished
from friday.messages import Msg
from friday.models.base import Request
from friday.models.scripted import ScriptedModel
from friday.tools.base import ToolRegistry
from friday.tools.files import FILE_TOOLS, FileState
from tools.bench.common import table

SYSTEM = "You are a coding agent. Use the tools to read and change files."
MODULES = {  # name -> functions in it (13 lines each)
    "app/models.py": 40,
    "app/views.py": 60,
    "app/services.py": 90,
    "app/utils.py": 25,
    "tests/test_services.py": 70,
}
TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


def module_text(name: str, functions: int) -> str:
    stem = Path(name).stem
    parts = [f'"""{stem}: generated for the read-cache benchmark."""\n\nimport os\n']
    for n in range(functions):
        parts.append(
            f"\n\ndef {stem}_step_{n}(value, *, scale=1.0, label=None):\n"
            f'    """Apply step {n} of the {stem} pipeline to `value`."""\n'
            "    if value is None:\n"
            f'        raise ValueError("{stem} step {n} needs a value")\n'
            f"    result = (value + {n}) * scale\n"
            "    if label is not None:\n"
            f'        result = f"{{label}}: {{result}}"\n'
            f"    for attempt in range({n % 5 + 1}):\n"
            "        if os.environ.get('DEBUG_PIPELINE'):\n"
            f'            print("attempt", attempt, "{stem}", {n})\n'
            "    return result\n"
        )
    return "".join(parts)


def read(path: str, **window: int) -> dict:
    return {"text": f"Looking at {path}.", "tool_calls": [_call("read_file", path=path, **window)]}


def _call(name: str, **arguments: object) -> dict:
    return {"name": name, "arguments": arguments}


def script() -> list[dict]:
    """An agent fixing a bug: it surveys the modules, goes back to ones it has seen
    (unchanged), edits services.py, checks the edit, and re-reads while writing a test."""
    fix = _call(
        "edit_file",
        path="app/services.py",
        old_string="    result = (value + 42) * scale\n",
        new_string="    result = (value + 42) * (scale or 1.0)\n",
    )
    test = _call(
        "edit_file",
        path="tests/test_services.py",
        old_string='"""test_services: generated for the read-cache benchmark."""\n',
        new_string='"""test_services: generated for the read-cache benchmark."""\n'
        "# scale=0 must not zero the result\n",
    )
    return [
        read("app/models.py"),
        read("app/views.py"),
        read("app/services.py"),
        read("app/utils.py"),
        read("app/models.py"),  # unchanged: the cache answers
        read("app/services.py", offset=540, limit=40),  # a window of what was shown
        {"text": "Found it.", "tool_calls": [fix]},
        read("app/services.py", offset=540, limit=40),  # changed by the edit: text again
        read("app/views.py"),
        read("tests/test_services.py"),
        read("app/utils.py"),
        {"text": "Adding a note to the test.", "tool_calls": [test]},
        read("app/models.py"),
        read("app/services.py"),  # changed since the full read: text again
        read("app/services.py"),  # now unchanged
        read("app/views.py", offset=1, limit=100),
        {"text": "The scale default no longer zeroes results; a test note marks the case."},
    ]


@dataclass(frozen=True)
class Figures:
    sent: int  # input tokens summed over all requests
    context: int  # tool-result tokens in the final context
    results: int
    deduped: int
    turns: int


def counter() -> tuple[Callable[[str], int], str]:
    """tiktoken when its cl100k_base file is already in the cache, else chars / 4."""
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    folder = Path(cache or Path(tempfile.gettempdir()) / "data-gym-cache")
    if (folder / hashlib.sha1(TIKTOKEN_URL.encode()).hexdigest()).is_file():
        try:
            import tiktoken

            enc = tiktoken.get_encoding("cl100k_base")
            return (lambda text: len(enc.encode(text, disallowed_special=()))), "tiktoken"
        except Exception:
            pass
    return (lambda text: len(text) // 4), "characters / 4 (no cached tiktoken encoding)"


def request_text(request: Request) -> str:
    parts = [request.system, *(f"{s.name}{s.description}{s.parameters}" for s in request.tools)]
    parts += [_message_text(m) for m in request.messages]
    return "".join(parts)


def _message_text(message: Msg) -> str:
    out = []
    for block in message.content:
        if block.type == "tool_result":
            out.append(block.text)
        elif block.type == "tool_use":
            out.append(f"{block.name}{block.input}")
        else:
            out.append(getattr(block, "text", ""))
    return "".join(out)


async def session(root: Path, dedupe: bool, tokens: Callable[[str], int]) -> Figures:
    for name, functions in MODULES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(module_text(name, functions))
    model = ScriptedModel(script())
    agent = Agent(
        model,
        ToolRegistry(FILE_TOOLS),
        AgentConfig(system_prompt=SYSTEM, cwd=root),
        file_state=FileState(dedupe_reads=dedupe),
    )
    events = [ev async for ev in agent.run("scale=0 zeroes every result; fix it")]
    end = events[-1]
    done = [e for e in events if isinstance(e, ToolFinished)]
    if not isinstance(end, TurnFinished) or end.stop_reason != "end_turn":
        raise SystemExit(f"bench: the scripted session did not finish: {end!r}")
    if any(e.result.is_error for e in done):
        raise SystemExit(f"bench: a tool call failed: {[e.result.text for e in done]}")
    return Figures(
        sent=sum(tokens(request_text(r)) for r in model.requests),
        context=sum(tokens(e.result.text) for e in done),
        results=len(done),
        deduped=sum("unchanged_since_step" in e.meta for e in done),
        turns=end.turns,
    )


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m tools.bench.read_cache").parse_args(argv)
    tokens, how = counter()
    with tempfile.TemporaryDirectory(prefix="friday-bench-") as tmp:
        on = asyncio.run(session(Path(tmp) / "on", True, tokens))
        off = asyncio.run(session(Path(tmp) / "off", False, tokens))
    sizes = ", ".join(f"{n} ({f * 13 + 3} lines)" for n, f in MODULES.items())
    print(f"== read_cache: one scripted session of {on.turns} turns, {on.results} tool calls")
    print(f"files: {sizes}")
    print(f"tokens: {how}")
    rows = []
    for label, attr in (
        ("input tokens sent, all requests", "sent"),
        ("tool-result tokens in final context", "context"),
    ):
        a, b = getattr(off, attr), getattr(on, attr)
        rows.append([label, f"{a:,}", f"{b:,}", f"{a - b:,}", f"{(a - b) / a:.0%}"])
    print(table(["", "cache off", "cache on", "saved", "saved %"], rows))
    print(f"re-reads answered 'unchanged since step N': {on.deduped} of {on.results} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
