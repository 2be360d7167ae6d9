"""The size of Friday's first request body per protocol, split into system prompt, tool
schemas, messages and the rest, as recorded by tools/fakellm from a real `friday -p` run
with the default tool set.

    python -m tools.bench.request_size [--show]

Target: <= 15,000 bytes. For scale: Codex sends 39.5 KB, Claude Code 76 KB.
The task runs in an empty temporary folder (no git, no AGENTS.md); one more Anthropic
run with `--cwd` on this repository shows what git status and project instructions add.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tools.bench.common import REPO, check, clean_env, friday_command, run_child, scratch, table
from tools.fakellm import FakeLLM

TARGET_BYTES = 15_000
SCALE = "for scale: Codex 39.5 KB, Claude Code 76 KB"
MODELS = (
    ("anthropic", "anthropic:claude-sonnet-4-5", None),
    ("openai (Responses)", "openai:gpt-5", None),
    ("openai-chat", "openai-chat:gpt-4o", None),
    ("anthropic, --cwd repo", "anthropic:claude-sonnet-4-5", REPO),
)
SYSTEM_ROLES = ("system", "developer")


def encoded(value: Any) -> int:
    """Bytes of `value` as the SDKs send it (compact JSON); 0 for a part that is absent."""
    return len(json.dumps(value, separators=(",", ":")).encode()) if value else 0


def system_text(value: Any) -> str:
    """The prompt text in a system field: a string, text blocks, or a chat message."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(system_text(v) for v in value)
    if isinstance(value, dict):
        return system_text(value.get("text") or value.get("content") or "")
    return ""


def parts(body: dict[str, Any]) -> dict[str, Any]:
    """The system prompt, tools and conversation of a request body in any of the three
    protocols (Anthropic `system`, Responses `instructions`, Chat system messages)."""
    system: list[Any] = []
    for key in ("system", "instructions"):
        if key in body:
            system.append(body[key])
    conversation = body.get("messages", body.get("input", []))
    if isinstance(conversation, list):
        system += [m for m in conversation if m.get("role") in SYSTEM_ROLES]
        conversation = [m for m in conversation if m.get("role") not in SYSTEM_ROLES]
    tools = body.get("tools", [])
    return {
        "system": system,
        "system_text": "".join(system_text(s) for s in system),
        "tools": tools,
        "tool_names": [t.get("name") or t.get("function", {}).get("name") for t in tools],
        "messages": conversation,
    }


def first_request(model: str, cwd: Path | None, root: Path) -> tuple[int, dict[str, Any]]:
    friday, _label = friday_command()
    with FakeLLM([{"text": "ok"}]) as srv:
        env = clean_env(
            root / "home",
            ANTHROPIC_API_KEY="test-key",
            ANTHROPIC_BASE_URL=srv.base_url,
            OPENAI_API_KEY="test-key",
            OPENAI_BASE_URL=srv.openai_base_url,
        )
        cmd = [*friday, "-p", "hello", "--model", model]
        if cwd is not None:
            cmd += ["--cwd", str(cwd)]
        check(run_child(cmd, env, root / "work"), " ".join(cmd[1:]))
        request = srv.requests[0]
    if request.body is None:
        raise SystemExit(f"bench: {model}: the first request has no JSON body")
    return request.size, request.body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.request_size")
    parser.add_argument("--show", action="store_true", help="also print the system prompt")
    args = parser.parse_args(argv)
    print("== request_size: the first request body of `friday -p hello`, bytes as sent")
    print(f"measured: {friday_command()[1]}")
    rows, shown = [], {}
    with scratch() as root:
        for label, model, cwd in MODELS:
            size, body = first_request(model, cwd, root)
            p = parts(body)
            sys_b, tools_b, msg_b = (
                encoded(p["system"]),
                encoded(p["tools"]),
                encoded(p["messages"]),
            )
            rows.append(
                [
                    label,
                    f"{size:,}",
                    f"{sys_b:,} ({len(p['system_text'].encode()):,})",
                    f"{tools_b:,} ({len(p['tools'])})",
                    f"{msg_b:,}",
                    f"{size - sys_b - tools_b - msg_b:,}",
                    f"<= {TARGET_BYTES:,}",
                    "PASS" if size <= TARGET_BYTES else "MISS",
                ]
            )
            shown.setdefault(p["system_text"], label)
            names = p["tool_names"]
    header = ["protocol", "total", "system (text)", "tools (count)", "messages", "other"]
    print(table([*header, "target", ""], rows))
    print("system: the system field(s) as JSON, with the prompt's UTF-8 text size in brackets;")
    print("other: model, limits, stream flags, cache keys. " + SCALE)
    print(f"default tools ({len(names)}): {', '.join(names) or 'none'}")
    if args.show:
        for text, label in shown.items():
            print(f"\n-- system prompt ({label}) --\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
