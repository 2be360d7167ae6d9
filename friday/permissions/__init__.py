"""Permissions: the shell analyzer's verdicts, with the policy (presets, user and project
rules, trust, modes) on top.

Importing this package is cheap: the analyzer (and bashlex) load on the first analysis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from friday.permissions.verdict import Reason, ShellContext, SubCommand, Verdict

if TYPE_CHECKING:
    from friday.permissions.policy import Policy

__all__ = ["Reason", "ShellContext", "SubCommand", "Verdict", "analyze"]


def analyze(command: str, context: ShellContext, policy: Policy | None = None) -> Verdict:
    """The verdict on `command` run in `context`. With no policy: the default preset, the
    default mode, no user or project files."""
    if policy is None:
        from friday.permissions.policy import preset_policy

        policy = preset_policy("default")
    return policy.judge_shell(command, context)
