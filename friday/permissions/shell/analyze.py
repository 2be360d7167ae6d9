"""The entry point: checks that come before parsing (NUL, size, fork bombs), the parse and
walk, and the checks over the whole command (sub-command count, running from outside
the workspace). Nothing here raises: an internal error asks."""

from __future__ import annotations

import re

from friday.permissions.shell.core import Analysis
from friday.permissions.specs import Specs
from friday.permissions.verdict import (
    DESTRUCTIVE_TARGET,
    LIMIT,
    OUTSIDE_WORKSPACE,
    PARSE_ERROR,
    Reason,
    ShellContext,
    Verdict,
)

MAX_CHARS = 10_000  # longer commands ask (and are still checked in full up to MAX_PARSED)
MAX_PARSED = 100_000  # longer than this is not parsed at all: ask, with no parse
MAX_SUBCOMMANDS = 200
# Names are bounded and must start after a separator, so the scan stays linear on long words.
FUNC_DEF = re.compile(r"(?:^|(?<=[\s;&|(){}]))([^\s(){};|&<>'\"]{1,64})\s*\(\s*\)\s*\{")
FUNC_DEF_KW = re.compile(r"function\s+([^\s(){};|&<>'\"]{1,64})\s*\{")


def fork_bomb(command: str) -> bool:
    """A function that pipes itself into itself (`:(){ :|:& };:` and renamed forms).
    Detected on the text: bashlex may not parse it, and it must deny whatever happens."""
    for m in (*FUNC_DEF.finditer(command), *FUNC_DEF_KW.finditer(command)):
        name = re.escape(m.group(1))
        body = command[m.end() : m.end() + 200]
        if re.search(rf"(?<![\w-]){name}\s*\|&?\s*{name}(?![\w-])", body) or re.search(
            rf"(?<![\w-]){name}\s*&\s*(?<![\w-]){name}", body
        ):
            return True
    return False


def run(command: str, ctx: ShellContext, specs: Specs) -> Verdict:
    if "\x00" in command:
        return Verdict.of([Reason(LIMIT, "the command contains a NUL byte.", "ask")])
    if fork_bomb(command):
        return Verdict.of(
            [Reason(DESTRUCTIVE_TARGET, "the command is a fork bomb.", "deny", (0, len(command)))]
        )
    if len(command) > MAX_PARSED:
        return Verdict.of(
            [
                Reason(
                    LIMIT,
                    f"the command is longer than {MAX_PARSED} characters, too long "
                    "to check; write it to a script file and run that.",
                    "ask",
                )
            ]  # fmt: skip
        )
    an = Analysis.start(command, ctx, specs)
    if not command.strip():
        return Verdict.of([Reason(PARSE_ERROR, "the command is empty.", "ask")])
    if len(command) > MAX_CHARS:
        an.add(LIMIT, "ask", f"the command is longer than {MAX_CHARS} characters.")
    from friday.permissions.shell.paths import inside

    if not inside(an.cwd or "/", an.root):
        an.add(
            OUTSIDE_WORKSPACE,
            "ask",
            f"the shell's current directory ({an.cwd}) is outside the workspace ({an.root}).",
        )
    from friday.permissions.shell.walk import analyze_text

    analyze_text(an, command, None, 0)
    if len(an.subs) > MAX_SUBCOMMANDS:
        an.add(LIMIT, "ask", f"the command has more than {MAX_SUBCOMMANDS} parts.")
    return Verdict.of(an.reasons, an.subcommands())
