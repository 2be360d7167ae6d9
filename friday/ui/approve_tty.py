"""Permission questions on the terminal, for `friday -p` runs that have one.

The question goes to the controlling terminal (/dev/tty), not to stdout or stderr, so
`friday -p ... | jq` still gets clean output while the user at the keyboard answers. It
shows what would run, why it asks, and exactly which rule "this session" or "always for
this project" would add before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from friday.permissions.gate import Answer, ApprovalRequest

TTY = "/dev/tty"

_KEYS = {
    "y": "once",
    "yes": "once",
    "s": "session",
    "a": "always",
    "n": "deny",
    "no": "deny",
}


def open_terminal(path: str = TTY) -> tuple[Any, Any] | None:
    """The terminal for reading and writing, or None when this process has none."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    if not os.isatty(fd):
        os.close(fd)
        return None
    reader = os.fdopen(fd, "r", encoding="utf-8", errors="replace", closefd=True)
    writer = os.fdopen(os.dup(fd), "w", encoding="utf-8", errors="replace", closefd=True)
    return reader, writer


class TerminalApprover:
    """Asks on the terminal with prompt-toolkit. Ctrl-C at the question declines it and
    interrupts the run (`on_interrupt`); Ctrl-D declines it."""

    interactive = True

    def __init__(self, terminal: tuple[Any, Any], on_interrupt: Callable[[], Any]) -> None:
        self.reader, self.writer = terminal
        self.on_interrupt = on_interrupt

    async def ask(self, request: ApprovalRequest) -> Answer:
        self._say(describe(request))
        keys = "[y] yes, once"
        if "session" in request.choices:
            keys += "  [s] this session  [a] always for this project"
        keys += "  [n] no"
        while True:
            reply = await self._prompt(f"{keys}\nallow? ")
            if reply is None:
                return Answer("deny", by="interrupt")
            choice = _KEYS.get(reply.strip().lower())
            if choice is not None and choice in request.choices:
                break
            self._say(f"answer one of: {', '.join(_shown_keys(request))}")
        if choice == "deny":
            message = await self._prompt("tell the agent why, or what to do instead (optional): ")
            return Answer("deny", message=(message or "").strip())
        return Answer(choice)  # type: ignore[arg-type]

    async def confirm_trust(self, policy_file: Path, rules: list[str]) -> bool:
        lines = [
            f"{policy_file} allows commands that would otherwise ask:",
            *(f"  allow {r}" for r in rules),
            "Trust this project's policy? It is remembered until the file changes.",
        ]
        self._say("\n".join(lines))
        reply = await self._prompt("[y] trust  [n] ignore its allow rules: ")
        return reply is not None and reply.strip().lower() in ("y", "yes")

    def _say(self, text: str) -> None:
        self.writer.write(text + "\n")
        self.writer.flush()

    async def _prompt(self, message: str) -> str | None:
        """One line from the terminal; None on Ctrl-C (and the run is interrupted)."""
        from prompt_toolkit import PromptSession
        from prompt_toolkit.input import create_input
        from prompt_toolkit.output import create_output

        session: PromptSession[str] = PromptSession(
            input=create_input(stdin=self.reader), output=create_output(stdout=self.writer)
        )
        try:
            return await session.prompt_async(message)
        except KeyboardInterrupt:
            self.on_interrupt()
            return None
        except EOFError:
            return ""


def describe(request: ApprovalRequest) -> str:
    """The question as the user reads it: what, why, and what an answer would add."""
    lines = [f"\nfriday wants to run {request.tool}: {request.summary}"]
    for r in request.verdict.reasons:
        if r.decision != "allow":
            lines.append(f"  {r.code}: {r.message}")
    if request.rules:
        shown = ", ".join(request.rule_texts())
        lines.append(f"  [s] allows for this session: {shown}")
        lines.append(f"  [a] writes to {request.project_policy}: allow {shown}")
    return "\n".join(lines)


def _shown_keys(request: ApprovalRequest) -> list[str]:
    return [k for k, v in _KEYS.items() if v in request.choices and len(k) == 1]
