"""Where a path really points, and whether a tool may touch it there.

Every check runs on the path with symlinks resolved (a link inside the workspace that
points out of it is outside), and the sensitive-file check also runs on the path as
written, so neither spelling slips past. Writes outside the workspace and any access to
a sensitive file go to the approval gate; with no gate attached (`friday -p`) they are
refused. Nothing under a `.git` directory is ever written: git's own commands do that.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from friday.tools.files.errors import FileToolError

# Patterns for files that hold secrets. A pattern with no "/" matches the file name; one
# starting with "~/" or "/" matches the absolute path ("/**" at the end: anything below
# that folder); any other pattern with a "/" matches the last components of the path.
# A policy extends the list through `FileState(sensitive_patterns=...)`.
SENSITIVE_PATTERNS: tuple[str, ...] = (
    ".env*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.keystore",
    "*.jks",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".git-credentials",
    ".git/config",
    "~/.ssh/**",
    "~/.aws/**",
    "~/.gnupg/**",
    "~/.config/gcloud/**",
    "~/.kube/config",
    "~/.docker/config.json",
    "~/.config/gh/hosts.yml",
    "ssh_host_*key",
    "/root/.ssh/**",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/sudoers",
    "/proc/*/environ",
)


class ApprovalGate(Protocol):
    """What the file tools need from a permission gate: one question, a yes or a no."""

    async def request(self, *, tool: str, path: str, reason: str, message: str) -> bool: ...


class Target(NamedTuple):
    """A path a tool was asked to use: `path` is absolute with symlinks resolved,
    `literal` absolute as written (links not followed), `shown` how messages name it."""

    path: Path
    literal: Path
    shown: str
    inside: bool
    root: Path

    @property
    def key(self) -> str:
        return str(self.path)


def resolve_target(cwd: Path, raw: str) -> Target:
    """Resolve `raw` against the workspace root `cwd` (absolute and `~` paths accepted)."""
    if not raw or not raw.strip():
        raise FileToolError("bad_argument", "path is empty. Pass a file path.")
    if "\x00" in raw:
        raise FileToolError("bad_argument", "path contains a NUL character.")
    root = Path(os.path.realpath(cwd))
    joined = os.path.join(os.fspath(cwd), os.path.expanduser(raw))
    literal = Path(os.path.abspath(joined))
    resolved = Path(os.path.realpath(joined))
    inside = resolved == root or resolved.is_relative_to(root)
    return Target(resolved, literal, shown_path(resolved, root), inside, root)


def shown_path(path: Path, root: Path) -> str:
    """Relative to the workspace root when inside it, absolute otherwise."""
    if path == root:
        return "."
    if path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    return str(path)


def sensitive_match(path: Path, patterns: tuple[str, ...]) -> str | None:
    """The first pattern that `path` (absolute) matches, or None."""
    from fnmatch import fnmatchcase

    text = path.as_posix()
    parts = path.parts
    for pattern in patterns:
        if pattern.startswith(("~/", "/")):
            hit = any(_absolute_hit(text, form) for form in _absolute_forms(pattern))
        elif "/" in pattern:
            want = pattern.split("/")
            tail = "/".join(parts[-len(want) :]) if len(parts) >= len(want) else ""
            hit = fnmatchcase(tail, pattern)
        else:
            hit = fnmatchcase(path.name, pattern)
        if hit:
            return pattern
    return None


def _absolute_forms(pattern: str) -> set[str]:
    """The pattern with `~` expanded, both as written and with symlinks in its fixed
    folder part resolved (a home directory reached through a link still matches)."""
    expanded = os.path.expanduser(pattern)
    folder, sep, rest = expanded.partition("/**")
    forms = {expanded}
    if "*" not in folder:
        forms.add(os.path.realpath(folder) + sep + rest)
    return forms


def _absolute_hit(text: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase

    if pattern.endswith("/**"):
        folder = pattern[:-3]
        return text == folder or text.startswith(folder + "/")
    return fnmatchcase(text, pattern)


def in_git_internals(path: Path) -> bool:
    return ".git" in path.parts


async def guard(ctx: Any, tool: str, raw: str, *, write: bool, patterns: tuple[str, ...]) -> Target:
    """Resolve the path and apply the rules; returns the target or raises a refusal.
    `patterns` come from the FileState; a context that carries `sensitive_patterns`
    (a per-call policy) adds its own."""
    target = resolve_target(ctx.cwd, raw)
    patterns = (*patterns, *(getattr(ctx, "sensitive_patterns", None) or ()))
    if write and (in_git_internals(target.path) or in_git_internals(target.literal)):
        raise FileToolError(
            "git_internal",
            f"{target.shown} is inside a .git directory, which file tools never write. "
            "Use git commands through the shell to change the repository's state.",
        )
    pattern = sensitive_match(target.path, patterns) or sensitive_match(target.literal, patterns)
    if pattern is not None:
        what = "writing" if write else "reading"
        await _approve(
            ctx,
            tool,
            target,
            "sensitive",
            f"{target.shown} may hold secrets (it matches {pattern!r}), so {what} it needs "
            "the user's approval.",
        )
    if write and not target.inside:
        await _approve(
            ctx,
            tool,
            target,
            "outside_workspace",
            f"{target.shown} is outside the workspace ({target.root}), so writing it needs "
            "the user's approval.",
        )
    return target


async def _approve(ctx: Any, tool: str, target: Target, code: str, text: str) -> None:
    gate = ctx.approvals
    if gate is None:
        instead = "leave this file alone" if code == "sensitive" else "work inside the workspace"
        raise FileToolError(
            code,
            f"{text} No approval prompt is attached to this session, so the call was "
            f"refused: {instead}, or ask the user to do this step.",
        )
    allowed = await gate.request(tool=tool, path=str(target.path), reason=code, message=text)
    if not allowed:
        raise FileToolError(
            code, f"{text} The user declined. Do not retry it; choose another way or ask."
        )
