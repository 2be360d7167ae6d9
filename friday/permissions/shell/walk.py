"""Walk the bashlex tree and judge every simple command in it.

Every node kind is handled explicitly; anything else asks (UNSUPPORTED_SYNTAX), so a
bashlex version that grows a new node kind cannot make a construct silently skipped.
"""

from __future__ import annotations

import re

from friday.permissions.shell import guards
from friday.permissions.shell.command import FETCHERS, shell_like
from friday.permissions.shell.core import MAX_DEPTH, Analysis
from friday.permissions.shell.watchdog import WATCHDOG, ParseTimeout, parse_limit
from friday.permissions.shell.words import Word, make_word
from friday.permissions.verdict import (
    BACKGROUND,
    COMMAND_SUBSTITUTION,
    DYNAMIC_EXPANSION,
    FUNCTION_DEF,
    LIMIT,
    PARSE_ERROR,
    PIPE_TO_SHELL,
    UNSUPPORTED_SYNTAX,
)

SKIP = frozenset({"reservedword", "operator", "pipe"})


def analyze_text(an: Analysis, text: str, within: tuple[int, int] | None, offset: int) -> None:
    """Parse `text` (the whole command, or a literal script found inside it) and walk it.
    Nested texts report spans inside `within`, the word they came from."""
    import bashlex

    guards.install()
    if within is not None:
        an.clamp.append(within)
    an.offsets.append(offset)
    try:
        text = _defuse(an, text)
        try:
            trees = WATCHDOG.call(parse_limit(text), bashlex.parse, text)
        except ParseTimeout:
            an.add(LIMIT, "ask", "the command took too long to parse.", within)
            return
        except RecursionError:
            an.add(LIMIT, "ask", "the command is nested too deeply to check.", within)
            return
        except Exception as exc:  # bashlex raises many types; all mean "not understood"
            if an.salvaging:
                return
            detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            an.add(
                PARSE_ERROR,
                "ask",
                f"the command could not be parsed ({detail}); it may use syntax the "
                "checker does not support ([[ ]], case, $((..)), arrays, quoted heredocs).",
                within,
            )
            _salvage(an, text)
            return
        for tree in trees:
            walk(an, tree, text)
    finally:
        an.offsets.pop()
        if within is not None:
            an.clamp.pop()


def _salvage(an: Analysis, text: str) -> None:
    """The text did not parse, so it asks; but a deny hidden in it must still deny (bypass
    mode runs asks). Judge what can be cut out: each substitution's text and each piece
    between separators, one level deep."""
    from friday.permissions.shell.command import _closing

    if an.salvaging or len(text) > 20_000:
        return
    an.salvaging = True
    base = an.offsets[-1]
    try:
        for i, c in enumerate(text):
            if c in "$<>" and text.startswith("(", i + 1) and not text.startswith("((", i + 1):
                end = _closing(text, i)
                if end:
                    analyze_text(an, text[i + 2 : end - 1], None, base + i + 2)
        start = 0
        for m in SEPARATOR.finditer(text + "\n"):
            piece = text[start : m.start()]
            if piece.strip() and (start or m.end() <= len(text)):
                analyze_text(an, piece, None, base + start)
            start = m.end()
    finally:
        an.salvaging = False


SEPARATOR = re.compile(r"\|\||&&|[;&|\n()`]")


def _defuse(an: Analysis, text: str) -> str:
    """bashlex misreads `$'..'` and `$".."` and can loop forever on them (`$'${'`): each
    `$` before a quote becomes `_` (same length, so positions hold) and the command asks.
    This is done everywhere, even inside quotes, so no quote tracking can go wrong."""
    if "$'" not in text and '$"' not in text:
        return text
    i = text.find("$'") if "$'" in text else text.find('$"')
    an.add(
        DYNAMIC_EXPANSION,
        "ask",
        "the command uses $'..' or $\"..\" quoting, which the checker does not model.",
        an.span((i, i + 2)),
    )
    return text.replace("$'", "_'").replace('$"', '_"')


def walk(an: Analysis, node: object, src: str) -> None:
    kind = getattr(node, "kind", None)
    if an.depth >= MAX_DEPTH:
        an.add(LIMIT, "ask", "the command is nested too deeply to check.", an.span(node.pos))
        return
    an.depth += 1
    try:
        if kind == "list":
            _list(an, node, src)
        elif kind == "pipeline":
            _pipeline(an, node, src)
        elif kind == "command":
            from friday.permissions.shell.command import simple_command

            simple_command(an, node, src)
        elif kind == "compound":
            _compound(an, node, src)
        elif kind in ("if", "while", "until"):
            for part in node.parts:
                if part.kind not in SKIP:
                    walk(an, part, src)
        elif kind == "for":
            _for(an, node, src)
        elif kind == "function":
            _function(an, node, src)
        elif kind in SKIP:
            pass
        else:
            an.add(
                UNSUPPORTED_SYNTAX,
                "ask",
                f"the command uses a construct the checker does not judge ({kind}).",
                an.span(node.pos),
            )
    finally:
        an.depth -= 1


def _list(an: Analysis, node: object, src: str) -> None:
    for part in node.parts:
        if part.kind == "operator" and part.op == "&":
            an.add(
                BACKGROUND,
                "ask",
                "`&` starts a background job that keeps running after the call returns.",
                an.span(part.pos),
            )
        elif part.kind == "operator":
            continue
        else:
            walk(an, part, src)


def _pipeline(an: Analysis, node: object, src: str) -> None:
    """Each stage runs in a subshell: a `cd` inside does not move the rest. A download fed
    to a shell or interpreter is denied."""
    saved = an.cwd
    fetched_at: tuple[int, int] | None = None
    for part in node.parts:
        if part.kind in SKIP:
            continue
        mark = an.mark()
        walk(an, part, src)
        an.cwd = saved
        names = an.programs_since(mark)
        if fetched_at is not None and shell_like(names):
            an.add(
                PIPE_TO_SHELL,
                "deny",
                "a download is piped into a shell or interpreter: it would run code from "
                "the network unseen. Download to a file and review it first.",
                an.span(node.pos),
            )
        if names & FETCHERS and fetched_at is None:
            fetched_at = an.span(part.pos)


def _compound(an: Analysis, node: object, src: str) -> None:
    items = node.list
    subshell = bool(items) and items[0].kind == "reservedword" and items[0].word == "("
    saved = an.cwd
    for part in items:
        if part.kind not in SKIP:
            walk(an, part, src)
    if subshell:
        an.cwd = saved
    from friday.permissions.shell.command import judge_redirects

    judge_redirects(an, getattr(node, "redirects", None) or [], src, None, None)


def _for(an: Analysis, node: object, src: str) -> None:
    """The loop words are data for the body: substitutions in them are judged, and literal
    words are checked like file arguments (a loop over `~/.ssh/*` reads secrets)."""
    from friday.permissions.shell.command import check_read_operand, substitutions

    for part in node.parts:
        if part.kind == "word":
            word = make_word(part, src, an.span(part.pos))
            substitutions(an, part, word, src)
            if word.subst and word.inner_decision != "allow":
                an.add(
                    COMMAND_SUBSTITUTION,
                    "ask",
                    "the loop runs over the output of a command that is not allowed.",
                    word.span,
                )
            check_read_operand(an, word, None)
        elif part.kind not in SKIP:
            walk(an, part, src)


def _function(an: Analysis, node: object, src: str) -> None:
    an.add(
        FUNCTION_DEF,
        "ask",
        "defining a function can shadow a program, so later commands may not be what they seem.",
        an.span(node.pos),
    )
    for part in node.parts:
        if part.kind not in SKIP and part.kind != "word":
            walk(an, part, src)


def words_of(an: Analysis, nodes: list[object], src: str) -> list[Word]:
    return [make_word(n, src, an.span(n.pos)) for n in nodes]
