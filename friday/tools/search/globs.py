"""Globs as ripgrep reads them, translated to Python regular expressions.

Both search backends must agree on which files a .gitignore rule or a glob selects, so
the translation follows ripgrep's `globset` crate token by token: `*` and `?` never
cross `/`, `**` is recursive only next to a `/` (or alone), `[...]`/`[!...]` classes,
`{a,b}` alternatives (not nested) and `\\` escapes. Gitignore lines get ripgrep's
`ignore` crate treatment on top (comments, `!` negation, a leading `/` anchors, a
trailing `/` means directories only, no `/` means "at any depth").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

META = frozenset("*?[{\\")


class GlobError(ValueError):
    """A glob that ripgrep would reject too (unclosed class or braces, bad range)."""


# Tokens: ("lit", c) ("any",) ("star",) ("rprefix",) ("rsuffix",) ("rzom",)
# ("class", negated, ranges) ("alt", branches)
Token = tuple


def _parse_class(glob: str, i: int) -> tuple[Token, int]:
    """`i` is just after `[`; returns the class token and the index after `]`."""
    n = len(glob)
    negated = i < n and glob[i] in "!^"
    if negated:
        i += 1
    ranges: list[list[str]] = []
    first, in_range = True, False
    while True:
        if i >= n:
            raise GlobError(f"unclosed character class in {glob!r}")
        c = glob[i]
        i += 1
        if c == "]" and not first:
            break
        if c == "-" and not first and not in_range:
            in_range = True
        elif in_range:
            ranges[-1][1] = c
            if ranges[-1][1] < ranges[-1][0]:
                raise GlobError(f"invalid range {ranges[-1][0]}-{c} in {glob!r}")
            in_range = False
        else:
            ranges.append([c, c])
        first = False
    if in_range:
        ranges.append(["-", "-"])
    return ("class", negated, [tuple(r) for r in ranges]), i


def _parse_star(glob: str, i: int, tokens: list[Token], in_alt: bool) -> int:
    """`i` is just after a `*`; mirrors globset's `parse_star`."""
    n = len(glob)
    prev = glob[i - 2] if i >= 2 else None
    if i >= n or glob[i] != "*":
        tokens.append(("star",))
        return i
    i += 1  # the second `*`
    peek = glob[i] if i < n else None
    if not tokens:
        if peek is not None and peek != "/":
            tokens += [("star",), ("star",)]
        else:
            tokens.append(("rprefix",))
            if peek == "/":
                i += 1
        return i
    if prev != "/" and (not in_alt or prev not in (",", "{")):
        tokens += [("star",), ("star",)]
        return i
    if peek is None or (in_alt and peek in ",}"):
        is_suffix = True
    elif peek == "/":
        i += 1
        is_suffix = False
    else:
        tokens += [("star",), ("star",)]
        return i
    last = tokens.pop()
    if last[0] in ("rprefix", "rsuffix"):
        tokens.append(last)
    else:
        tokens.append(("rsuffix",) if is_suffix else ("rzom",))
    return i


def tokenize(glob: str) -> list[Token]:
    tokens: list[Token] = []
    branches: list[list[Token]] | None = None  # inside {...}
    outer: list[Token] = tokens
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        i += 1
        if c == "?":
            tokens.append(("any",))
        elif c == "*":
            i = _parse_star(glob, i, tokens, branches is not None)
        elif c == "[":
            tok, i = _parse_class(glob, i)
            tokens.append(tok)
        elif c == "{":
            if branches is not None:
                raise GlobError(f"nested alternatives {{...}} are not allowed in {glob!r}")
            tokens = []
            branches = [tokens]
        elif c == "}" and branches is not None:
            outer.append(("alt", branches))
            tokens, branches = outer, None
        elif c == "}":
            raise GlobError(f"unopened alternatives: '}}' without '{{' in {glob!r}")
        elif c == "," and branches is not None:
            tokens = []
            branches.append(tokens)
        elif c == "\\":
            if i >= n:
                raise GlobError(f"dangling '\\' at the end of {glob!r}")
            tokens.append(("lit", glob[i]))
            i += 1
        else:
            tokens.append(("lit", c))
    if branches is not None:
        raise GlobError(f"unclosed alternatives: '{{' without '}}' in {glob!r}")
    return tokens


def _class_char(c: str) -> str:
    return "\\" + c if c in "\\]^-[" else c


def _to_regex(tokens: list[Token]) -> str:
    out: list[str] = []
    for tok in tokens:
        kind = tok[0]
        if kind == "lit":
            out.append(re.escape(tok[1]))
        elif kind == "any":
            out.append("[^/]")
        elif kind == "star":
            out.append("[^/]*")
        elif kind == "rprefix":
            out.append("(?:/?|.*/)")
        elif kind == "rsuffix":
            out.append("/.*")
        elif kind == "rzom":
            out.append("(?:/|/.*/)")
        elif kind == "class":
            body = "".join(
                _class_char(a) if a == b else f"{_class_char(a)}-{_class_char(b)}"
                for a, b in tok[2]
            )
            out.append(f"[{'^' if tok[1] else ''}{body}]")
        else:  # alt
            parts = [p for p in (_to_regex(b) for b in tok[1]) if p]
            if parts:
                out.append("(?:" + "|".join(parts) + ")")
    return "".join(out)


def glob_regex(glob: str) -> str:
    """The regex (for `fullmatch`) that globset builds with a literal separator."""
    tokens = tokenize(glob)
    if tokens == [("rprefix",)]:
        return ".*"
    return _to_regex(tokens)


# -- .gitignore lines ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    regex: re.Pattern[str]
    whitelist: bool
    only_dir: bool
    glob: str  # the glob actually matched (after the `**/` and `/*` additions)

    @property
    def name_only(self) -> bool:
        """Matches on the last path component alone (`**/name`)."""
        return self.glob == "**" or (self.glob.startswith("**/") and "/" not in self.glob[3:])

    def may_match_below(self, prefix: str) -> bool:
        """Whether some path starting with `prefix` ("src/") could match, judged by the
        glob's literal start (conservative: True when unsure)."""
        literal = re.match(r"[^*?\[{\\]*", self.glob).group()
        return literal.startswith(prefix) or prefix.startswith(literal)


def gitignore_rule(line: str) -> Rule | None:
    """One line of a .gitignore/.ignore file as ripgrep's `ignore` crate reads it; None
    for blanks, comments and lines it cannot parse (ripgrep skips those too)."""
    if line.startswith("#"):
        return None
    if not line.endswith("\\ "):
        line = line.rstrip()
    if not line:
        return None
    whitelist = only_dir = anchored = False
    if line.startswith(("\\!", "\\#")):
        line = line[1:]
        anchored = line.startswith("/")
    else:
        if line.startswith("!"):
            whitelist, line = True, line[1:]
        if line.startswith("/"):
            anchored, line = True, line[1:]
    if line.endswith("/"):
        only_dir, line = True, line[:-1]
        if line.endswith("\\"):
            line = line[:-1]
    actual = line
    if not anchored and "/" not in line and not (line.startswith("**/") or line == "**"):
        actual = "**/" + actual
    if actual.endswith("/**"):
        actual += "/*"
    try:
        return Rule(re.compile(glob_regex(actual)), whitelist, only_dir, actual)
    except (GlobError, re.error):
        return None


# -- globs given by the model ------------------------------------------------------------


@dataclass(frozen=True)
class PathGlob:
    """A glob argument split for searching: `base` is the literal folder it starts with
    (searched as an explicit path, so its own hidden/ignored state does not matter),
    `regex` matches paths relative to that folder, `name_glob` is a glob every matching
    file name satisfies (it narrows ripgrep's walk), `hidden` says the glob names hidden
    files itself, so they are not skipped."""

    text: str
    base: str
    regex: re.Pattern[str]
    name_glob: str | None
    hidden: bool
    negated: bool = False
    by_name: bool = False  # matching `name_glob` at any depth below `base` is all it asks

    def matches(self, rel: str) -> bool:
        return (self.regex.fullmatch(rel) is not None) != self.negated


def _segments(glob: str) -> list[str] | None:
    """Split on `/` outside classes and braces; None when a `/` sits inside one."""
    parts, cur, depth, i = [], [], 0, 0
    while i < len(glob):
        c = glob[i]
        if c == "\\" and i + 1 < len(glob):
            cur.append(glob[i : i + 2])
            i += 2
            continue
        if c == "[":
            end = glob.find("]", i + 2)
            if end == -1 or "/" in glob[i:end]:
                return None
            cur.append(glob[i : end + 1])
            i = end + 1
            continue
        depth += c == "{"
        depth -= c == "}"
        if c == "/" and depth:
            return None
        if c == "/":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def path_glob(text: str, *, allow_negation: bool = False) -> PathGlob:
    """Parse a glob argument. A glob without `/` matches a file name at any depth
    (`*.py`); one with `/` is anchored at the search folder (`src/*.py`); a trailing `/`
    means everything below; `!` in front (grep only) excludes instead."""
    glob = text.strip()
    negated = allow_negation and glob.startswith("!")
    if negated:
        glob = glob[1:]
    absolute = glob.startswith("/")
    glob = glob.lstrip("/")
    while glob.startswith("./"):
        glob = glob[2:]
    if glob in ("", "."):
        glob = "**"
    elif glob.endswith("/"):
        glob += "**"
    anchored = absolute or "/" in glob
    segments = _segments(glob) if anchored and not negated else None
    base_parts: list[str] = []
    rest = glob
    if segments is not None:
        while len(segments) > 1 and segments[0] and not set(segments[0]) & META:
            base_parts.append(segments.pop(0))
        rest = "/".join(segments)
    base = ("/" if absolute else "") + "/".join(base_parts)
    full = rest if anchored else "**/" + rest
    regex = re.compile(glob_regex(full))  # GlobError says what is wrong
    last = (_segments(rest) or [""])[-1]
    name_glob = None
    if not negated and last and last != "*" and "**" not in last and ":" not in last:
        name_glob = last if "," not in last or "{" in last else None
    hidden = not negated and any(
        seg.startswith(".") and seg not in (".", "..") for seg in rest.split("/")
    )
    by_name = name_glob is not None and full == "**/" + name_glob
    return PathGlob(text, base, regex, name_glob, hidden, negated, by_name)
