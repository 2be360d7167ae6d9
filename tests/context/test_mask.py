"""Observation masking: which results are masked, what their placeholders keep (the
restore path, the error lines, how the call ended), and that a masked history differs
from the original only in those results."""

from __future__ import annotations

from typing import Any

from friday.context import mask
from friday.context.facts import extract_facts
from friday.context.mask import MASK_PREFIX, MIN_MASK_CHARS, Target
from friday.messages import Msg, TextBlock, ToolResultBlock, ToolUseBlock, Usage

LONG = "".join(f"line {i} of a long listing\n" for i in range(60))  # well over MIN_MASK_CHARS


def turn(n: int, name: str, args: Any, text: str, *, is_error: bool = False) -> list[Msg]:
    call = ToolUseBlock(f"c{n}", name, args)
    result = ToolResultBlock(call.id, text, is_error=is_error)
    return [Msg("assistant", (TextBlock(f"step {n}"), call)), Msg("user", (result,))]


def target_for(name: str, args: Any, text: str) -> Target:
    call = ToolUseBlock("c1", name, args)
    return Target(1, 0, ToolResultBlock("c1", text), call)


# -- targets ----------------------------------------------------------------------------------


def test_targets_are_the_long_unmasked_results_before_the_recent_part():
    assert len(LONG) >= MIN_MASK_CHARS
    masked = f"{MASK_PREFIX}: 9,000 characters from bash ls; the full text is in /o/x.]" + "."
    history = [
        Msg.user("task " + LONG),  # a user's own words are never a target
        *turn(1, "bash", {"command": "ls"}, LONG),
        *turn(2, "bash", {"command": "pwd"}, "short\n[exit code 0 · 1 ms]"),
        *turn(3, "read_file", {"path": "a.py"}, masked + LONG),
        *turn(4, "grep", {"pattern": "x"}, "x" * MIN_MASK_CHARS),
        *turn(5, "bash", {"command": "cat big"}, LONG),  # recent: at or after `upto`
    ]
    found = mask.targets(history, upto=len(history) - 2)
    assert [(t.msg, t.block, t.result.tool_use_id) for t in found] == [(2, 0, "c1"), (8, 0, "c4")]
    assert [t.call.name for t in found if t.call] == ["bash", "grep"]
    assert found[0].result is history[2].content[0]
    assert mask.targets(history, upto=len(history))[-1].result.tool_use_id == "c5"
    assert mask.targets(history, upto=0) == []
    assert mask.targets([], upto=5) == []


def test_a_result_whose_call_is_not_in_view_has_no_call():
    history = [Msg("user", (ToolResultBlock("gone", LONG),))]
    [target] = mask.targets(history, upto=1)
    assert target.call is None
    text = mask.placeholder(target, "/o/gone.txt")
    assert text.startswith(f"{MASK_PREFIX}: {len(LONG):,} characters from a tool; ")


# -- placeholders -----------------------------------------------------------------------------


def test_placeholder_names_the_call_the_size_and_the_restore_path():
    text = mask.placeholder(target_for("bash", {"command": "ls -la\n  src"}, LONG), "/s/o/1.txt")
    assert text == (
        f"{MASK_PREFIX}: {len(LONG):,} characters from bash ls -la src; "
        "the full text is in /s/o/1.txt (read_file can open it).]"
    )
    assert mask.is_masked(ToolResultBlock("c1", text))
    lost = mask.placeholder(target_for("read_file", {"path": "src/a.py"}, LONG), None)
    assert lost.startswith(f"{MASK_PREFIX}: {len(LONG):,} characters from read_file src/a.py; ")
    assert "the full text could not be saved" in lost


def test_placeholder_header_is_one_bounded_line_for_any_arguments():
    heredoc = "cat > gen.py <<'EOF'\n" + "print('x')\n" * 500 + "EOF"
    for args in ({"command": heredoc}, ["not", "a", "dict"], {"n": 3}, {}):
        text = mask.placeholder(target_for("bash", args, LONG), "/o/1.txt")
        assert "\n" not in text and len(text) < 800, args
    assert "from grep needle;" in mask.placeholder(
        target_for("grep", {"path": "src", "pattern": "needle"}, LONG), "/o/1.txt"
    )


def test_placeholder_keeps_the_error_lines_and_how_the_call_ended():
    body = (
        LONG
        + 'Traceback (most recent call last):\n  File "a.py", line 3, in <module>\n'
        + "x\n" * 3
        + "ValueError: bad value\n"
        + "error: first\nerror: second\nerror: third\nerror: fourth\n"
        + "FAILED tests/t.py::test_x - AssertionError: assert 1 == 2\n"
    )
    trailer = "[exit code 1 · 0.4 s] [cwd: sub]"
    notes = ["[note one]", "[note two]", "[note three]"]
    text = "\n".join([body.rstrip("\n"), trailer, *notes])
    shown = mask.placeholder(target_for("bash", {"command": "pytest"}, text), "/o/1.txt")
    head, showed = shown.split("\nIt showed:\n")
    assert head.endswith("(read_file can open it).]")
    assert showed.split("\n") == [
        "ValueError: bad value",
        "error: first",
        "error: second",
        "FAILED tests/t.py::test_x - AssertionError: assert 1 == 2",
        trailer,
        *notes,
    ]


def test_placeholder_without_errors_or_trailer_is_the_header_alone():
    text = mask.placeholder(target_for("read_file", {"path": "a.py"}, LONG), "/o/1.txt")
    assert text.count("\n") == 0 and "It showed" not in text


def test_placeholder_keeps_only_the_closing_bracketed_lines_of_other_tools():
    text = LONG + "[a note in the middle]\nmore\n[200 more lines: offset=301]\n[done]\n"
    shown = mask.placeholder(target_for("read_file", {"path": "a.py"}, text), "/o/1.txt")
    assert shown.split("\n")[1:] == ["[200 more lines: offset=301]", "[done]"]
    early = LONG + "[exit code 1 · 1 s]\nthe output goes on\n"  # not a trailer: not last
    shown = mask.placeholder(target_for("bash", {"command": "cat log"}, early), "/o/1.txt")
    assert "\n" not in shown


def test_a_masked_failure_is_still_the_last_failure():
    """The facts of a compaction are read from a history that may be masked already."""
    friday = LONG + "ValueError: bad\n[exit code 1 · 0.2 s]"
    mini = f"<returncode>2</returncode>\n<output>\n{LONG}KeyError: 'k'\n</output>"
    for text, code, error in ((friday, 1, "ValueError: bad"), (mini, 2, "KeyError: 'k'")):
        history = [Msg.user("go"), *turn(1, "bash", {"command": "python run.py"}, text)]
        before = extract_facts(history, cwd="/w")
        [target] = mask.targets(history, upto=len(history))
        masked = mask.apply(history, {(2, 0): mask.placeholder(target, "/o/1.txt")})
        after = extract_facts(masked, cwd="/w")
        assert before.last_failure is not None and after.last_failure is not None
        assert after.last_failure.command == before.last_failure.command == "python run.py"
        assert after.last_failure.exit_code == before.last_failure.exit_code == code
        assert error in after.last_failure.error and "/o/1.txt" in after.last_failure.error
        assert after.errors == before.errors == [error]


# -- apply ------------------------------------------------------------------------------------


def test_apply_changes_only_the_targets():
    call_a = ToolUseBlock("a", "bash", {"command": "ls"})
    call_b = ToolUseBlock("b", "bash", {"command": "pwd"})
    results = Msg(
        "user",
        (
            ToolResultBlock("a", LONG, is_error=True),
            ToolResultBlock("b", (TextBlock(LONG),)),
        ),
        meta={"k": 1},
    )
    reply = Msg("assistant", (call_a, call_b), id="m1", model="x", usage=Usage(1, 2))
    history = [Msg.user("go"), reply, results, Msg.user("next")]
    snapshot = list(history)
    new = mask.apply(history, {(2, 0): "[Output masked: A]"})
    assert history == snapshot and history[2] is snapshot[2]  # the input is not changed
    assert [a is b for a, b in zip(new, history, strict=True)] == [True, True, False, True]
    changed = new[2]
    assert changed.content[0] == ToolResultBlock("a", "[Output masked: A]", is_error=True)
    assert changed.content[1] is results.content[1]
    assert (changed.role, changed.meta) == ("user", {"k": 1})
    both = mask.apply(history, {(2, 1): "[Output masked: B]", (2, 0): "[Output masked: A]"})
    assert [b.text for b in both[2].content] == ["[Output masked: A]", "[Output masked: B]"]
    assert both[:2] == history[:2] and both[1] is reply
    assert mask.apply(history, {}) == history
    # a position that is not a tool result is left as it is
    assert mask.apply(history, {(1, 0): "x"})[1].content == reply.content


def test_is_masked_only_for_placeholder_text():
    assert mask.is_masked(ToolResultBlock("a", f"{MASK_PREFIX}: 1 characters]"))
    assert not mask.is_masked(ToolResultBlock("a", (TextBlock(f"{MASK_PREFIX}: x]"),)))
    assert not mask.is_masked(ToolResultBlock("a", "plain"))
