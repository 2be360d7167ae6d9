"""The facts Friday records itself for a compaction, read from histories whose tool results
come from the real tools (file tools and bash run in a temporary workspace) or, where
running the tool is not cheap (a timeout, a permission refusal), copy their exact format."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from friday.context.facts import (
    Facts,
    Failure,
    cut_middle,
    error_lines,
    excerpt,
    extract_facts,
    fit_user_messages,
    shell_edits,
)
from friday.messages import Msg, TextBlock, ToolResultBlock, ToolUseBlock
from friday.tools.base import ToolContext, ToolError
from friday.tools.files import FILE_TOOLS, FileState
from friday.tools.shell import ShellSession, make_shell_tool
from tests.conftest import need_shared

PY = sys.executable


class Recorder:
    """Runs tools the way the agent does and keeps the history they make."""

    def __init__(self, root: Path, outputs: Path) -> None:
        self.root = root
        self.state = FileState()
        self.tools = {t.name: t for t in FILE_TOOLS}
        self.tools["bash"] = make_shell_tool(ShellSession(root, outputs))
        self.history: list[Msg] = []
        self.n = 0

    async def run(self, name: str, **args: Any) -> ToolResultBlock:
        self.n += 1
        call = ToolUseBlock(f"call_{self.n}", name, args)
        ctx = ToolContext(cwd=self.root, call_id=call.id, file_state=self.state, step=self.n)
        try:
            out = await self.tools[name].run(args, ctx)
            result = ToolResultBlock(call.id, out.content, is_error=out.is_error)
        except ToolError as exc:
            result = ToolResultBlock(call.id, str(exc), is_error=True)
        self.add(call, result)
        return result

    def add(self, call: ToolUseBlock, result: ToolResultBlock) -> None:
        self.history.append(Msg("assistant", (call,)))
        self.history.append(Msg("user", (result,)))

    def fake(self, name: str, args: dict[str, Any], text: str, *, is_error: bool = False) -> None:
        self.n += 1
        call = ToolUseBlock(f"call_{self.n}", name, args)
        self.add(call, ToolResultBlock(call.id, text, is_error=is_error))

    def say(self, text: str) -> None:
        self.history.append(Msg.user(text))

    def facts(self, **kw: Any) -> Facts:
        return extract_facts(self.history, cwd=str(self.root), **kw)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root.resolve()


@pytest.fixture
def rec(ws: Path, tmp_path: Path) -> Recorder:
    return Recorder(ws, tmp_path / "outputs")


# -- files --------------------------------------------------------------------------------


async def test_file_tools_give_created_and_edited_paths(rec: Recorder, ws: Path):
    (ws / "old.py").write_text("a = 1\nb = 2\n")
    (ws / "conf.txt").write_text("x\n")
    (ws / "two.py").write_text("one\ntwo\n")
    await rec.run("read_file", path="old.py")
    edited = await rec.run("edit_file", path="old.py", old_string="a = 1", new_string="a = 3")
    assert edited.text.startswith("Edited old.py:")
    created = await rec.run("write_file", path="pkg/new.py", content="print(1)\n")
    assert created.text.startswith("Created pkg/new.py (")
    await rec.run("read_file", path="conf.txt")
    wrote = await rec.run("write_file", path="./conf.txt", content="y\n")
    assert wrote.text.startswith("Wrote conf.txt (")
    await rec.run("read_file", path="two.py")
    await rec.run(
        "multi_edit",
        path=str(ws / "two.py"),
        edits=[{"old_string": "one", "new_string": "1"}, {"old_string": "two", "new_string": "2"}],
    )
    made = await rec.run("edit_file", path="made.py", old_string="", new_string="x = 1\n")
    assert made.text.startswith("Created made.py (")
    await rec.run("edit_file", path="pkg/new.py", old_string="print(1)", new_string="print(2)")
    same = await rec.run("write_file", path="conf.txt", content="y\n")
    assert "already has exactly this content" in same.text
    missing = await rec.run("edit_file", path="gone.py", old_string="a", new_string="b")
    assert missing.is_error

    facts = rec.facts()
    assert facts.files_created == ["pkg/new.py", "made.py"]
    assert facts.files_edited == ["old.py", "conf.txt", "two.py"]
    assert facts.last_failure == Failure("edit_file gone.py", None, missing.text)


async def test_masked_file_result_falls_back_to_the_path_argument(rec: Recorder, ws: Path):
    rec.fake(
        "edit_file",
        {"path": str(ws / "src" / "m.py"), "old_string": "a", "new_string": "b"},
        "[Output masked: 2,400 characters from edit_file src/m.py; the full text is in "
        "/s/out/call_1.txt (read_file can open it).]",
    )
    rec.fake("edit_file", {"path": "../up.py"}, "[Output masked: 900 characters ...]")
    assert rec.facts().files_edited == ["src/m.py", str(ws.parent / "up.py")]


async def test_shell_edits_found_by_the_permission_analyzer(rec: Recorder, ws: Path, tmp_path):
    (ws / "a.py").write_text("x = 1\n")
    (ws / "old.py").write_text("o\n")
    (ws / "junk.py").write_text("j\n")
    outside = tmp_path / "outside.txt"
    commands = [
        "sed -i 's/x = 1/x = 2/' a.py",
        "echo hi > out.txt",
        "echo log | tee t1.txt t2.txt",
        "cat <<'EOF' > gen.py\nprint('$HOME')\nEOF",
        "cp a.py copy.py",
        "mv old.py new.py",
        "rm junk.py",
        "ls > /dev/null 2>&1 && echo done 2>/dev/null",
        f"echo far > {outside}",
        "grep -c x a.py",
    ]
    for command in commands:
        result = await rec.run("bash", command=command)
        assert "[exit code 0 " in result.text, result.text
    assert (ws / "new.py").exists() and not (ws / "junk.py").exists()
    facts = rec.facts()
    assert facts.files_edited == [
        "a.py",
        "out.txt",
        "t1.txt",
        "t2.txt",
        "gen.py",
        "copy.py",
        "old.py",
        "new.py",
        "junk.py",
        str(outside),
    ]
    assert facts.files_created == []
    assert facts.last_failure is None


async def test_shell_edits_follow_the_shells_directory(rec: Recorder, ws: Path):
    moved = await rec.run("bash", command="mkdir -p sub && cd sub")
    assert "[cwd: sub]" in moved.text
    await rec.run("bash", command="echo x > f.txt && sed -i 's/x/y/' f.txt")
    await rec.run("bash", command="cd .. && echo z > top.txt")
    assert (ws / "sub" / "f.txt").read_text() == "y\n"
    assert rec.facts().files_edited == ["sub/f.txt", "top.txt"]


async def test_a_denied_or_unrun_bash_is_not_an_edit(rec: Recorder):
    command = "echo hi > notes.txt"
    rec.fake(
        "bash",
        {"command": command},
        f"[permission_denied] Not run: the user declined `{command}` (the command writes to "
        "/ws/notes.txt.). Do not retry it; choose another way or ask the user.",
        is_error=True,
    )
    rec.fake(
        "bash",
        {"command": "echo b > b.txt"},
        "Interrupted by user: the call was stopped before it finished.",
        is_error=True,
    )
    rec.fake(
        "write_file",
        {"path": "w.txt", "content": "x"},
        "[permission_denied] Not run: `write_file w.txt` is refused by the permission policy "
        "(writes outside the workspace). Do not retry it or a variant of it; find another way "
        "or tell the user what you need.",
        is_error=True,
    )
    facts = rec.facts()
    assert facts.files_edited == []
    assert facts.last_failure is None  # a refusal or an interrupt is not a failure
    refusal = "bash was not found on PATH: install bash (or add it to PATH) to use this tool"
    rec.fake("bash", {"command": "sed -i s/a/b/ c.txt"}, refusal, is_error=True)
    facts = rec.facts()
    assert facts.files_edited == []
    assert facts.last_failure == Failure("sed -i s/a/b/ c.txt", None, refusal)


def test_shell_edit_targets():
    def edits(command: str) -> list[str]:
        return shell_edits(command, "/w/p/sub", "/w/p", "/home/u")

    assert edits("cp -r a b") == ["/w/p/sub/b"]
    assert edits("cp -t ../dest a b") == ["/w/p/dest/a", "/w/p/dest/b"]
    assert edits("mv a.py b/c.py ../into/") == ["/w/p/sub/a.py", "/w/p/into/a.py",
                                                "/w/p/sub/b/c.py", "/w/p/into/c.py"]  # fmt: skip
    assert edits("cp -r lib/ ../copy/") == ["/w/p/copy/lib"]
    assert edits("mv old new") == ["/w/p/sub/old", "/w/p/sub/new"]
    assert edits("ln -s target link") == ["/w/p/sub/link"]
    assert edits("sort -o sorted.txt in.txt") == ["/w/p/sub/sorted.txt"]
    assert edits("chmod +x run.sh") == []
    assert edits("find . -name '*.pyc' -delete") == []
    assert edits("echo x >> ~/notes.txt") == ["/home/u/notes.txt"]
    assert edits("python -m pytest -q") == []
    assert edits('cat > a.py << "END"\nx\nEND') == ["/w/p/sub/a.py"]


# -- failures -----------------------------------------------------------------------------


async def test_last_failure_from_exit_code_trailers(rec: Recorder):
    boom = f"{PY} -c \"print('working'); raise ValueError('boom 42')\""
    first = await rec.run("bash", command=boom)
    assert "[exit code 1 · " in first.text
    await rec.run("bash", command="echo fine")
    facts = rec.facts()
    assert facts.last_failure is not None
    assert facts.last_failure.command == boom
    assert facts.last_failure.exit_code == 1
    assert "ValueError: boom 42" in facts.last_failure.error
    assert "[exit code" not in facts.last_failure.error

    killed = await rec.run("bash", command="kill -9 $$")
    assert "(killed by SIGKILL)" in killed.text
    assert rec.facts().last_failure == Failure("kill -9 $$", 137, "(no output)")

    rec.fake(
        "bash",
        {"command": "sleep 60"},
        "partial line\n[timed out after 5 s · partial output above]",
        is_error=True,
    )
    assert rec.facts().last_failure == Failure("sleep 60", None, "partial line")

    rec.fake("bash", {"command": "make"}, "building\n[interrupted]", is_error=True)
    assert rec.facts().last_failure == Failure("sleep 60", None, "partial line")

    await rec.run("bash", command="exit 3")
    assert rec.facts().last_failure == Failure("exit 3", 3, "(no output)")

    # grep finding nothing (or diff finding differences) answers "no"; it did not fail.
    no_match = await rec.run("bash", command="cd . && grep -c zzz /dev/null")
    assert "[exit code 1 · " in no_match.text
    assert rec.facts().last_failure == Failure("exit 3", 3, "(no output)")
    await rec.run("bash", command="grep -c zzz /nonexistent")  # exit 2: a real failure
    assert rec.facts().last_failure.exit_code == 2

    rec.fake("grep", {"pattern": "foo(", "path": "src"}, "bad regex: unclosed group", is_error=True)
    assert rec.facts().last_failure == Failure("grep foo(", None, "bad regex: unclosed group")


async def test_a_long_failing_output_gives_a_bounded_excerpt(rec: Recorder):
    script = (
        "import sys\n"
        "for i in range(3000): print('noise line', i)\n"
        "try:\n    {}['key']\nexcept KeyError as e:\n    raise RuntimeError('wrapped') from e\n"
    )
    result = await rec.run("bash", command=f"{PY} - <<'EOF'\n{script}EOF")
    assert "[exit code 1 " in result.text
    failure = rec.facts().last_failure
    assert failure is not None and failure.exit_code == 1
    assert len(failure.error) <= 2_000
    assert failure.error.endswith("RuntimeError: wrapped")
    assert "KeyError: 'key'" in failure.error
    assert "noise line 0\n" not in failure.error


def test_mini_swe_agent_observations_count_as_shell_results():
    call = ToolUseBlock("c1", "bash", {"command": "cd /testbed && sed -i 's/a/b/' x.py && pytest"})
    text = "<returncode>1</returncode>\n<output>\nFAILED t.py::test_a - KeyError: 'a'\n</output>"
    history = [Msg("assistant", (call,)), Msg("user", (ToolResultBlock("c1", text),))]
    facts = extract_facts(history, cwd="/testbed")
    assert facts.files_edited == ["x.py"]
    assert facts.last_failure == Failure(
        call.input["command"], 1, "FAILED t.py::test_a - KeyError: 'a'"
    )
    assert facts.errors == ["FAILED t.py::test_a - KeyError: 'a'"]


# -- error lines ---------------------------------------------------------------------------

PYTEST_OUTPUT = """\
============================= test session starts ==============================
collected 2 items

tests/test_calc.py F.                                                    [100%]

=================================== FAILURES ===================================
_________________________________ test_divide __________________________________

    def test_divide():
>       assert divide(1, 0) == 0
E       ZeroDivisionError: division by zero
E       more context line

tests/test_calc.py:4: ZeroDivisionError
=========================== short test summary info ============================
FAILED tests/test_calc.py::test_divide - ZeroDivisionError: division by zero
========================= 1 failed, 1 passed in 0.03s ==========================
"""


async def test_error_lines_from_tracebacks_pytest_and_tools(rec: Recorder, ws: Path):
    chained = (
        f"{PY} -c \"\ntry:\n    int('x')\nexcept ValueError:\n    raise LookupError('second')\""
    )
    await rec.run("bash", command=chained)
    rec.fake("bash", {"command": "pytest"}, PYTEST_OUTPUT + "[exit code 1 · 0.4 s]")
    await rec.run("bash", command="echo 'error: linker failed'; echo 'fatal: not a git repo'")
    await rec.run("bash", command="echo 'Error: again'; echo 'error: linker failed'")
    (ws / "doc.md").write_text("Error: this is text in a file\n")
    await rec.run("read_file", path="doc.md")
    facts = rec.facts()
    assert facts.errors == [
        "ValueError: invalid literal for int() with base 10: 'x'",
        "LookupError: second",
        "E       ZeroDivisionError: division by zero",
        "FAILED tests/test_calc.py::test_divide - ZeroDivisionError: division by zero",
        "error: linker failed",
        "fatal: not a git repo",
        "Error: again",
    ]


def test_error_lines_keep_the_first_and_last_eight_each_cut():
    lines = [f"error: problem {i}" for i in range(20)] + ["error: problem 0", "x" * 10]
    lines.append("RuntimeError: " + "m" * 400)
    history = []
    for i, text in enumerate(["\n".join(lines[:11]), "\n".join(lines[11:])]):
        call = ToolUseBlock(f"c{i}", "bash", {"command": f"run {i}"})
        body = text + "\n[exit code 0 · 12 ms]"
        history += [Msg("assistant", (call,)), Msg("user", (ToolResultBlock(call.id, body),))]
    errors = extract_facts(history, cwd="/w").errors
    assert len(errors) == 16
    assert errors[:8] == [f"error: problem {i}" for i in range(8)]
    assert errors[-1] == ("RuntimeError: " + "m" * 400)[:300]
    assert errors[-8:-1] == [f"error: problem {i}" for i in range(13, 20)]


def test_error_lines_exception_after_traceback_only_when_it_looks_like_one():
    text = (
        'Traceback (most recent call last):\n  File "a.py", line 1, in <module>\n'
        "[... 40 lines cut ...]\nsomething else\nKeyboardInterrupt\n"
    )
    assert error_lines(text) == ["KeyboardInterrupt"]


def test_excerpt_keeps_short_output_whole_and_cuts_one_long_line():
    assert excerpt("a\nb\n") == "a\nb"
    long = "z" * 5_000
    cut = excerpt(long)
    assert len(cut) <= 2_000 and cut.startswith("…") and cut.endswith("z")


# -- user messages ------------------------------------------------------------------------


def test_user_messages_newest_first_verbatim_without_friday_notes():
    call = ToolUseBlock("c1", "bash", {"command": "ls"})
    history = [
        Msg.user("Fix the bug in parser.py.\n  Keep the API."),
        Msg("assistant", (TextBlock("Looking."), call)),
        Msg("user", (ToolResultBlock("c1", "a\n[exit code 0 · 3 ms]"),)),
        Msg(
            "user",
            (TextBlock("[The user interrupted tool call(s) c1.]"), TextBlock("Use pytest -x")),
        ),
        Msg("user", (TextBlock("[The user interrupted your response.]"),)),
        Msg("assistant", (TextBlock("ok"),)),
        Msg.user("[not a note] keep this"),
    ]
    facts = extract_facts(history, cwd="/w")
    assert facts.user_messages == [
        "[not a note] keep this",
        "Use pytest -x",
        "Fix the bug in parser.py.\n  Keep the API.",
    ]
    assert facts.omitted_user_messages == 0


def test_user_message_budget_keeps_the_task_and_the_newest_and_counts_the_rest():
    history = [Msg.user(f"message {i} " + "x" * 90) for i in range(10)]  # 100 chars each
    facts = extract_facts(history, cwd="/w", user_budget_chars=350)
    assert facts.user_messages == [history[i].text for i in (9, 8, 0)]
    assert facts.omitted_user_messages == 7
    kept, omitted = fit_user_messages(["a" * 50, "b" * 300, "c" * 40, "task"], 100)
    assert kept == ["a" * 50, "c" * 40, "task"]  # an older one that fits is still kept
    assert omitted == 1


def test_one_message_longer_than_the_budget_is_cut_in_the_middle():
    text = "HEAD " + "m" * 10_000 + " TAIL"
    kept, omitted = fit_user_messages([text, "older"], 3_000)
    assert omitted == 0
    assert kept[1] == "older"
    assert len(kept[0]) <= 1_500  # at most half the budget
    assert kept[0].startswith("HEAD ") and kept[0].endswith(" TAIL")
    cut = len(text) - len(kept[0].replace(_marker(kept[0]), ""))
    assert f"[... {cut:,} characters of this message cut ...]" in kept[0]
    assert cut_middle("short", 10) == "short"
    task, omitted = fit_user_messages(["new", text], 3_000)
    assert task[0] == "new" and len(task[1]) <= 1_500 and task[1].endswith(" TAIL")
    whole, _ = fit_user_messages(["x" * 500, "t" * 2_900], 3_000)
    assert whole == ["t" * 2_900]  # the task fits the budget: it is not cut


def _marker(text: str) -> str:
    start = text.index("\n[...")
    return text[start : text.index("...]\n") + 5]


# -- an earlier summary, todos, the stored form ---------------------------------------------


def test_merge_with_an_earlier_summary():
    old = Facts(
        user_messages=["second old", "first old"],
        omitted_user_messages=2,
        files_edited=["a.py", "b.py"],
        files_created=["new.py"],
        last_failure=Failure("pytest", 1, "E   old"),
        errors=["KeyError: 'old'"],
        todos=["[pending] write tests"],
    )
    summary = Msg("user", (TextBlock("This conversation was compacted..."),),
                  meta={"summary": {"fields": {"goal": "g"}, "facts": old.to_dict()}})  # fmt: skip
    call = ToolUseBlock("c1", "bash", {"command": "sed -i s/a/b/ c.py b.py new.py"})
    text = "KeyError: 'new'\n[exit code 0 · 2 ms]"
    history = [
        summary,
        Msg("assistant", (call,)),
        Msg("user", (ToolResultBlock("c1", text),)),
        Msg.user("newest"),
    ]
    facts = extract_facts(history, cwd="/w")
    assert facts.user_messages == ["newest", "second old", "first old"]
    assert facts.omitted_user_messages == 2
    assert facts.files_edited == ["a.py", "b.py", "c.py"]
    assert facts.files_created == ["new.py"]
    assert facts.errors == ["KeyError: 'old'", "KeyError: 'new'"]
    assert facts.last_failure == old.last_failure
    assert facts.todos == old.todos

    later = Msg("user", (ToolResultBlock("c2", "[exit code 2 · 1 ms]"),))
    history += [Msg("assistant", (ToolUseBlock("c2", "bash", {"command": "false"}),)), later]
    assert extract_facts(history, cwd="/w").last_failure == Failure("false", 2, "")
    tight = extract_facts(history, cwd="/w", user_budget_chars=20)
    assert tight.user_messages == ["newest", "first old"]
    assert tight.omitted_user_messages == 3


def test_todos_from_the_last_todo_call():
    assert extract_facts([Msg.user("hi")]).todos is None
    first = ToolUseBlock("t1", "todo_write", {"todos": ["one"]})
    second = ToolUseBlock(
        "t2",
        "todo_write",
        {"todos": [{"content": "Run tests", "status": "in_progress"}, {"content": "Ship"}]},
    )
    history = []
    for call in (first, second):
        history += [Msg("assistant", (call,)), Msg("user", (ToolResultBlock(call.id, "ok"),))]
    assert extract_facts(history).todos == ["[in_progress] Run tests", "Ship"]


async def test_facts_round_trip_and_are_deterministic(rec: Recorder, ws: Path):
    rec.say("Please make it work")
    await rec.run("write_file", path="x.py", content="raise SystemExit(3)\n")
    await rec.run("bash", command=f"{PY} x.py")
    await rec.run("bash", command=f"{PY} -c 'import nope'")
    facts = rec.facts()
    assert facts.files_created == ["x.py"]
    assert facts.errors == ["ModuleNotFoundError: No module named 'nope'"]
    stored = json.loads(json.dumps(facts.to_dict()))
    assert Facts.from_dict(stored) == facts
    assert rec.facts() == facts
    assert Facts.from_dict({}) == Facts()


def test_importing_facts_and_summary_loads_nothing_heavy():
    probe = (
        "import sys, json\nimport friday.context.facts, friday.context.summary\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([PY, "-c", probe], capture_output=True, check=True, text=True)
    loaded = {name.split(".")[0] for name in json.loads(out.stdout.splitlines()[-1])}
    assert not loaded & {"bashlex", "tiktoken", "textual", "rich", "prompt_toolkit"}
    assert "friday" in loaded


def replayed(path: Path) -> list[Msg]:
    """A mini-swe-agent trajectory as Friday's history: each bash block a call, each
    observation its result (the README's mapping)."""
    import re

    history: list[Msg] = []
    pending = None
    for n, m in enumerate(json.loads(path.read_text())["messages"][1:]):
        if m["role"] == "assistant":
            found = re.findall(r"```bash\n(.*?)\n```", m["content"], re.S)
            pending = ToolUseBlock(f"c{n}", "bash", {"command": found[0]}) if found else None
            history.append(Msg("assistant", (TextBlock(m["content"]), *filter(None, [pending]))))
        elif pending is not None and m["content"].startswith("<returncode>"):
            history.append(Msg("user", (ToolResultBlock(pending.id, m["content"]),)))
            pending = None
        else:
            history.append(Msg.user(m["content"]))
    return history


def test_facts_of_a_real_trajectory():
    from friday.context.summary import render_summary

    path = need_shared("trajectories") / "django__django-15554.traj.json"
    history = replayed(path)
    facts = extract_facts(history, cwd="/testbed")
    task = history[0].text
    assert task.startswith("<pr_description>")
    assert facts.user_messages[-1] == task
    assert "django/db/models/sql/query.py" in facts.files_edited
    assert "reproduce_issue.py" in facts.files_edited
    assert "ModuleNotFoundError: No module named 'asgiref'" in facts.errors
    assert "FAIL: test_fk_reuse (queries.tests.JoinReuseTest)" in facts.errors
    assert facts.last_failure is not None and facts.last_failure.exit_code == 2
    text = render_summary({"goal": "g", "state": "s"}, facts, outputs_dir=None)
    for fact in [*facts.user_messages, *facts.files_edited, *facts.errors]:
        assert fact in text
    assert extract_facts(history, cwd="/testbed") == facts


# -- odd input ------------------------------------------------------------------------------


def _bash(n: int, command: Any, text: str, *, is_error: bool = False) -> list[Msg]:
    call = ToolUseBlock(f"c{n}", "bash", command)
    return [
        Msg("assistant", (call,)),
        Msg("user", (ToolResultBlock(call.id, text, is_error=is_error),)),
    ]


def test_a_line_after_a_traceback_is_an_exception_only_when_named_like_one():
    text = (
        'Traceback (most recent call last):\n  File "a.py", line 1, in <module>\n'
        "ok\n" + "x\n" * 3 + "ValueError: bad\n"
        'Traceback (most recent call last):\n  File "b.py", line 2, in <module>\n'
        "socket.timeout: timed out\n"
        'Traceback (most recent call last):\n  File "c.py", line 3, in <module>\n'
        "django.core.exceptions.ImproperlyConfigured\n"
    )
    assert error_lines(text) == [
        "ValueError: bad",
        "socket.timeout: timed out",
        "django.core.exceptions.ImproperlyConfigured",
    ]


def test_error_lines_are_linear_on_long_lines():
    # each of these took quadratic time in the pytest-line pattern (minutes at this size)
    for line in (":" * 300_000, "a::" * 100_000):
        assert error_lines(line + "\nerror: after it") == ["error: after it"]
    long = "RuntimeError: " + "m" * 300_000
    assert error_lines(long) == [long[:300]]


def test_error_lines_distinct_after_cutting():
    a, b = "ValueError: " + "v" * 400, "ValueError: " + "v" * 399 + "w"
    assert error_lines(f"{a}\n{b}") == [a[:300]]


def test_odd_tool_inputs_and_results_do_not_break_the_facts():
    weird = ToolUseBlock("c1", "bash", ["ls"])  # type: ignore[arg-type]
    history = [
        Msg("assistant", (weird,)),
        Msg("user", (ToolResultBlock("c1", "oops\n[exit code 2 · 1 ms]"),)),
        *_bash(2, {"command": 42}, "[exit code 1 · 1 ms]"),
        *_bash(3, None, "x", is_error=True),
        Msg("assistant", (ToolUseBlock("c4", "edit_file", "path"),)),  # type: ignore[arg-type]
        Msg("user", (ToolResultBlock("c4", "no such file", is_error=True),)),
        Msg("assistant", (ToolUseBlock("c5", "todo_write", {"todos": [None, "a", 3]}),)),
        Msg("user", (ToolResultBlock("c5", "ok"),)),
        Msg("user", (ToolResultBlock("orphan", "ValueError: no call"),)),
    ]
    facts = extract_facts(history, cwd="/w")
    assert facts.files_edited == []
    assert facts.last_failure == Failure("edit_file", None, "no such file")
    assert facts.todos == ["a", "3"]
    assert extract_facts([]) == Facts()
    assert extract_facts([], cwd="/w", user_budget_chars=0) == Facts()


def test_a_malformed_stored_summary_is_read_as_far_as_it_makes_sense():
    stored = {
        "user_messages": "not a list",
        "omitted_user_messages": "three",
        "files_edited": ["a.py", None, 3],
        "files_created": {"b.py": 1},
        "last_failure": {"command": "pytest", "exit_code": "one", "error": None},
        "errors": None,
        "todos": "todo",
    }
    facts = Facts.from_dict(stored)
    assert facts == Facts(
        files_edited=["a.py", "3"],
        last_failure=Failure("pytest", None, ""),
    )
    summary = Msg("user", (TextBlock("compacted"),), meta={"summary": {"facts": stored}})
    assert extract_facts([summary, Msg.user("go on")]).user_messages == ["go on"]
    odd = Msg("user", (TextBlock("compacted"),), meta={"summary": "text"})
    assert extract_facts([odd]) == Facts()


def test_a_second_compaction_does_not_repeat_the_kept_user_messages():
    old = Facts(user_messages=["keep going", "task"], files_edited=["a.py"])
    summary = Msg("user", (TextBlock("compacted"),), meta={"summary": {"facts": old.to_dict()}})
    kept = [*_bash(1, {"command": "ls"}, "a.py\n[exit code 0 · 1 ms]"), Msg.user("keep going")]
    history = [summary, *kept, *_bash(2, {"command": "ls"}, "[exit code 0 · 1 ms]")]
    assert extract_facts(history).user_messages == ["keep going", "task"]
    history.append(Msg.user("now the docs"))
    assert extract_facts(history).user_messages == ["now the docs", "keep going", "task"]
    # a long message the summary kept cut is still the same message as its whole text
    pasted = "log start\n" + "noise\n" * 5_000 + "log end"
    cut = fit_user_messages([pasted, "task"], 3_000)[0][0]
    assert cut != pasted
    old = Facts(user_messages=[cut, "task"])
    summary = Msg("user", (TextBlock("compacted"),), meta={"summary": {"facts": old.to_dict()}})
    again = extract_facts([summary, *_bash(3, {"command": "ls"}, "x"), Msg.user(pasted)])
    assert len(again.user_messages) == 2 and again.user_messages[1] == "task"
    # the same words said again after the summary are a new message, and kept as one
    history += [Msg.user("keep going")]
    assert extract_facts(history).user_messages == [
        "keep going",
        "now the docs",
        "keep going",
        "task",
    ]


async def test_an_interrupted_shell_call_that_ran_records_its_edits(rec: Recorder):
    partial = "started\n[interrupted]"
    rec.fake(
        "bash",
        {"command": "sed -i s/a/b/ c.txt && sleep 100"},
        f"Interrupted by user: the call was stopped before it finished.\n\n"
        f"Output before it stopped:\n{partial}",
        is_error=True,
    )
    facts = rec.facts()
    assert facts.files_edited == ["c.txt"]
    assert facts.last_failure is None


def test_a_trailer_is_read_only_at_the_end_of_the_output():
    log = "run 1\n[exit code 3 · 1 s]\nrun 2 still going"
    facts = extract_facts(_bash(1, {"command": "cat log.txt"}, log), cwd="/w")
    assert facts.last_failure is None
    noted = "out\n[exit code 4 · 1 s] [cwd: sub]\n[note one]\n[note two]\n[note three]"
    facts = extract_facts(_bash(1, {"command": "cd sub; false"}, noted), cwd="/w")
    assert facts.last_failure == Failure("cd sub; false", 4, "out")
