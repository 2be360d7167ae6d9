"""Walking a tree the way ripgrep does, for the Python backend.

The rules are ripgrep's (its `ignore` crate), with the flags Friday passes:

- Ignore files: `.rgignore`, then `.ignore`, then `.gitignore`, then the repository's
  `.git/info/exclude`, in that precedence. Each category is decided by the nearest
  directory whose file has a rule matching the path (the last matching line wins, a `!`
  line re-includes). Directories above the searched one count too.
- `.gitignore` and `info/exclude` apply only inside a git repository (a directory with a
  `.git`), and not above the repository root. `.ignore` and `.rgignore` always apply.
  No global gitignore (`core.excludesFile`) is read.
- Hidden names (leading `.`) are skipped unless the glob asks for them; `.git` always is.
- Symbolic links are not followed (neither to files nor to directories).
- An ignored directory is not entered, so nothing below it can be re-included.
- The searched path itself is never filtered.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from friday.tools.search.globs import Rule, gitignore_rule

IGNORE_FILES = (".rgignore", ".ignore", ".gitignore")


class Matcher:
    """The rules of one ignore file, rooted at its directory."""

    __slots__ = ("any", "rules")

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.any = re.compile("|".join(f"(?:{r.regex.pattern})" for r in rules))

    def match(self, rel: str, is_dir: bool) -> int:
        """1 ignored, -1 re-included, 0 no rule matches."""
        if self.any.fullmatch(rel) is None:
            return 0
        for rule in reversed(self.rules):
            if (is_dir or not rule.only_dir) and rule.regex.fullmatch(rel):
                return -1 if rule.whitelist else 1
        return 0


def read_rules(path: str) -> Matcher | None:
    """Rules of an ignore file; None when absent or empty. Like ripgrep, reading stops
    at the first line that is not UTF-8."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    rules = []
    for number, raw in enumerate(data.split(b"\n")):
        try:
            line = raw.removesuffix(b"\r").decode("utf-8")
        except UnicodeDecodeError:
            break
        if number == 0:
            line = line.removeprefix("\ufeff")
        rule = gitignore_rule(line)
        if rule is not None:
            rules.append(rule)
    return Matcher(rules) if rules else None


def _exclude_file(directory: str) -> str | None:
    """`info/exclude` of the repository whose `.git` is in `directory` (a worktree's
    `.git` file points at its git dir, whose `commondir` points at the shared one)."""
    dot_git = os.path.join(directory, ".git")
    if os.path.isdir(dot_git):
        return os.path.join(dot_git, "info", "exclude")
    try:
        with open(dot_git, encoding="utf-8") as f:
            line = f.readline().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not line.startswith("gitdir:"):
        return None
    git_dir = os.path.join(directory, line.removeprefix("gitdir:").strip())
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as f:
            git_dir = os.path.join(git_dir, f.read().strip())
    except (OSError, UnicodeDecodeError):
        pass
    return os.path.join(git_dir, "info", "exclude")


@dataclass(frozen=True, slots=True)
class Level:
    """The ignore files of one directory."""

    dir: str
    prefix: int  # len(directory) + 1: slicing an absolute path there gives it relative
    custom: Matcher | None
    ignore: Matcher | None
    git: Matcher | None
    exclude: Matcher | None
    has_git: bool


def read_level(directory: str, names: set[str] | None = None) -> Level:
    """`names`: the directory's entries when already listed (saves a stat per file)."""

    def present(name: str) -> bool:
        return (
            name in names if names is not None else os.path.lexists(os.path.join(directory, name))
        )

    found = [read_rules(os.path.join(directory, n)) if present(n) else None for n in IGNORE_FILES]
    has_git = present(".git")
    exclude_path = _exclude_file(directory) if has_git else None
    exclude = read_rules(exclude_path) if exclude_path else None
    prefix = 1 if directory == "/" else len(directory) + 1
    return Level(directory, prefix, found[0], found[1], found[2], exclude, has_git)


Chain = tuple[tuple[int, Matcher | None, Matcher | None, Matcher | None, Matcher | None], ...]


def chain_of(levels: list[Level]) -> Chain:
    """Levels nearest first -> what to consult for entries of the nearest directory:
    git rules only inside a repository and only up to its root."""
    any_git = any(lv.has_git for lv in levels)
    saw_git = False
    out = []
    for lv in levels:
        git_on = any_git and not saw_git
        entry = (
            lv.prefix,
            lv.custom,
            lv.ignore,
            lv.git if git_on else None,
            lv.exclude if git_on else None,
        )
        if any(entry[1:]):
            out.append(entry)
        saw_git = saw_git or lv.has_git
    return tuple(out)


def is_ignored(chain: Chain, path: str, is_dir: bool) -> bool:
    found = [0, 0, 0, 0]
    for prefix, *matchers in chain:
        rel = path[prefix:]
        for k, m in enumerate(matchers):
            if m is not None and not found[k]:
                found[k] = m.match(rel, is_dir)
    for verdict in found:
        if verdict:
            return verdict == 1
    return False


def ancestor_levels(directory: str) -> list[Level]:
    """Levels of the directories above `directory`, nearest first."""
    levels = []
    parent = os.path.dirname(directory)
    while True:
        levels.append(read_level(parent))
        if parent == os.path.dirname(parent):
            return levels
        parent = os.path.dirname(parent)


class Stopped(Exception):
    """The walk was told to stop (cancelled, timed out)."""


def walk_files(
    root: str,
    *,
    hidden: bool = False,
    name_filter: Callable[[str], bool] | None = None,
    check: Callable[[], None] = lambda: None,
) -> Iterator[str]:
    """Absolute paths of the files below the directory `root` that ripgrep would
    search, in no particular order. `check` is called between directories and may
    raise to stop the walk."""
    above = ancestor_levels(root)
    stack: list[tuple[str, list[Level]]] = [(root, above)]
    while stack:
        check()
        directory, parents = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError:
            continue
        levels = [read_level(directory, {e.name for e in entries}), *parents]
        chain = chain_of(levels)
        for entry in entries:
            name = entry.name
            if name.startswith(".") and (not hidden or name == ".git"):
                continue
            try:
                if entry.is_symlink():
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                if not is_dir and not entry.is_file(follow_symlinks=False):
                    continue
            except OSError:
                continue
            path = entry.path
            if chain and is_ignored(chain, path, is_dir):
                continue
            if is_dir:
                stack.append((path, levels))
            elif name_filter is None or name_filter(name):
                yield path


def rg_root(workspace: str, target: str, hidden: bool) -> str | None:
    """The folder ripgrep should walk so that what it finds below `target` is right.

    ripgrep 14.1 matches ignore rules of directories *above* its search path against
    the wrong path for files two or more levels down (the file name joined to the
    search path), so a rule such as `src/gen/` in the workspace's .gitignore misfires
    when searching `src`. Rules on the file name alone are immune. When an anchored
    rule above `target` could apply below it, walk from that rule's directory instead
    (its rules then apply the normal way) and keep only the results below `target`.
    None: that directory is outside the workspace, or a folder on the way down is
    itself hidden or ignored (walking down to it would lose it); use the Python backend.
    """
    levels = ancestor_levels(target)
    # .gitignore/exclude above `target` count only up to the repository root above it.
    git_on = any(lv.has_git for lv in levels) and not os.path.lexists(os.path.join(target, ".git"))
    top = target
    for level in levels:
        matchers = [level.custom, level.ignore, *((level.git, level.exclude) if git_on else ())]
        git_on = git_on and not level.has_git
        if not top.startswith(level.dir.rstrip("/") + "/"):
            continue
        below = top[level.prefix :] + "/"
        if any(
            not rule.name_only and rule.may_match_below(below)
            for m in matchers
            if m is not None
            for rule in m.rules
        ):
            top = level.dir
    if top == target:
        return target
    if not (top == workspace or top.startswith(workspace.rstrip("/") + "/")):
        return None
    index = next(i for i, lv in enumerate(levels) if lv.dir == top)
    for i in range(index, -1, -1):  # each folder from below `top` down to `target`
        path = levels[i - 1].dir if i else target
        name = os.path.basename(path)
        if name.startswith(".") and (not hidden or name == ".git"):
            return None
        if is_ignored(chain_of(levels[i:]), path, True):
            return None
    return top
