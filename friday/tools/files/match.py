"""Finding `old_string` in a file, and when it is not there, what the model probably meant.

The exact search is plain `str.find`. The search for candidates runs only on a miss: it
looks first for the same lines with different whitespace or indentation (the most common
reason a copied snippet fails to match), then for the most similar blocks of lines.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Above this many lines the fuzzy scan is skipped (the whitespace-tolerant one still runs).
FUZZY_MAX_LINES = 50_000
SHOW_LINES = 8
SHOW_CHARS = 160
_NUMBERED = r"^\s*\d+\t"


def find_all(text: str, needle: str) -> list[int]:
    """Start of every non-overlapping occurrence, left to right (as str.replace sees them)."""
    found: list[int] = []
    at = text.find(needle)
    while at != -1:
        found.append(at)
        at = text.find(needle, at + len(needle))
    return found


def line_numbers(text: str, positions: list[int]) -> list[int]:
    """1-based line number of each position (ascending positions)."""
    numbers: list[int] = []
    line, last = 1, 0
    for pos in positions:
        line += text.count("\n", last, pos)
        last = pos
        numbers.append(line)
    return numbers


class Candidate(NamedTuple):
    first: int  # 1-based line numbers, inclusive
    last: int
    score: float
    whitespace_only: bool


def _norm(line: str) -> str:
    return " ".join(line.split())


def candidates(text: str, old: str, limit: int = 3) -> list[Candidate]:
    """The blocks of `text` most like `old`, best first."""
    lines = text.split("\n")
    wanted = old.split("\n")
    while len(wanted) > 1 and not wanted[-1].strip():
        wanted.pop()
    while len(wanted) > 1 and not wanted[0].strip():
        wanted.pop(0)
    want = [_norm(w) for w in wanted]
    if not any(want):
        return []
    exact = _whitespace_matches(lines, want)
    if exact:
        return exact[:limit]
    if len(lines) > FUZZY_MAX_LINES:
        return []
    return _similar_blocks(lines, want, limit)


def _whitespace_matches(lines: list[str], want: list[str]) -> list[Candidate]:
    n = len(want)
    found: list[Candidate] = []
    if n == 1:
        for i, line in enumerate(lines):
            if want[0] and want[0] in _norm(line):
                found.append(Candidate(i + 1, i + 1, 1.0, True))
        return found
    anchor = max(range(n), key=lambda j: len(want[j]))
    for i, line in enumerate(lines):
        start = i - anchor
        if start < 0 or start + n > len(lines) or _norm(line) != want[anchor]:
            continue
        if all(_norm(lines[start + j]) == want[j] for j in range(n)):
            found.append(Candidate(start + 1, start + n, 1.0, True))
    return found


def _similar_blocks(lines: list[str], want: list[str], limit: int) -> list[Candidate]:
    from difflib import SequenceMatcher

    n = len(want)
    starts = _window_starts(lines, want)
    target = "\n".join(want)
    scored: list[Candidate] = []
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for start in starts:
        block = "\n".join(_norm(x) for x in lines[start : start + n])
        matcher.set_seq1(block)
        if matcher.real_quick_ratio() < 0.5 or matcher.quick_ratio() < 0.5:
            continue
        score = matcher.ratio()
        if n == 1 and len(block) > len(target):
            covered = sum(b.size for b in matcher.get_matching_blocks()) / max(1, len(target))
            score = max(score, 0.9 * covered)
        if score >= 0.5:
            last = min(start + n, len(lines))
            scored.append(Candidate(start + 1, last, score, False))
    scored.sort(key=lambda c: (-c.score, c.first))
    chosen: list[Candidate] = []
    for cand in scored:
        if all(cand.last < c.first or cand.first > c.last for c in chosen):
            chosen.append(cand)
        if len(chosen) == limit:
            break
    return chosen


def _window_starts(lines: list[str], want: list[str]) -> list[int]:
    """Window starts worth scoring: every start for a small file, else the starts that
    line up some line similar to one of the wanted lines."""
    n = len(want)
    span = max(1, len(lines) - n + 1)
    if len(lines) <= 2000:
        return list(range(span))
    from difflib import SequenceMatcher

    starts: set[int] = set()
    probes = sorted(range(n), key=lambda j: -len(want[j]))[:3]
    for j in probes:
        matcher = SequenceMatcher(autojunk=False)
        matcher.set_seq2(want[j])
        for i, line in enumerate(lines):
            matcher.set_seq1(_norm(line))
            if matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6:
                starts.add(min(max(0, i - j), span - 1))
    return sorted(starts)


def describe_candidates(text: str, found: list[Candidate]) -> str:
    """The candidates as numbered excerpts, for the [no_match] message."""
    lines = text.split("\n")
    parts: list[str] = []
    for cand in found:
        how = (
            "same text, different whitespace or indentation"
            if cand.whitespace_only
            else f"{cand.score:.0%} similar"
        )
        where = (
            f"line {cand.first}" if cand.first == cand.last else (f"lines {cand.first}-{cand.last}")
        )
        parts.append(f"{where} ({how}):")
        shown = range(cand.first, min(cand.last, cand.first + SHOW_LINES - 1) + 1)
        for number in shown:
            line = lines[number - 1]
            if len(line) > SHOW_CHARS:
                line = line[:SHOW_CHARS] + " …"
            parts.append(f"{number:6}\t{line}")
        if cand.last >= cand.first + SHOW_LINES:
            parts.append(f"       … ({cand.last - cand.first + 1} lines in all)")
    return "\n".join(parts)


def looks_numbered(old: str) -> bool:
    """True when every non-blank line starts like read_file's `   12\\t` prefix."""
    rows = [r for r in old.split("\n") if r.strip()]
    return bool(rows) and all(re.match(_NUMBERED, r) for r in rows)
