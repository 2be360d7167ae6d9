"""A fix for bashlex's one known endless loop, applied before the first parse.

`bashlex.subst._paramexpand` looks for the `}` that closes `${`; when there is none,
`str.find` gives -1 and it hands back position 0, so the word expansion that called it
starts over from the beginning of the word, for ever, growing memory (~80 MB/s). The
tokenizer lets such words through when the `${` sits after a quote it misreads:
`echo a'${x'`, `'${~'~`. Bash itself says "bad substitution"; so does the guard, as a
bashlex ParsingError, which the analyzer turns into an ask at once instead of after the
watchdog's two seconds. Any other expansion that fails to move forward is refused the
same way. The watchdog stays as the net for loops nobody has found yet.
"""

from __future__ import annotations

from typing import Any

_installed = False


def install() -> None:
    """Wrap `_paramexpand` once; a bashlex without it (a later release) is left alone."""
    global _installed
    if _installed:
        return
    _installed = True
    from bashlex import errors, subst

    original = getattr(subst, "_paramexpand", None)
    if original is None:
        return

    def paramexpand(parserobj: Any, string: str, sindex: int) -> Any:
        if string.startswith("${", sindex) and string.find("}", sindex + 2) == -1:
            raise errors.ParsingError('bad substitution: no closing "}"', string, sindex)
        node, end = original(parserobj, string, sindex)
        if end <= sindex:
            raise errors.ParsingError("bad substitution", string, sindex)
        return node, end

    subst._paramexpand = paramexpand
