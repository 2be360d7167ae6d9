"""Built-in judgement of bash commands: parse with bashlex, check every simple command
against the program specs, and say allow, ask or deny with reasons.

bashlex is imported only when a command is analyzed, never at import of this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from friday.permissions.shell.watchdog import ParseTimeout
from friday.permissions.verdict import PARSE_ERROR, Reason, ShellContext, Verdict

if TYPE_CHECKING:
    from friday.permissions.specs import Specs

__all__ = ["analyze_shell"]


def analyze_shell(command: str, ctx: ShellContext, specs: Specs | None = None) -> Verdict:
    """Built-in judgement of a bash command (no user rules, no mode). Never raises: any
    internal exception becomes ask with PARSE_ERROR. specs=None -> load_specs() default."""
    try:
        from friday.permissions.shell.analyze import run
        from friday.permissions.specs import load_specs

        return run(command, ctx, specs if specs is not None else load_specs())
    except (Exception, ParseTimeout) as exc:  # fail closed: a checker bug must never allow
        from friday.permissions.specs import SpecError

        if isinstance(exc, SpecError):
            raise
        return Verdict.of(
            [
                Reason(
                    PARSE_ERROR,
                    f"the command could not be checked ({type(exc).__name__}); it needs approval.",
                    "ask",
                )
            ]
        )
