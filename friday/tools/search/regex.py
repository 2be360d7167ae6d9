"""The regex dialect grep accepts: the part of Rust's `regex` syntax (what ripgrep runs)
and Python's `re` (what the fallback runs) that means the same thing in both.

Nothing is translated. A pattern that either engine rejects, or that the two would read
differently, is refused with a note saying what to write instead:

- Python-only: lookaround `(?=` `(?!` `(?<=` `(?<!`, backreferences `\\1` `(?P=n)`,
  atomic groups `(?>`, conditionals `(?(`, comments `(?#`, possessive `a*+`, `\\Z`,
  octal escapes, `\\N{name}`, the flags `a`, `L` and `x`.
- Rust-only or read differently: `\\<` `\\>` `\\b{start}` (Python sees literals),
  POSIX classes `[[:alpha:]]`, nested classes and class set operations `&&` `--` `~~`,
  a `{` that is not a repetition such as `{2,5}` (Python matches it literally),
  `(?<name>` groups (Python wants `(?P<name>`).
- Either: a newline (grep searches one line at a time, as ripgrep does).

Python rejecting the pattern outright (e.g. `\\p{L}`, `\\x{41}`, `(?U)`) is reported
with Python's own message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_QUANT = re.compile(r"\{(\d+)(,\d*)?\}")
_GROUP_PREFIXES = (
    ("=", "lookahead (?=...) is not supported"),
    ("!", "negative lookahead (?!...) is not supported"),
    ("<=", "lookbehind (?<=...) is not supported"),
    ("<!", "negative lookbehind (?<!...) is not supported"),
    ("P=", "backreferences (?P=name) are not supported"),
    ("P>", "recursion (?P>name) is not supported"),
    (">", "atomic groups (?>...) are not supported"),
    ("#", "comments (?#...) are not supported"),
    ("(", "conditionals (?(...)...) are not supported"),
)
_FLAGS = set("imsu-")


class PatternError(ValueError):
    """The pattern is refused; the message says why and what to write instead."""


@dataclass(frozen=True)
class Compiled:
    text: str
    regex: re.Pattern[str]
    # \A makes a whole-file pre-check unsound: it matches at every line start per line.
    line_anchored: bool


_ESCAPES_ANYWHERE = {
    "n": "\\n: grep matches within one line, so a pattern cannot contain a newline",
    "N": "\\N{...} is not supported; write the character itself",
    "p": "\\p{...} classes are not supported; e.g. [^\\W\\d_] matches letters",
    "P": "\\P{...} classes are not supported",
}
_ESCAPES_OUTSIDE = {
    "<": "\\< (word boundary) is not supported; use \\b",
    ">": "\\> (word boundary) is not supported; use \\b",
    "Z": "\\Z is not supported; use $",
}


def _escape(p: str, i: int, in_class: bool) -> None:
    """Refuse the escape starting at p[i] (a backslash) if the engines differ on it."""
    d = p[i + 1 : i + 2]
    problem = _ESCAPES_ANYWHERE.get(d)
    if d in ("x", "u") and p[i + 2 : i + 3] == "{":
        problem = f"\\{d}{{...}} is not supported; write \\xHH or \\uHHHH"
    elif d.isdigit():
        problem = f"\\{d}: backreferences and octal escapes are not supported"
    elif in_class and d == "b":
        problem = "[\\b] is not supported"
    elif not in_class and d == "b" and p[i + 2 : i + 3] == "{":
        problem = "\\b{...} is not supported; use \\b"
    elif not in_class:
        problem = problem or _ESCAPES_OUTSIDE.get(d)
    if problem:
        raise PatternError(problem)


def _group(p: str, i: int) -> None:
    """Refuse the group opening at p[i] == '(' if the engines differ on it."""
    if not p.startswith("(?", i):
        return
    rest = p[i + 2 :]
    for prefix, problem in _GROUP_PREFIXES:
        if rest.startswith(prefix):
            raise PatternError(problem)
    if rest.startswith("<"):
        raise PatternError("named groups must be written (?P<name>...)")
    if rest.startswith("P<"):
        return
    flags = re.match(r"[A-Za-z-]*", rest).group()
    bad = sorted(set(flags) - _FLAGS)
    if bad:
        raise PatternError(f"inline flag(s) {''.join(bad)} not supported (allowed: i, m, s)")


def _class_char(p: str, i: int) -> bool:
    """Inside [...] at p[i] (not a backslash): refuse what Rust reads as nesting or set
    operations; True when this `]` closes the class."""
    if p[i] == "[":
        raise PatternError("nested classes and [[:name:]] classes are not supported")
    if p.startswith(("&&", "--", "~~"), i):
        raise PatternError(f"{p[i : i + 2]} inside [...] is not supported; escape it")
    return p[i] == "]"


def check(p: str) -> bool:
    """Raise PatternError for a pattern the engines disagree on; True when it uses \\A."""
    i, n = 0, len(p)
    in_class = False
    after_quant, uses_a = False, False
    while i < n:
        c = p[i]
        if c == "\n":
            raise PatternError(_ESCAPES_ANYWHERE["n"][4:])
        if c == "\\":
            _escape(p, i, in_class)
            uses_a = uses_a or (not in_class and p[i + 1 : i + 2] == "A")
            i, after_quant = i + 2, False
            continue
        if in_class:
            in_class = not _class_char(p, i)
            i += 1
            continue
        if c == "[":
            j = i + 1 + (p[i + 1 : i + 2] == "^")
            j += p[j : j + 1] == "]"  # a `]` first is a literal
            in_class, i, after_quant = True, j, False
            continue
        if c == "(":
            _group(p, i)
        if c in "*+?":
            if c == "+" and after_quant:
                raise PatternError("possessive repetition (a*+, a++) is not supported")
            after_quant = c != "?" or not after_quant
        elif c == "{":
            m = _QUANT.match(p, i)
            if not m:
                raise PatternError(
                    "a literal { must be escaped as \\{ (or write a repetition like {2,5})"
                )
            i, after_quant = m.end(), True
            continue
        else:
            after_quant = False
        i += 1
    return uses_a


def compile_pattern(pattern: str, case_insensitive: bool) -> Compiled:
    """Check the pattern and compile it for the Python backend (and as a syntax check
    for both: what Python rejects is refused even when ripgrep runs)."""
    uses_a = check(pattern)
    flags = re.MULTILINE | (re.IGNORECASE if case_insensitive else 0)
    try:
        regex = re.compile(pattern, flags)
    except re.error as exc:
        raise PatternError(str(exc)) from None
    except (OverflowError, RecursionError):
        raise PatternError("the pattern is too large") from None
    return Compiled(pattern, regex, uses_a)
