"""The `bash` tool as the model sees it, bound to one ShellSession. The process work is in
`friday.tools.shell.run`, imported on the first call, so declaring the tool costs start-up
nothing."""

from __future__ import annotations

from friday.tools.base import Tool, ToolContext, ToolOutput, tool
from friday.tools.shell.session import ShellSession

DEFAULT_TIMEOUT = 120
MAX_TIMEOUT = 600

# The prompt text, reviewed as text; {placeholders} keep it in step with the limits.
DESCRIPTION = """\
Run a shell command with bash (`bash -c COMMAND`) in the workspace and return its output
(stdout and stderr together, in order) and exit code. A non-zero exit code is reported,
not treated as a failure of the tool.

The working directory persists between calls: after `cd src`, the next command runs in
src (the result says when it changed). Nothing else persists: variables, functions and
aliases are gone in the next call, and background jobs (`&`) are stopped when the
command ends, so start a server and its client in the same command.

Prefer the dedicated tools: read_file rather than cat/head/tail, grep rather than
grep/rg, glob rather than find or ls -R, edit_file/write_file rather than sed -i or echo
redirection. Use bash for builds, tests, git, package managers and other programs.

Output is capped at {MAX_CHARS} characters: beyond that the first ~{HEAD_CHARS} and last
~{TAIL_CHARS} are kept, and the full output is saved to a file you can read with read_file.
Timeout: {DEFAULT_TIMEOUT} s by default, at most {MAX_TIMEOUT} s; on timeout the command and
every process it started are killed and the partial output is returned.

stdin is /dev/null and there is no terminal: interactive programs (editors, pagers,
prompts, REPLs, `git rebase -i`) cannot be used; pass flags such as --yes, --no-edit or
-m instead. Pagers are off (PAGER=cat) and colour is off (NO_COLOR=1, TERM=dumb).

Give a short `description` of what the command does, for the user.

Args:
    command: the bash command or script to run; several lines are fine.
    timeout: seconds before the command is killed, 1-{MAX_TIMEOUT} (default {DEFAULT_TIMEOUT}).
    description: a few words saying what the command does, shown to the user, e.g.
        "Run the unit tests".
"""


def make_shell_tool(session: ShellSession) -> Tool:
    """A Tool named "bash" that runs commands in `session` (its root, its current
    directory, its output folder)."""

    async def bash(
        ctx: ToolContext,
        command: str,
        timeout: int | None = None,
        description: str | None = None,
    ) -> ToolOutput:
        from friday.tools.shell.run import run_bash

        return await run_bash(session, ctx, command, timeout, description)

    from friday.tools.shell.output import HEAD_CHARS, MAX_CHARS, TAIL_CHARS

    bash.__doc__ = DESCRIPTION.format(
        MAX_CHARS=f"{MAX_CHARS:,}",
        HEAD_CHARS=f"{HEAD_CHARS:,}",
        TAIL_CHARS=f"{TAIL_CHARS:,}",
        DEFAULT_TIMEOUT=DEFAULT_TIMEOUT,
        MAX_TIMEOUT=MAX_TIMEOUT,
    )
    return tool(bash, name="bash", read_only=False)
