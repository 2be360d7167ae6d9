"""The model's part of a compaction: the instruction, the parser for its answer, and the
rendered summary the model reads afterwards."""

from __future__ import annotations

import json

import pytest

from friday.context.facts import Facts, Failure
from friday.context.summary import (
    SUMMARY_FIELDS,
    SummaryError,
    parse_summary,
    render_summary,
    summary_instruction,
)

FIELDS = {
    "goal": "Make `requests.get` stop sending Content-Length.",
    "state": "Patched requests/models.py; tests not run yet.",
    "findings": ["prepare_content_length always sets the header", "GET has no body"],
    "next_steps": ["Run test_requests.py", "Check HEAD requests"],
    "open_questions": ["Should OPTIONS send it?"],
}


# -- the instruction ----------------------------------------------------------------------


def test_instruction_asks_for_one_json_object_with_the_fields():
    text = summary_instruction(None)
    for key in SUMMARY_FIELDS:
        assert f'"{key}"' in text
    assert "Do not call any tools" in text
    assert "one JSON object and nothing else" in text
    assert "at most 800 words" in text
    assert "file paths" in text and "error messages" in text
    assert "focus" not in text
    assert summary_instruction(None) == text
    assert summary_instruction("") == text


def test_instruction_with_a_focus_weights_it():
    text = summary_instruction("the  failing\nmigration test")
    assert text.startswith(summary_instruction(None))
    assert "focus on: the failing migration test" in text
    assert summary_instruction("the failing migration test") == text


# -- parsing ------------------------------------------------------------------------------


def test_parse_bare_json():
    assert parse_summary(json.dumps(FIELDS)) == FIELDS


def test_parse_fenced_json_and_prose_around():
    body = json.dumps(FIELDS, indent=2)
    assert parse_summary(f"```json\n{body}\n```") == FIELDS
    noisy = f"Here is the summary {{as asked}}:\n\n{body}\n\nLet me know {{if}} more is needed."
    assert parse_summary(noisy) == FIELDS


def test_parse_takes_the_outermost_object():
    outer = {**FIELDS, "goal": "outer", "extra": {"goal": "inner", "state": "inner"}}
    parsed = parse_summary("text " + json.dumps(outer))
    assert parsed["goal"] == "outer"
    assert "extra" not in parsed


def test_parse_skips_objects_that_are_not_the_summary():
    text = 'Notes {"x": {"y": 1}} and then ' + json.dumps({"goal": "g", "state": "s"})
    assert parse_summary(text)["goal"] == "g"
    with pytest.raises(SummaryError, match="no 'goal'"):
        parse_summary('{"x": 1} {"y": 2}')


def test_parse_normalizes_lists():
    parsed = parse_summary(
        json.dumps(
            {
                "goal": "  g  ",
                "state": "s",
                "findings": "one finding",
                "next_steps": [1, {"a": 2}, " step ", "", None],
                "unknown": "dropped",
            }
        )
    )
    assert parsed == {
        "goal": "g",
        "state": "s",
        "findings": ["one finding"],
        "next_steps": ["1", "{'a': 2}", "step"],
        "open_questions": [],
    }
    assert list(parsed) == list(SUMMARY_FIELDS)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("I could not summarize this.", "no {...} object"),
        ("{goal: unquoted}", "no {...} in the answer parses"),
        ('["goal", "state"]', "no {...} object"),
        (json.dumps({"state": "s"}), "no 'goal'"),
        (json.dumps({"goal": "  ", "state": "s"}), "no 'goal'"),
        (json.dumps({"goal": "g", "state": 3}), "no 'state'"),
        (json.dumps({"goal": "g", "state": "s", "findings": {"a": 1}}), "'findings' is a dict"),
        (json.dumps({"goal": "g", "state": "s", "next_steps": 4}), "'next_steps' is a int"),
    ],
)
def test_parse_refuses_malformed_answers(text: str, reason: str):
    with pytest.raises(SummaryError) as err:
        parse_summary(text)
    message = str(err.value)
    assert reason in message
    assert "\n" not in message


# -- rendering ----------------------------------------------------------------------------


def full_facts() -> Facts:
    return Facts(
        user_messages=["Also check HEAD.", "Fix it:\n```py\nrequests.get(url)\n```\nthanks"],
        omitted_user_messages=2,
        files_edited=["requests/models.py", "/tmp/outside.txt"],
        files_created=["reproduce.py"],
        last_failure=Failure(
            "python reproduce.py",
            1,
            "Traceback (most recent call last):\n  ...\nKeyError: 'content-length'",
        ),
        errors=["KeyError: 'content-length'", "E       assert 'Content-Length' not in h"],
        todos=["[in_progress] run tests", "write changelog"],
    )


def test_render_contains_every_fact_verbatim():
    facts = full_facts()
    text = render_summary(FIELDS, facts, outputs_dir="/home/u/.friday/sessions/s1/outputs")
    strings = [
        *facts.user_messages,
        *facts.files_edited,
        *facts.files_created,
        facts.last_failure.command,
        facts.last_failure.error,
        *facts.errors,
        *facts.todos,
        FIELDS["goal"],
        FIELDS["state"],
        *FIELDS["findings"],
        *FIELDS["next_steps"],
        *FIELDS["open_questions"],
    ]
    for s in strings:
        assert s in text, s
    assert "2 older messages omitted" in text
    assert "(exit code 1)" in text
    assert "The full text of earlier tool outputs is under " in text
    assert "/home/u/.friday/sessions/s1/outputs; read_file can open it." in text
    # A message holding a ``` fence is wrapped in a longer one, so it stays one block.
    assert "````\nFix it:\n```py\nrequests.get(url)\n```\nthanks\n````" in text


def test_render_sections_in_order_and_deterministic():
    facts = full_facts()
    text = render_summary(FIELDS, facts, outputs_dir="/o")
    assert text == render_summary(dict(FIELDS), Facts.from_dict(facts.to_dict()), outputs_dir="/o")
    assert text.startswith("This conversation was compacted: ")
    headings = [
        "## Task goal",
        "## Current state",
        "## Key findings and decisions",
        "## Next steps",
        "## Open questions",
        "## The user's messages (verbatim, newest first)",
        "## Files created",
        "## Files edited",
        "## Last failing command",
        "## Errors seen",
        "## Todo list",
    ]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)
    assert text.index("Message 1 (newest):\n```\nAlso check HEAD.\n```") < text.index("Fix it")
    assert "1. Run test_requests.py\n2. Check HEAD requests" in text
    assert "recorded by Friday" in text and "exact" in text


def test_render_leaves_out_empty_sections_and_the_outputs_sentence():
    fields = {**FIELDS, "findings": [], "open_questions": []}
    text = render_summary(fields, Facts(user_messages=["go"]), outputs_dir=None)
    assert "read_file" not in text
    for absent in (
        "## Key findings",
        "## Open questions",
        "## Files",
        "## Last failing",
        "## Errors",
        "## Todo",
        "omitted",
    ):
        assert absent not in text
    assert "## Task goal" in text and "## Next steps" in text
    assert "Message 1 (newest):\n```\ngo\n```" in text
    bare = render_summary({"goal": "g", "state": "s"}, Facts(), outputs_dir=None)
    assert "recorded by Friday" not in bare
    assert bare.count("## ") == 2


# -- odd input ------------------------------------------------------------------------------


def test_parse_refuses_deeply_nested_json_with_a_summary_error():
    with pytest.raises(SummaryError, match="no \\{...\\} in the answer parses"):
        parse_summary('{"a": ' * 50_000)
    nested = '{"x": ' + "[" * 5_000 + "]" * 5_000 + "}"
    assert parse_summary(nested + " " + json.dumps(FIELDS)) == FIELDS


def test_render_takes_a_lone_string_as_one_item_and_skips_odd_values():
    fields = {"goal": "g", "state": "s", "findings": "one finding", "next_steps": 3}
    text = render_summary(fields, Facts(), outputs_dir=None)
    assert "## Key findings and decisions\n- one finding" in text
    assert "## Next steps" not in text
    assert "- o\n" not in text


def test_render_empty_facts_and_fields():
    text = render_summary({}, Facts(), outputs_dir=None)
    assert text.startswith("This conversation was compacted: ") and "##" not in text
    assert text == render_summary({}, Facts(), outputs_dir=None)
