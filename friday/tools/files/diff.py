"""The unified diff of a change (for the UI, through ctx.meta["diff"]) and its compact
form for the model (changed lines only, with line numbers, capped).

Only the region that changed is diffed: the common head and tail of the two texts are
found by comparing slices (memcmp speed), so an edit in a 10 MB file costs the size of
the edit, not of the file.
"""

from __future__ import annotations

import re
from typing import NamedTuple

CONTEXT = 3
SYNC = 3
COMPACT_LINES = 40
COMPACT_CHARS = 200
META_CHARS = 200_000
NO_EOL = "\\ No newline at end of file"
_HUNK = r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@"


class Diff(NamedTuple):
    text: str  # unified diff, possibly cut at META_CHARS
    added: int
    removed: int

    def compact(self) -> str:
        """Changed lines only, each with its line number (old numbers on `-` lines, new
        ones on `+` lines, as read_file would now show them); long lines and long diffs
        cut. Enough for the model to go on editing without a re-read."""
        rows: list[str] = []
        old_no = new_no = 0
        for row in self.text.split("\n")[2:]:
            if row.startswith("@@"):
                m = re.match(_HUNK, row)
                if m:
                    old_no, new_no = int(m.group(1)), int(m.group(3))
                    old_no, new_no = max(old_no, 1), max(new_no, 1)
                if rows:
                    rows.append("   ...")
            elif row.startswith("-"):
                rows.append(_numbered("-", old_no, row[1:]))
                old_no += 1
            elif row.startswith("+"):
                rows.append(_numbered("+", new_no, row[1:]))
                new_no += 1
            elif row.startswith(" "):
                old_no, new_no = old_no + 1, new_no + 1
            elif row == NO_EOL and rows:
                rows[-1] += "  (no newline at end of file)"
        if len(rows) > COMPACT_LINES:
            rows = rows[:COMPACT_LINES] + [f"… ({len(rows) - COMPACT_LINES} more lines)"]
        return "\n".join(rows)


def _numbered(sign: str, number: int, line: str) -> str:
    if len(line) > COMPACT_CHARS:
        line = line[:COMPACT_CHARS] + " …"
    return f"{sign}{number:5}\t{line}"


def common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    lo, step = 0, 65536
    while lo < n:
        hi = min(lo + step, n)
        if a[lo:hi] != b[lo:hi]:
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if a[lo:mid] == b[lo:mid]:
                    lo = mid
                else:
                    hi = mid
            return lo
        lo = hi
    return n


def common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common tail, at most `limit` (so it never overlaps the head)."""
    n = min(len(a), len(b), limit)
    got, step = 0, 65536
    while got < n:
        want = min(got + step, n)
        if a[len(a) - want : len(a) - got] != b[len(b) - want : len(b) - got]:
            lo, hi = got, want
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if a[len(a) - mid : len(a) - got] == b[len(b) - mid : len(b) - got]:
                    lo = mid
                else:
                    hi = mid
            return lo
        got = want
    return n


def unified_diff(old: str, new: str, name: str) -> Diff:
    """The diff of two LF texts, with line numbers as read_file shows them."""
    head = common_prefix(old, new)
    tail = common_suffix(old, new, min(len(old), len(new)) - head)
    # Window edges on line boundaries that lie in the common head and tail, so both
    # texts split into the same lines outside the change.
    start = old.rfind("\n", 0, head) + 1
    for _ in range(CONTEXT):
        if start == 0:
            break
        start = old.rfind("\n", 0, start - 1) + 1
    old_end = len(old) - tail
    for _ in range(CONTEXT + 1):
        nl = old.find("\n", old_end)
        old_end = len(old) if nl == -1 else nl + 1
        if nl == -1:
            break
    new_end = old_end - len(old) + len(new)
    offset = old.count("\n", 0, start)
    a = _lines(old[start:old_end], old_end == len(old))
    b = _lines(new[start:new_end], new_end == len(new))
    rows = [f"--- a/{name}", f"+++ b/{name}"] if a != b else []
    added = removed = 0
    for group in _groups(_opcodes(a, b)):
        first, last = group[0], group[-1]
        old_range = _range(first[1] + offset, last[2] + offset)
        new_range = _range(first[3] + offset, last[4] + offset)
        rows.append(f"@@ -{old_range} +{new_range} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [" " + line for line in a[i1:i2]]
                continue
            rows += ["-" + line for line in a[i1:i2]]
            rows += ["+" + line for line in b[j1:j2]]
            removed += i2 - i1
            added += j2 - j1
    text = "\n".join(rows).replace(_NO_EOL_MARK, "\n" + NO_EOL)
    if len(text) > META_CHARS:
        text = text[:META_CHARS] + f"\n… (diff cut at {META_CHARS:,} characters)"
    return Diff(text, added, removed)


Op = tuple[str, int, int, int, int]


def _opcodes(a: list[str], b: list[str]) -> list[Op]:
    """What `difflib.SequenceMatcher(None, a, b).get_opcodes()` gives, in time that grows
    with the number of lines plus the size of the changes, not with their product: equal
    runs are walked directly, and difflib only sees a window around each change, grown
    until the two sides line up again for SYNC lines."""
    from difflib import SequenceMatcher

    ops: list[Op] = []
    i = j = 0
    n, m = len(a), len(b)
    while i < n or j < m:
        i0, j0 = i, j
        while i < n and j < m and a[i] == b[j]:
            i, j = i + 1, j + 1
        if i > i0:
            ops.append(("equal", i0, i, j0, j))
        if i == n and j == m:
            break
        size = 64
        while True:
            ai, bj = min(n, i + size), min(m, j + size)
            window = SequenceMatcher(None, a[i:ai], b[j:bj], autojunk=False).get_opcodes()
            cut = next(
                (k for k, op in enumerate(window) if op[0] == "equal" and op[2] - op[1] >= SYNC),
                None,
            )
            if cut is not None or (ai == n and bj == m):
                break
            size *= 4
        for tag, a1, a2, b1, b2 in window if cut is None else window[:cut]:
            ops.append((tag, i + a1, i + a2, j + b1, j + b2))
        i, j = (ai, bj) if cut is None else (i + window[cut][1], j + window[cut][3])
    return ops


def _groups(ops: list[Op]) -> list[list[Op]]:
    """Hunks: runs of changes with CONTEXT equal lines around them (difflib's
    get_grouped_opcodes, on our opcodes)."""
    if not any(op[0] != "equal" for op in ops):
        return []
    ops = list(ops)
    tag, i1, i2, j1, j2 = ops[0]
    if tag == "equal":
        ops[0] = (tag, max(i1, i2 - CONTEXT), i2, max(j1, j2 - CONTEXT), j2)
    tag, i1, i2, j1, j2 = ops[-1]
    if tag == "equal":
        ops[-1] = (tag, i1, min(i2, i1 + CONTEXT), j1, min(j2, j1 + CONTEXT))
    groups: list[list[Op]] = []
    group: list[Op] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal" and i2 - i1 > 2 * CONTEXT:
            group.append((tag, i1, min(i2, i1 + CONTEXT), j1, min(j2, j1 + CONTEXT)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - CONTEXT), max(j1, j2 - CONTEXT)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _range(start: int, stop: int) -> str:
    """A unified-diff range: "start,length", or "start" for one line (0-based input)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if not length else start + 1},{length}"


# Marks a last line that has no newline, so "x" and "x\n" differ as lines do in git.
_NO_EOL_MARK = "\x00no-eol"


def _lines(segment: str, at_end: bool) -> list[str]:
    if not segment:
        return []
    rows = segment.split("\n")
    if rows[-1] == "":
        rows.pop()
    elif at_end:
        rows[-1] += _NO_EOL_MARK
    return rows
