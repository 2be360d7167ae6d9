"""The facts a compaction must not lose, read from the history by Friday itself instead of
trusted to the model's summary: the user's own words, the files changed, the last failing
command and the error lines seen, and the todo list.

Everything here is a pure function of the messages (and the workspace folder the paths are
shown relative to), so the same history always gives the same facts. A history that starts
with an earlier summary carries that summary's facts forward: a second compaction keeps
what the first one recorded. What a single tool output says (how a shell call ended, its
error lines) is read by `friday.context.outputs`.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from friday.context.outputs import (
    cut_middle,
    error_lines,
    excerpt,
    keep_ends,
    key_argument,
    never_ran,
    shell_failed,
    shell_run,
)
from friday.messages import Msg, TextBlock, ToolResultBlock, ToolUseBlock

USER_BUDGET_CHARS = 20_000
MIN_CUT_CHARS = 2_000  # a long message is cut to fit only when at least this much room is left
MAX_COMMAND_CHARS = 4_000
FILE_TOOLS = ("write_file", "edit_file", "multi_edit")
TODO_TOOLS = ("todo_write", "todo")
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
        return cls(str(d.get("command") or ""), code if _is_int(code) else None,
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
        """The facts stored by `to_dict`; a value of the wrong type (a hand-edited
        session) is read as empty rather than refused."""
        failure = d.get("last_failure")
        todos = d.get("todos")
        omitted = d.get("omitted_user_messages")
        return cls(
            user_messages=_strings(d.get("user_messages")),
            omitted_user_messages=max(omitted, 0) if _is_int(omitted) else 0,
            files_edited=_strings(d.get("files_edited")),
            files_created=_strings(d.get("files_created")),
            last_failure=Failure.from_dict(failure) if isinstance(failure, dict) else None,
            errors=_strings(d.get("errors")),
            todos=_strings(todos) if isinstance(todos, list) else None,
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value if v is not None] if isinstance(value, list) else []


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
    file is listed only as created), errors first-seen, the newest failure and todo list.
    A summary's facts include the turns kept after it: their user messages are listed once."""
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
        older = layer.user_messages
        users.extend(older[_overlap(users, older) :])
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


def _overlap(newer: Sequence[str], older: Sequence[str]) -> int:
    """The largest k such that the k newest of `older` are the k oldest of `newer` (both
    lists newest first); a message cut to fit a budget matches its whole text."""
    for k in range(min(len(newer), len(older)), 0, -1):
        tail = newer[len(newer) - k :]
        if all(_same(a, b) for a, b in zip(older[:k], tail, strict=True)):
            return k
    return 0


def _same(kept: str, whole: str) -> bool:
    return kept == whole or (len(kept) < len(whole) and cut_middle(whole, len(kept)) == kept)


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
        if never_ran(call.name, text):
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
        path = _arguments(call).get("path")
        if isinstance(path, str) and path.strip():  # a masked or reworded result
            self.edited[self._shown(path)] = None

    def _bash(self, call: ToolUseBlock, result: ToolResultBlock) -> None:
        command = _arguments(call).get("command")
        if not isinstance(command, str) or not command.strip():
            return
        run = shell_run(result.text)
        if run.ran or not result.is_error:
            cwd = self.shell_cwd or os.getcwd()
            for path in shell_edits(command, cwd, self.root or cwd, self.home):
                self.edited[self._shown(path)] = None
        if run.cwd is not None and self.shell_cwd is not None:
            self.shell_cwd = posixpath.normpath(posixpath.join(self.root or "/", run.cwd))
        if shell_failed(command, run, is_error=result.is_error):
            shown = cut_middle(command, MAX_COMMAND_CHARS, "command")
            self.failure = Failure(shown, run.exit_code, excerpt(run.body))

    def _shown(self, path: str) -> str:
        return shown_path(path, self.root)


def _arguments(call: ToolUseBlock) -> dict[str, Any]:
    return call.input if isinstance(call.input, dict) else {}  # not an object: none


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


def todo_items(arguments: Any) -> list[str]:
    """The items of a todo tool call: strings, or objects whose text field is taken (with
    their status in brackets when they have one)."""
    raw = arguments.get("todos", arguments.get("items")) if isinstance(arguments, dict) else None
    items: Iterable[Any] = raw if isinstance(raw, list) else ()
    out = []
    for item in items:
        if isinstance(item, dict):
            text = next((str(item[k]) for k in ("content", "text", "title") if k in item), "")
            status = item.get("status")
            out.append(f"[{status}] {text}" if status and text.strip() else text)
        elif item is not None:
            out.append(str(item))
    return [t for t in out if t.strip()]


# -- files a shell command changes ---------------------------------------------------------

_WRITE_CODES = ("REDIRECT_WRITE", "WRITE_FLAG", "FILE_WRITE", "FILE_DELETE")
_COPIES = ("cp", "install", "ln", "mv")  # write the last operand (cp: only read the others)
_METADATA = ("chmod", "chown", "chgrp", "mkdir")  # no file content changes
_QUOTED_HEREDOC = re.compile(r"""<<(-?)[ \t]*(['"])([A-Za-z_][\w.-]*)\2""")


def shell_edits(command: str, cwd: str, root: str, home: str | None) -> list[str]:
    """The absolute paths `command` writes or deletes when run in `cwd`, as the
    permission analyzer finds them (`> f`, `tee f`, `sed -i f`, `cp a f`, `mv a f`, `rm f`)."""
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
        if r.code == "FILE_WRITE" and program in _COPIES and sub is not None:
            out += _copied(program, r, verdict.reasons, sub.argv, cwd)
        else:
            out.append(r.path)
    return tuple(dict.fromkeys(out))


def _copied(
    program: str, r: Any, reasons: Sequence[Any], argv: Sequence[str], cwd: str
) -> list[str]:
    """What one operand of cp/install/ln/mv changes: the destination (the last operand;
    into a folder, `-t DIR` or a last operand ending in "/", each source's name there),
    and for mv each source too, which it removes."""
    writes = [w for w in reasons if w.sub == r.sub and w.code == "FILE_WRITE"]
    folder = _target(argv, cwd)
    operands = [a for a in argv[1:] if not a.startswith("-")]
    if folder is None and operands and operands[-1].endswith("/"):
        if r is writes[-1]:
            return []  # the folder itself: what changed is in it
        folder = writes[-1].path
    removed = [r.path] if program == "mv" else []
    if folder is not None:
        return [*removed, posixpath.join(folder, posixpath.basename(r.path))]
    return [r.path] if removed or r is writes[-1] else []


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
