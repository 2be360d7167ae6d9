"""What a tool's output says, read from its text: how a shell call ended (its trailer, or a
mini-swe-agent return code), the lines that say what went wrong, a bounded excerpt of a
failure, and the argument that names what a call was about.

Both the facts a compaction keeps (`friday.context.facts`) and the placeholders of masked
outputs (`friday.context.mask`) read outputs through these functions, so a placeholder
keeps exactly what the facts look for: after masking, the same error lines and the same
exit code are still found. Everything is a pure function of the text, and linear in it:
outputs are long and written by programs, not people.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any

MASK_PREFIX = "[Output masked"  # how a masked output's placeholder starts
MAX_LINE_CHARS = 300
KEEP_ERRORS = 8  # the first and the last this many
MAX_EXCERPT_CHARS = 2_000
MAX_NOTES = 8  # bracketed notes the shell tool may put after its trailer
DENIED = "[permission_denied]"  # friday.permissions.gate refused the call
# Results the agent writes for calls that never finished (friday.tool_runner, friday.agent).
NOT_RUN = (
    "Interrupted by user: the call was stopped before it finished.",
    "Not run: the run ended before this call finished.",
)
PARTIAL = "\n\nOutput before it stopped:\n"  # ... a shell call that had started
# Programs whose exit code 1 answers "no" (nothing found, files differ, test false).
_NO_MEANS_1 = frozenset({"grep", "egrep", "fgrep", "rg", "diff", "cmp", "test", "[", "[["})

# The shell tool's trailer (friday.tools.shell.run.Job.render), with the cwd note it may carry.
_TRAILER = re.compile(
    r"\[(?:exit code (?P<code>\d+|unknown)(?: \([^)]*\))? · [^\]]*"
    r"|(?P<timeout>timed out after \d+ s · [^\]]*)|interrupted)\]"
    r"(?: \[cwd: (?P<cwd>.*)\])?"
)
# mini-swe-agent's observations, as replayed from its trajectories.
_RETURNCODE = re.compile(r"<returncode>(-?\d+)</returncode>\n?")
_TAG_LINE = re.compile(r"</?[a-z_]+>")
_TRACEBACK = "Traceback (most recent call last):"
# The line that ends a traceback: a class name (the last dotted part capitalized, as
# exception classes are), or any dotted name followed by a message (`socket.timeout: ...`).
_EXCEPTION = re.compile(r"(?:[A-Za-z_]\w*\.)*(?:[A-Z_]\w*(?::.*)?|[a-z]\w*: .*)")
_ERROR_LINE = re.compile(
    r"(?:[A-Za-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Failure|Interrupt)(?:: .*)?"
    r"|(?:[\w./-]+(?::\d+)*: )?(?:fatal |)(?:error|Error|ERROR|fatal|FAIL)(?:\[\w+\])?:(?:\s.*)?"
    r"|(?:FAILED|ERROR) \S+(?:\.py|::)\S*(?: .*)?"
    r"|(?=\S*::)\S+ (?:FAILED|ERROR)\b.*"  # the lookahead keeps it linear on long lines
)
_PYTEST_E = re.compile(r"E\s{2,}\S.*")


@dataclass(frozen=True, slots=True)
class ShellRun:
    """How a bash call ended, read from its result text."""

    body: str  # the output without the trailer and the notes after it
    ran: bool  # bash ran it (a trailer or a return code is there)
    exit_code: int | None = None
    timed_out: bool = False  # an interrupted call is neither: the user stopped it
    cwd: str | None = None  # the shell's new directory, when the call changed it


def shell_run(text: str) -> ShellRun:
    """How the call that printed `text` ended. A masked output's placeholder keeps the
    trailer (or return code) of the output it replaced, so it reads the same way."""
    if (m := _RETURNCODE.match(text)) is not None:
        body = "\n".join(
            line for line in text[m.end() :].splitlines() if not _TAG_LINE.fullmatch(line)
        )
        return ShellRun(body, True, int(m.group(1)))
    lines = text.split("\n")
    if (found := _trailer(lines)) is not None:
        i, t = found
        code = t.group("code")
        return ShellRun(
            "\n".join(lines[:i]),
            True,
            int(code) if code and code.isdigit() else None,
            timed_out=t.group("timeout") is not None,
            cwd=t.group("cwd"),
        )
    masked = text.startswith(MASK_PREFIX)
    if masked and (m := _RETURNCODE.fullmatch(lines[-1])) is not None:
        return ShellRun("\n".join(lines[:-1]), True, int(m.group(1)))
    return ShellRun(text, masked)


def never_ran(tool: str, text: str) -> bool:
    """Whether a result says its call never ran: refused, or stopped before it started.
    A shell call stopped with output had started, and may have changed files."""
    if text.startswith(DENIED):
        return True
    return text.startswith(NOT_RUN) and (tool != "bash" or PARTIAL not in text)


def shell_failed(command: str, run: ShellRun, *, is_error: bool) -> bool:
    """Whether the call failed: it timed out, exited non-zero (bar exit 1 from a program
    whose 1 means "no"), or never ran and the tool says why (`is_error`)."""
    if run.timed_out:
        return True
    if run.exit_code is not None:
        return run.exit_code != 0 and not (run.exit_code == 1 and _answers_no(command))
    return is_error and not run.ran


def _answers_no(command: str) -> bool:
    """Whether the command's status comes from a program whose exit code 1 means "no"
    (grep found nothing, diff found differences, test was false), not that it failed."""
    last = re.split(r"&&|\|\||[;|\n]", command.strip())[-1].split()
    return bool(last) and posixpath.basename(last[0]) in _NO_MEANS_1


def _trailer(lines: list[str]) -> tuple[int, re.Match[str]] | None:
    """The shell trailer and its index: the last line, or followed only by notes."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    for i in range(end - 1, max(end - 1 - MAX_NOTES, 0) - 1, -1):
        if (t := _TRAILER.fullmatch(lines[i])) is not None:
            return i, t
        if not _is_note(lines[i]):
            return None
    return None


def _is_note(line: str) -> bool:
    return line.startswith("[") and line.endswith("]")


def status_lines(text: str) -> list[str]:
    """The lines that say how a call ended, for a placeholder to keep: the shell trailer
    and the notes after it, a mini-swe-agent return code, or else the bracketed status
    lines a tool's output ends with (at most three)."""
    if (m := _RETURNCODE.match(text)) is not None:
        return [m.group(0).strip()]
    lines = text.rstrip("\n").split("\n")
    if (found := _trailer(lines)) is not None:
        return [line for line in lines[found[0] :] if line.strip()]
    tail: list[str] = []
    for line in reversed(lines[-3:]):
        if not _is_note(line) or len(line) > MAX_LINE_CHARS:  # not a `[1, 2, ...]` printed
            break
        tail.insert(0, line)
    return tail


def error_lines(text: str) -> list[str]:
    """The lines of an output that say what went wrong, in order, each distinct: the
    exception line that ends each Python traceback, the first line of each pytest `E`
    block, FAILED/ERROR test lines, and `error:`/`fatal:` lines; each cut at MAX_LINE_CHARS."""
    found: list[str] = []
    in_traceback = in_e = False
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.strip() == _TRACEBACK:
            in_traceback = True
            continue
        if in_traceback and line and not line[0].isspace():
            in_traceback = False
            if _EXCEPTION.fullmatch(line):
                found.append(line)
                continue
        e_line = _PYTEST_E.fullmatch(line) is not None
        if (e_line and not in_e) or (not in_traceback and _ERROR_LINE.fullmatch(line)):
            found.append(line)
        in_e = e_line
    return list(dict.fromkeys(line[:MAX_LINE_CHARS] for line in found))


def keep_ends(lines: list[str], n: int = KEEP_ERRORS) -> list[str]:
    """The first and the last `n` of `lines`, or all of them when there are few."""
    return lines if len(lines) <= 2 * n else lines[:n] + lines[-n:]


def excerpt(body: str, limit: int = MAX_EXCERPT_CHARS) -> str:
    """What a failure printed, within `limit` characters: all of it when short, else its
    error lines (the first few) and then its last lines."""
    body = body.strip("\n")
    if len(body) <= limit:
        return body
    errors = "\n".join(error_lines(body)[:4])[: limit // 2]
    room = limit - len(errors) - (7 if errors else 0)
    tail: list[str] = []
    for line in reversed(body.splitlines()):
        if len(line) + 1 > room:
            if not tail:
                tail.append("…" + line[len(line) - room + 1 :])
            break
        tail.insert(0, line)
        room -= len(line) + 1
    end = "\n".join(tail)
    if not errors or all(e in end for e in errors.split("\n")):
        return end
    return f"{errors}\n[...]\n{end}"


def key_argument(arguments: Any, limit: int = 500) -> str:
    """The argument that says what a call was about: its command, pattern or path (else
    its first string argument), within `limit` characters. Arguments that are not an
    object (a call the model garbled) have none."""
    if not isinstance(arguments, dict):
        return ""
    for key in ("command", "pattern", "path", "file_path", "url", "query"):
        value = arguments.get(key)
        if isinstance(value, str) and value:
            return cut_middle(value, limit, "argument")
    strings = (v for v in arguments.values() if isinstance(v, str))
    return cut_middle(next(strings, ""), limit, "argument")


def cut_middle(text: str, limit: int, what: str = "message") -> str:
    """`text` within `limit` characters: its head and tail around a marker that says how
    many characters of it (a message, a command) were cut."""
    if len(text) <= limit:
        return text
    cut = len(text)
    for _ in range(3):  # the marker's own length depends on the number it shows
        marker = f"\n[... {cut:,} characters of this {what} cut ...]\n"
        keep = max(limit - len(marker), 0)
        cut = len(text) - keep
    head = keep // 2
    tail = keep - head
    return text[:head] + marker + (text[len(text) - tail :] if tail else "")


def one_line(text: str, limit: int) -> str:
    """`text` on one line (runs of whitespace become one space), cut at `limit`."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
