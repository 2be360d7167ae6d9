"""The facts a compaction must not lose, read from the history by Friday itself instead of
trusted to the model's summary: the user's own words, the files changed, the last failing
command and the error lines seen, and the todo list.

Everything here is a pure function of the messages (and the workspace folder the paths are
shown relative to), so the same history always gives the same facts. A history that starts
with an earlier summary carries that summary's facts forward: a second compaction keeps
what the first one recorded.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from friday.messages import Msg, TextBlock, ToolResultBlock, ToolUseBlock

USER_BUDGET_CHARS = 20_000
MIN_CUT_CHARS = 2_000  # a long message is cut to fit only when at least this much room is left
MAX_COMMAND_CHARS = 4_000
FILE_TOOLS = ("write_file", "edit_file", "multi_edit")
TODO_TOOLS = ("todo_write", "todo")
DENIED = "[permission_denied]"
# Results the agent writes for calls that never finished (friday.tool_runner, friday.agent).
NOT_RUN = (
    "Interrupted by user: the call was stopped before it finished.",
    "Not run: the run ended before this call finished.",
)
_NO_MEANS_1 = frozenset({"grep", "egrep", "fgrep", "rg", "diff", "cmp", "test", "[", "[["})
STEERING_NOTE = re.compile(r"\[The user interrupted [^\n]*\]")
_CREATED = re.compile(r"Created (.+) \([\d,]+ lines?, [\d,]+ bytes\)\.")
_WROTE = re.compile(r"Wrote (.+) \([\d,]+ lines?\): \+\d+ -\d+ lines\.")
_EDITED = re.compile(r"Edited (.+): (?:\d+ edits, )?\d+ replacements?, \+\d+ -\d+ lines\.")


@dataclass
class Failure:
    """The last command that failed: what ran, its exit code (None when it timed out or
    the tool itself refused), and a bounded excerpt of what it printed."""

    command: str
    exit_code: int | None
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.command, "exit_code": self.exit_code, "error": self.error}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Failure:
        code = d.get("exit_code")
        return cls(str(d.get("command") or ""), int(code) if code is not None else None,
                   str(d.get("error") or ""))  # fmt: skip


@dataclass
class Facts:
    user_messages: list[str] = field(default_factory=list)  # verbatim, newest first
    omitted_user_messages: int = 0  # older ones that did not fit the budget
    files_edited: list[str] = field(default_factory=list)  # first-seen order, unique
    files_created: list[str] = field(default_factory=list)
    last_failure: Failure | None = None
    errors: list[str] = field(default_factory=list)  # distinct, first and last kept
    todos: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_messages": list(self.user_messages),
            "omitted_user_messages": self.omitted_user_messages,
            "files_edited": list(self.files_edited),
            "files_created": list(self.files_created),
            "last_failure": self.last_failure.to_dict() if self.last_failure else None,
            "errors": list(self.errors),
            "todos": list(self.todos) if self.todos is not None else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Facts:
        failure = d.get("last_failure")
        todos = d.get("todos")
        return cls(
            user_messages=[str(m) for m in d.get("user_messages") or ()],
            omitted_user_messages=int(d.get("omitted_user_messages") or 0),
            files_edited=[str(p) for p in d.get("files_edited") or ()],
            files_created=[str(p) for p in d.get("files_created") or ()],
            last_failure=Failure.from_dict(failure) if isinstance(failure, dict) else None,
            errors=[str(e) for e in d.get("errors") or ()],
            todos=[str(t) for t in todos] if todos is not None else None,
        )


def extract_facts(
    history: Sequence[Msg],
    *,
    cwd: str | None = None,
    user_budget_chars: int = USER_BUDGET_CHARS,
    home: str | None = None,
) -> Facts:
    """The facts of `history`, merged with those of any earlier summary in it. Paths are
    shown relative to `cwd` (the workspace root) when inside it, else absolute; `home`
    (default: the user's) is where a shell command's `~` points."""
    root = posixpath.normpath(cwd) if cwd else None
    reader = _Reader(root, home)
    for msg in history:
        reader.read(msg)
    new = Facts(
        files_edited=list(reader.edited),
        files_created=list(reader.created),
        last_failure=reader.failure,
        errors=reader.errors,
        todos=reader.todos,
    )
    merged = merge_facts([*reader.earlier, new], reader.user_texts)
    merged.user_messages, omitted = fit_user_messages(merged.user_messages, user_budget_chars)
    merged.omitted_user_messages += omitted
    return merged


def merge_facts(layers: Sequence[Facts], newest_user: Sequence[str] = ()) -> Facts:
    """One Facts from several, oldest first: user messages newest first (`newest_user`,
    then each layer's from the newest layer back), files in first-seen order (a created
    file is listed only as created), errors first-seen, the newest failure and todo list."""
    users = list(newest_user)
    omitted = 0
    edited: dict[str, None] = {}
    created: dict[str, None] = {}
    errors: list[str] = []
    failure, todos = None, None
    for layer in layers:
        edited.update(dict.fromkeys(layer.files_edited))
        created.update(dict.fromkeys(layer.files_created))
        errors.extend(layer.errors)
        failure = layer.last_failure or failure
        todos = layer.todos if layer.todos is not None else todos
    for layer in reversed(layers):
        users.extend(layer.user_messages)
        omitted += layer.omitted_user_messages
    return Facts(
        user_messages=users,
        omitted_user_messages=omitted,
        files_edited=[p for p in edited if p not in created],
        files_created=list(created),
        last_failure=failure,
        errors=keep_ends(list(dict.fromkeys(errors))),
        todos=todos,
    )


def fit_user_messages(messages: Sequence[str], budget: int) -> tuple[list[str], int]:
    """The messages (newest first) that fit in `budget` characters, and how many did not.
    The oldest, the task as first given, always stays; the others are taken newest first,
    whole. A message longer than the whole budget is kept as head and tail around a marker
    in at most half of it, so a pasted log cannot push out everything else; the budget is
    the only reason anything is cut."""
    if not messages:
        return [], 0
    *newer, first = messages
    half = budget // 2
    first = first if len(first) <= budget else cut_middle(first, half)
    kept: list[str] = []
    omitted = 0
    room = budget - len(first)
    for text in newer:
        if len(text) <= room:
            kept.append(text)
            room -= len(text)
        elif len(text) > budget and min(room, half) >= min(MIN_CUT_CHARS, half):
            kept.append(cut_middle(text, min(room, half)))
            room -= len(kept[-1])
        else:
            omitted += 1
    return [*kept, first], omitted


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


class _Reader:
    """Walks a history once, in order, collecting the facts as it goes."""

    def __init__(self, root: str | None, home: str | None) -> None:
        self.root = root
        self.home = home
        self.shell_cwd = root
        self.calls: dict[str, ToolUseBlock] = {}
        self.user_texts: list[str] = []  # newest first
        self.earlier: list[Facts] = []  # facts of earlier summaries, oldest first
        self.edited: dict[str, None] = {}
        self.created: dict[str, None] = {}
        self.errors: list[str] = []
        self.failure: Failure | None = None
        self.todos: list[str] | None = None

    def read(self, msg: Msg) -> None:
        if msg.role == "assistant":
            self.calls.update((b.id, b) for b in msg.tool_uses)
            return
        summary = msg.meta.get("summary")
        if summary is not None:
            stored = summary.get("facts") if isinstance(summary, dict) else None
            if isinstance(stored, dict):
                self.earlier.append(Facts.from_dict(stored))
            return
        results = [b for b in msg.content if isinstance(b, ToolResultBlock)]
        if results:
            for result in results:
                call = self.calls.get(result.tool_use_id)
                if call is not None:
                    self._result(call, result)
            return
        text = user_text(msg)
        if text:
            self.user_texts.insert(0, text)

    def _result(self, call: ToolUseBlock, result: ToolResultBlock) -> None:
        text = result.text
        if text.startswith(DENIED) or text.startswith(NOT_RUN):
            return
        if call.name == "bash":
            self._bash(call, result)
        elif result.is_error:
            what = f"{call.name} {key_argument(call.input)}".strip()
            self.failure = Failure(what, None, excerpt(text))
        elif call.name in FILE_TOOLS:
            self._file_tool(call, text)
        elif call.name in TODO_TOOLS:
            self.todos = todo_items(call.input)
        self.errors.extend(error_lines(text))

    def _file_tool(self, call: ToolUseBlock, text: str) -> None:
        first = text.split("\n", 1)[0]
        for pattern in (_CREATED, _WROTE, _EDITED):
            if (m := pattern.fullmatch(first)) is not None:
                book = self.created if pattern is _CREATED else self.edited
                book[self._shown(m.group(1))] = None
                return
        if "already has exactly this content" in first:
            return
        path = call.input.get("path")
        if isinstance(path, str) and path.strip():  # a masked or reworded result
            self.edited[self._shown(path)] = None

    def _bash(self, call: ToolUseBlock, result: ToolResultBlock) -> None:
        command = call.input.get("command")
        if not isinstance(command, str) or not command.strip():
            return
        run = shell_run(result.text)
        if run.ran or not result.is_error:
            cwd = self.shell_cwd or _here()
            for path in shell_edits(command, cwd, self.root or cwd, self.home):
                self.edited[self._shown(path)] = None
        if run.cwd is not None and self.shell_cwd is not None:
            self.shell_cwd = posixpath.normpath(posixpath.join(self.root or "/", run.cwd))
        if _failed(command, run, result):
            shown = cut_middle(command, MAX_COMMAND_CHARS, "command")
            self.failure = Failure(shown, run.exit_code, excerpt(run.body))

    def _shown(self, path: str) -> str:
        return shown_path(path, self.root)


def _failed(command: str, run: ShellRun, result: ToolResultBlock) -> bool:
    if run.timed_out:
        return True
    if run.exit_code is not None:
        return run.exit_code != 0 and not (run.exit_code == 1 and _answers_no(command))
    return result.is_error and not run.ran


def _answers_no(command: str) -> bool:
    """Whether the command's status comes from a program whose exit code 1 means "no"
    (grep found nothing, diff found differences, test was false), not that it failed."""
    last = re.split(r"&&|\|\||[;|\n]", command.strip())[-1].split()
    return bool(last) and posixpath.basename(last[0]) in _NO_MEANS_1


def _here() -> str:
    import os

    return os.getcwd()


def shown_path(path: str, root: str | None) -> str:
    """A path as the facts list it: relative to `root` when inside it, else absolute."""
    if root is None:
        return posixpath.normpath(path)
    norm = posixpath.normpath(posixpath.join(root, path))
    if norm == root:
        return "."
    if norm.startswith(root.rstrip("/") + "/"):
        return posixpath.relpath(norm, root)
    return norm


def user_text(msg: Msg) -> str:
    """The user's own words in a user message: its text blocks, without the note Friday
    puts first after an interrupt."""
    blocks = [b for b in msg.content if isinstance(b, TextBlock)]
    if blocks and STEERING_NOTE.fullmatch(blocks[0].text.strip()):
        blocks = blocks[1:]
    return "\n".join(b.text for b in blocks).strip("\n")


def todo_items(arguments: dict[str, Any]) -> list[str]:
    """The items of a todo tool call: strings, or objects whose text field is taken (with
    their status in brackets when they have one)."""
    raw = arguments.get("todos", arguments.get("items"))
    items: Iterable[Any] = raw if isinstance(raw, list) else ()
    out = []
    for item in items:
        if isinstance(item, dict):
            text = next((str(item[k]) for k in ("content", "text", "title") if k in item), "")
            status = item.get("status")
            out.append(f"[{status}] {text}" if status else text)
        else:
            out.append(str(item))
    return [t for t in out if t.strip()]


# -- what a tool's output says --------------------------------------------------------------

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
_EXCEPTION = re.compile(r"[A-Za-z_][\w.]*(?::.*)?")
_ERROR_LINE = re.compile(
    r"(?:[A-Za-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Failure|Interrupt)(?:: .*)?"
    r"|(?:[\w./-]+(?::\d+)*: )?(?:fatal |)(?:error|Error|ERROR|fatal|FAIL)(?:\[\w+\])?:(?:\s.*)?"
    r"|(?:FAILED|ERROR) \S+(?:\.py|::)\S*(?: .*)?"
    r"|\S+::\S+ (?:FAILED|ERROR)\b.*"
)
_PYTEST_E = re.compile(r"E\s{2,}\S.*")
MAX_LINE_CHARS = 300
KEEP_ERRORS = 8  # the first and the last this many
MAX_EXCERPT_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class ShellRun:
    """How a bash call ended, read from its result text."""

    body: str  # the output without the trailer and the notes after it
    ran: bool  # bash ran it (a trailer or a return code is there)
    exit_code: int | None = None
    timed_out: bool = False  # an interrupted call is neither: the user stopped it
    cwd: str | None = None  # the shell's new directory, when the call changed it


def shell_run(text: str) -> ShellRun:
    if (m := _RETURNCODE.match(text)) is not None:
        body = "\n".join(
            line for line in text[m.end() :].splitlines() if not _TAG_LINE.fullmatch(line)
        )
        return ShellRun(body, True, int(m.group(1)))
    lines = text.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if (t := _TRAILER.fullmatch(lines[i])) is None:
            continue
        code = t.group("code")
        return ShellRun(
            "\n".join(lines[:i]),
            True,
            int(code) if code and code.isdigit() else None,
            timed_out=t.group("timeout") is not None,
            cwd=t.group("cwd"),
        )
    return ShellRun(text, text.startswith("[Output masked"))


def error_lines(text: str) -> list[str]:
    """The lines of an output that say what went wrong, in order: the exception line that
    ends each Python traceback, the first line of each pytest `E` block, FAILED/ERROR
    test lines, and `error:`/`fatal:` lines; each cut at MAX_LINE_CHARS."""
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
    return [line[:MAX_LINE_CHARS] for line in dict.fromkeys(found)]


def keep_ends(lines: list[str], n: int = KEEP_ERRORS) -> list[str]:
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


def key_argument(arguments: dict[str, Any]) -> str:
    """The argument that says what a call was about: its command, path or pattern."""
    for key in ("command", "pattern", "path", "file_path", "url", "query"):
        value = arguments.get(key)
        if isinstance(value, str) and value:
            return cut_middle(value, 500, "argument")
    strings = (v for v in arguments.values() if isinstance(v, str))
    return cut_middle(next(strings, ""), 500, "argument")


# -- files a shell command changes ---------------------------------------------------------

_WRITE_CODES = ("REDIRECT_WRITE", "WRITE_FLAG", "FILE_WRITE", "FILE_DELETE")
_TO_LAST = ("cp", "install", "ln")  # the earlier operands are only read
_METADATA = ("chmod", "chown", "chgrp", "mkdir")  # no file content changes
_QUOTED_HEREDOC = re.compile(r"""<<(-?)[ \t]*(['"])([A-Za-z_][\w.-]*)\2""")


def shell_edits(command: str, cwd: str, root: str, home: str | None) -> list[str]:
    """The absolute paths `command` writes or deletes when run in `cwd`, as the
    permission analyzer finds them (`> f`, `tee f`, `sed -i f`, `cp a f`, `mv a f`, `rm f`)."""
    import os

    return list(_shell_edits(command, cwd, root, home or os.path.expanduser("~")))


@functools.lru_cache(maxsize=4096)
def _shell_edits(command: str, cwd: str, root: str, home: str) -> tuple[str, ...]:
    from friday.permissions.shell import analyze_shell
    from friday.permissions.verdict import PARSE_ERROR, ShellContext

    ctx = ShellContext(cwd=cwd, root=root, home=home)
    verdict = analyze_shell(command, ctx)
    if any(r.code == PARSE_ERROR for r in verdict.reasons) and _QUOTED_HEREDOC.search(command):
        # bashlex cannot parse `<<'EOF'`; the quotes change only how the body expands,
        # never where the output goes, so the unquoted form has the same targets.
        verdict = analyze_shell(_QUOTED_HEREDOC.sub(r"<<\1\3", command), ctx)
    out: list[str] = []
    for r in verdict.reasons:
        if r.code not in _WRITE_CODES or not r.path:
            continue
        sub = verdict.subcommands[r.sub] if r.sub is not None else None
        program = (sub.program or posixpath.basename(sub.argv[0])) if sub and sub.argv else ""
        if r.path in (root, cwd) or program in _METADATA:
            continue  # a folder searched (`find . -delete`), or only modes changed
        if r.code == "FILE_WRITE" and program in _TO_LAST and sub is not None:
            target = _target(sub.argv, cwd)
            if target is None and r is not _last_write(verdict.reasons, r.sub):
                continue
            out.append(target or r.path)
        else:
            out.append(r.path)
    return tuple(dict.fromkeys(out))


def _last_write(reasons: Sequence[Any], sub: int | None) -> Any:
    return [r for r in reasons if r.sub == sub and r.code == "FILE_WRITE"][-1]


def _target(argv: Sequence[str], cwd: str) -> str | None:
    """The folder of `cp -t DIR`/`--target-directory=DIR`, or None without one."""
    for i, arg in enumerate(argv[1:], 1):
        if arg == "-t" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--target-directory="):
            value = arg.split("=", 1)[1]
        else:
            continue
        return posixpath.normpath(posixpath.join(cwd, value))
    return None
