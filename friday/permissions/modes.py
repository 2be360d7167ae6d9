"""Permission modes, applied to a verdict after the rules.

- default: the verdict as it is.
- accept-edits: file writes inside the workspace go ahead. A sub-command's write reasons
  are lifted only when every one of them names a path (a reason without a path is never
  lifted) inside the workspace root and outside any `.git` directory, after resolving
  symlinks, so `ln -s ~ h; echo x > h/.bashrc` still asks.
- plan: read and explore only; everything that would ask is refused.
- bypass: nothing asks; deny still refuses.
"""

from __future__ import annotations

import os
from dataclasses import replace

from friday.permissions.verdict import (
    FILE_WRITE,
    LIMIT,
    MODE,
    REDIRECT_WRITE,
    WRITE_FLAG,
    Reason,
    Verdict,
)

MODES: tuple[str, ...] = ("default", "accept-edits", "plan", "bypass")
WRITE_CODES = frozenset({FILE_WRITE, WRITE_FLAG, REDIRECT_WRITE})


def apply_mode(verdict: Verdict, mode: str, root: str) -> Verdict:
    if mode == "accept-edits":
        return _accept_edits(verdict, root)
    if mode == "plan":
        return _rewrite_asks(verdict, "deny", "plan mode: read and explore only; not run")
    if mode == "bypass":
        # A command too long or too deep to check was never judged: letting bypass run
        # it would turn a limit into a skipped check, so that ask stays.
        return _rewrite_asks(
            verdict, "allow", "bypass mode: allowed without asking", keep=frozenset({LIMIT})
        )
    return verdict


def _rewrite_asks(
    verdict: Verdict, to: str, message: str, keep: frozenset[str] = frozenset()
) -> Verdict:
    if not any(r.decision == "ask" and r.code not in keep for r in verdict.reasons):
        return verdict
    reasons = [
        replace(r, decision=to) if r.decision == "ask" and r.code not in keep else r
        for r in verdict.reasons
    ]
    reasons.append(Reason(MODE, message, to))  # type: ignore[arg-type]
    return verdict.with_reasons(reasons)


def _accept_edits(verdict: Verdict, root: str) -> Verdict:
    groups: dict[int | None, list[Reason]] = {}
    for r in verdict.reasons:
        if r.code in WRITE_CODES and r.decision == "ask":
            groups.setdefault(r.sub, []).append(r)
    lifted = {
        sub
        for sub, writes in groups.items()
        if all(r.path is not None and inside_workspace(r.path, root) for r in writes)
    }
    if not lifted:
        return verdict
    reasons = [r for r in verdict.reasons if not (r.code in WRITE_CODES and r.sub in lifted)]
    for sub in sorted(lifted, key=lambda s: -1 if s is None else s):
        message = "accept-edits mode: writes inside the workspace are allowed"
        reasons.append(Reason(MODE, message, "allow", sub=sub))
    return verdict.with_reasons(reasons)


def inside_workspace(path: str, root: str) -> bool:
    """Strictly inside `root` (symlinks resolved) and not under a `.git` directory."""
    if not os.path.isabs(path):
        return False
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    try:
        rel = os.path.relpath(real, real_root)
    except ValueError:
        return False
    parts = rel.split(os.sep)
    if rel == os.curdir or parts[0] == os.pardir:
        return False
    return all(p.lower() != ".git" for p in parts)
