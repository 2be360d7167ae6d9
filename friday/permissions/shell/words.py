"""Words of a command: the text bash would pass (quotes removed) and what in the raw text
makes it dynamic.

bashlex removes quotes well in the plain cases but misreads several expansions (`$'..'`,
`$".."`, `${X:-$(id)}`, `${x@P}`, `$[..]`), so every word's raw source is scanned here with
a small quote-aware scanner. Anything it cannot vouch for is reported and the command asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SPECIAL_PARAMS = frozenset("@*#?$!-0123456789")
SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|PRIVATE|AUTH|COOKIE|SESSION|^AWS_|"
    r"^GH_|^GITHUB_|^NPM_|^PYPI_|^DOCKER_|DATABASE_URL|_DSN$|^SSH_",
    re.IGNORECASE,
)
GLOB_CHARS = frozenset("*?[")


@dataclass(slots=True)
class Word:
    """One shell word. `text` is what the program receives when nothing is dynamic."""

    text: str
    raw: str
    span: tuple[int, int]
    params: list[str] = field(default_factory=list)  # $NAME / ${NAME} used
    subst: list[object] = field(default_factory=list)  # bashlex substitution nodes
    problems: list[str] = field(default_factory=list)  # constructs bashlex misreads
    glob: bool = False  # unquoted * ? [
    brace: bool = False  # unquoted {a,b} / {1..3} brace expansion
    tilde: bool = False
    inner_programs: set[str] = field(default_factory=set)  # programs run in its substitutions
    inner_decision: str = "allow"  # the most severe decision inside its substitutions

    @property
    def dynamic(self) -> bool:
        """The runtime value is not the literal text."""
        return bool(self.params or self.subst or self.problems or self.brace)

    @property
    def literal(self) -> bool:
        return not (self.dynamic or self.glob)


def make_word(node: object, source: str, span: tuple[int, int]) -> Word:
    """Build a Word from a bashlex word node (positions are into `source`; `span` is where
    the word sits in the full command)."""
    start, end = node.pos  # type: ignore[attr-defined]
    raw = source[start:end]
    word = Word(getattr(node, "word", raw), raw, span)
    for part in getattr(node, "parts", None) or ():
        kind = part.kind
        if kind in ("commandsubstitution", "processsubstitution"):
            word.subst.append(part)
        elif kind == "tilde":
            word.tilde = True
        elif kind != "parameter":
            word.problems.append(f"unsupported word part {kind}")
    scan(raw, word)
    return word


def scan(raw: str, word: Word) -> None:
    """Walk the raw text like bash does, tracking quotes: record parameter names, unquoted
    globs and brace expansions, and constructs that bashlex does not model."""
    i, n = 0, len(raw)
    dq = False
    while i < n:
        c = raw[i]
        if c == "\\":
            i += 2
            continue
        if c == "'" and not dq:
            close = raw.find("'", i + 1)
            i = n if close < 0 else close + 1
            continue
        if c == '"':
            dq = not dq
        elif c == "$":
            i = _dollar(raw, i, dq, word)
            continue
        elif not dq and c in GLOB_CHARS and (c != "[" or "]" in raw[i + 1 :]):
            word.glob = True
        elif not dq and c == "{" and _brace_expansion(raw, i):
            word.brace = True
        i += 1


def _dollar(raw: str, i: int, dq: bool, word: Word) -> int:  # noqa: PLR0911
    nxt = raw[i + 1] if i + 1 < len(raw) else ""
    if nxt in ("'", '"') and not dq:
        word.problems.append("$'..' / $\"..\" quoting")
        return i + 2
    if nxt == "[":
        word.problems.append("$[..] arithmetic")
        return i + 2
    if nxt == "{":
        close = raw.find("}", i + 2)
        inner = raw[i + 2 : close] if close > 0 else raw[i + 2 :]
        if close < 0 or not NAME.fullmatch(inner):
            word.problems.append(f"${{{inner}}} parameter expansion")
            return len(raw) if close < 0 else close + 1
        word.params.append(inner)
        return close + 1
    if nxt == "(":
        if raw.startswith("((", i + 1):
            word.problems.append("$((..)) arithmetic")
        return i + 2  # bashlex reports the substitution itself
    m = NAME.match(raw, i + 1)
    if m:
        word.params.append(m.group())
        return m.end()
    if nxt and nxt in SPECIAL_PARAMS:
        word.params.append(nxt)
        return i + 2
    return i + 1


def _brace_expansion(raw: str, i: int) -> bool:
    depth, j = 0, i
    while j < min(len(raw), i + 2000):
        c = raw[j]
        if c in "'\"\\$":
            return True  # quotes inside braces: too clever to model, treat as expansion
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                inner = raw[i + 1 : j]
                return "," in inner or ".." in inner
        j += 1
    return False


def secret_param(name: str) -> bool:
    return bool(SECRET_NAME.search(name))
