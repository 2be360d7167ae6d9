"""A mini-swe-agent trajectory as Friday would see it, and the facts a compaction must keep.

Each assistant message with exactly one ```bash block becomes a `bash` tool call (others
are text: mini-swe-agent refused them and answered with a plain user message); the user
message after a call is its result, in the shell tool's form (output, then the exit-code
trailer). Facts are read independently of Friday's own extraction: edited paths come from
a shlex reading of the commands, exceptions and failing tests from the outputs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from friday.messages import Msg, TextBlock, ToolResultBlock, ToolUseBlock


class ReplayError(Exception):
    """A trajectory that cannot be replayed; the message is one line for the user."""


_BASH = re.compile(r"```bash\s*\n(.*?)\n```", re.DOTALL)
_OBSERVATION = re.compile(r"<returncode>(-?\d+)</returncode>\s*\n?(.*)", re.DOTALL)
_OUTPUT = re.compile(r"<output>\n?(.*)</output>\s*$", re.DOTALL)
_HEAD_TAIL = re.compile(
    r"<output_head>\n?(.*?)\n?</output_head>\s*<elided_chars>\s*(.*?)\s*</elided_chars>"
    r"\s*<output_tail>\n?(.*?)\n?</output_tail>",
    re.DOTALL,
)


@dataclass
class Item:
    """One message to append: kind "user" (a plain user message), "call" (an assistant
    message; a model call happens just before it) or "result" (a tool result)."""

    kind: str
    msg: Msg | None = None
    call: ToolUseBlock | None = None
    result: ToolResultBlock | None = None
    output: str = ""  # a result's output text (no trailer), for the fact tracker


@dataclass
class Trajectory:
    name: str
    system: str
    items: list[Item]


def trajectory_name(path: Path) -> str:
    return path.name.removesuffix(".json").removesuffix(".traj")


def load_trajectory(path: Path) -> Trajectory:
    """Read and map one trajectory; ReplayError (one line) when it is not in the format."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReplayError(f"{path}: cannot read it ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReplayError(f"{path}: not valid JSON ({exc})") from None
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list) or not messages:
        raise ReplayError(f"{path}: not a mini-swe-agent trajectory (no 'messages' list)")
    texts = [_message_text(path, i, m) for i, m in enumerate(messages)]
    roles = [m["role"] for m in messages]
    if roles[0] != "system" or "system" in roles[1:] or "assistant" not in roles:
        raise ReplayError(
            f"{path}: not a mini-swe-agent trajectory (want one system message first, "
            "then user and assistant messages)"
        )
    return Trajectory(trajectory_name(path), texts[0], _items(roles[1:], texts[1:]))


def _message_text(path: Path, index: int, message: Any) -> str:
    role = message.get("role") if isinstance(message, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # chat "parts": keep the text ones
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        content = "".join(p for p in parts if isinstance(p, str))
    if role not in ("system", "user", "assistant") or not isinstance(content, str):
        raise ReplayError(f"{path}: message {index} has no valid role and text content")
    return content


def _items(roles: list[str], texts: list[str]) -> list[Item]:
    items: list[Item] = []
    pending: ToolUseBlock | None = None
    calls = 0
    for role, text in zip(roles, texts, strict=True):
        if role == "assistant":
            if pending is not None:  # a call with no recorded observation
                items.append(_result(pending, "(no output was recorded)"))
            blocks = _BASH.findall(text)
            pending = None
            content: tuple[Any, ...] = (TextBlock(text),)
            if len(blocks) == 1:  # mini-swe-agent runs exactly one block, else refuses
                calls += 1
                pending = ToolUseBlock(f"call_{calls}", "bash", {"command": blocks[0]})
                thought = _BASH.sub("", text).strip()
                content = (TextBlock(thought), pending) if thought else (pending,)
            items.append(Item("call", Msg("assistant", content)))
        elif pending is not None:
            items.append(_result(pending, text))
            pending = None
        else:
            items.append(Item("user", Msg.user(text)))
    return items


def _result(call: ToolUseBlock, text: str) -> Item:
    """An observation as the shell tool's result: the output, then its exit-code trailer.
    A message without a return code (a timeout notice, the final diff) is kept as is."""
    found = _OBSERVATION.match(text)
    if not found:
        return Item("result", call=call, result=ToolResultBlock(call.id, text), output=text)
    code, rest = found.groups()
    if head_tail := _HEAD_TAIL.search(rest):
        head, elided, tail = head_tail.groups()
        output = f"{head}\n[... {elided} in the recording ...]\n{tail}"
    elif plain := _OUTPUT.search(rest):
        output = plain.group(1)
    else:
        output = rest
    body = (output or "(no output)").removesuffix("\n")  # as the shell tool renders it
    result = ToolResultBlock(call.id, f"{body}\n[exit code {code} · 0.0 s]")
    return Item("result", call=call, result=result, output=output)


# -- facts, by our own reading of the commands and outputs --------------------------------

_HEREDOC = re.compile(r"(?<!<)<<-?(?!<)\s*(['\"]?)([A-Za-z_]\w*)\1")
_SEPARATORS = set(";&|()\n")
_REDIRECTS = {">", ">>", ">|", "&>", "&>>"}
_EXCEPTION = re.compile(r"[A-Za-z_][\w.]*(?::\s.*)?")
_FAILED_TEST = re.compile(r"^(?:(?:FAILED|ERROR) (\S+::\S+)|((?:FAIL|ERROR): \S+ \([\w.]+\)))")


def edited_paths(command: str) -> list[str]:
    """Paths a bash command writes: > and >> targets (heredocs included), tee arguments,
    sed -i files, cp/mv destinations."""
    try:
        lex = shlex.shlex(_strip_heredocs(command), posix=True, punctuation_chars=";&|<>()\n")
        lex.whitespace, lex.whitespace_split = " \t\r", True
        words = list(lex)
    except ValueError:  # unbalanced quotes: bash would refuse it too
        return []
    found: list[str] = []
    argv: list[str] = []
    for i, word in enumerate([*words, ";"]):
        if word and set(word) <= _SEPARATORS:
            found += _argv_targets(argv)
            argv = []
        elif word in _REDIRECTS and i + 1 < len(words):
            found.append(words[i + 1])
        elif not (i and words[i - 1] in _REDIRECTS):
            argv.append(word)
    clean = [p.removeprefix("./") for p in found if p and not p.startswith(("&", "/dev/"))]
    return list(dict.fromkeys(clean))


def _strip_heredocs(command: str) -> str:
    kept: list[str] = []
    waiting: list[str] = []
    for line in command.split("\n"):
        if waiting:
            if line.strip() == waiting[0]:
                waiting.pop(0)
            continue
        kept.append(line)
        waiting += [m.group(2) for m in _HEREDOC.finditer(line)]
    return "\n".join(kept)


def _argv_targets(argv: list[str]) -> list[str]:
    while argv and re.match(r"^[A-Za-z_]\w*=", argv[0]):
        argv = argv[1:]
    if not argv:
        return []
    name, args, script = os.path.basename(argv[0]), [], False
    words = iter(argv[1:])
    for word in words:
        if name == "sed" and word in ("-e", "--expression", "-f", "--file"):
            script = bool(next(words, None))  # the script is this option's value
        elif not word.startswith("-"):
            args.append(word)
    if name == "tee":
        return args
    if name in ("cp", "mv") and len(args) >= 2:
        return args[-1:]
    if name == "sed" and any(a.startswith(("-i", "--in-place")) for a in argv[1:]):
        return args if script else args[1:]
    return []


@dataclass
class Facts:
    """What a compaction must keep, gathered as the replay appends messages: edited paths
    (first-seen order), distinct user messages, the first exception line, and the last
    failing test (a pytest node id from a FAILED/ERROR line, or unittest's whole
    "FAIL: test (Class)" line)."""

    paths: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    exception: str | None = None
    failing_test: str | None = None

    def see(self, item: Item) -> None:
        if item.kind == "user" and item.msg is not None and item.msg.text not in self.users:
            self.users.append(item.msg.text)
        if item.kind == "call" and item.msg is not None:
            for call in item.msg.tool_uses:
                new = edited_paths(call.input["command"])
                self.paths += [p for p in new if p not in self.paths]
        if item.kind == "result":
            self.exception = self.exception or first_exception(item.output)
            for line in item.output.splitlines():
                if m := _FAILED_TEST.match(line.strip()):
                    self.failing_test = m.group(1) or m.group(2)

    def all(self) -> list[str]:
        extra = [f for f in (self.exception, self.failing_test) if f]
        return [*self.paths, *self.users, *extra]


def first_exception(text: str) -> str | None:
    """The line that ends the first Python traceback in `text` ("XError: message")."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != "Traceback (most recent call last):":
            continue
        for after in lines[i + 1 :]:
            if after.strip() and not after[0].isspace():
                if _EXCEPTION.fullmatch(after.rstrip()):
                    return after.rstrip()
                break  # not an exception line: look at the next traceback
    return None
