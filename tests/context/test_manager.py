"""The context manager's decisions before a request: nothing, masking, compaction, and
the fall-backs; what each leaves in the history and in the read cache."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from friday.context.manager import DEFAULT_WINDOW
from friday.context.mask import MASK_PREFIX
from friday.events import ContextCompacted, ContextMasked
from friday.messages import Msg, TextBlock, ToolResultBlock, Usage
from friday.models.scripted import ScriptedModel
from friday.tools.files import FileState
from friday.tools.files.state import FileRecord
from tests.context.helpers import (
    SUMMARY,
    bash_turn,
    chatty_history,
    long_history,
    manager,
    pairs_intact,
    read_turn,
)

SYSTEM = "You are Friday."


def summary_model(text: str | None = None) -> ScriptedModel:
    return ScriptedModel([{"text": text if text is not None else json.dumps(SUMMARY)}])


async def test_under_the_compaction_threshold_nothing_changes(tmp_path: Path):
    cm = manager(tmp_path, window=10_000)
    history = long_history(14)  # past mask_at, under compact_at: no rewrite yet
    assert 6_000 < cm.measure(SYSTEM, (), history) < 8_000
    prepared = await cm.prepare(history, SYSTEM, (), summary_model())
    assert prepared.history is history and prepared.system == SYSTEM
    assert prepared.events == []


async def test_masking_replaces_old_outputs_in_one_batch_and_keeps_recent_ones(tmp_path: Path):
    cm = manager(tmp_path, window=10_000)  # compact at 8,000 tokens; masking must reach 4,000
    history = long_history(20)
    before = cm.measure(SYSTEM, (), history)
    assert before > 8_000
    prepared = await cm.prepare(history, SYSTEM, (), summary_model())
    [(cls, payload)] = prepared.events
    assert cls is ContextMasked
    assert payload["tokens_before"] == before and payload["tokens_after"] < before * 0.5
    new = prepared.history
    masked = [
        b
        for m in new
        for b in m.content
        if isinstance(b, ToolResultBlock) and b.text.startswith(MASK_PREFIX)
    ]
    assert len(masked) == len(payload["call_ids"]) >= 8
    # the most recent outputs are untouched, and each masked one names a file with the full text
    assert not new[-1].content[0].text.startswith(MASK_PREFIX)
    originals = {
        b.tool_use_id: b.text for m in history for b in m.content if isinstance(b, ToolResultBlock)
    }
    for block, path in zip(masked, payload["paths"], strict=True):
        assert path in block.text
        assert Path(path).read_text() == originals[block.tool_use_id]
    assert pairs_intact(new) and len(new) == len(history)
    # untouched messages are the same objects (their token counts stay cached)
    assert new[0] is history[0] and new[-1] is history[-1]


async def test_a_masked_history_is_not_masked_again_until_it_grows(tmp_path: Path):
    cm = manager(tmp_path, window=10_000)
    prepared = await cm.prepare(long_history(20), SYSTEM, (), summary_model())
    assert prepared.events[0][0] is ContextMasked
    again = await cm.prepare(prepared.history, SYSTEM, (), summary_model())
    assert again.events == [] and again.history is prepared.history


async def test_masking_keeps_the_error_lines_in_the_placeholder(tmp_path: Path):
    cm = manager(tmp_path, window=10_000)
    trace = 'Traceback (most recent call last):\n  File "a.py", line 1\n' + "x\n" * 400
    trace += "ValueError: greet() got an unexpected keyword 'nme'\n"
    history = long_history(1) + bash_turn(50, "python a.py", trace, 1) + long_history(20)[1:]
    prepared = await cm.prepare(history, SYSTEM, (), summary_model())
    text = "\n".join(
        b.text for m in prepared.history for b in m.content if isinstance(b, ToolResultBlock)
    )
    assert "It showed:\nValueError: greet() got an unexpected keyword 'nme'" in text


async def test_masking_a_read_makes_the_next_read_return_the_text(tmp_path: Path):
    state = FileState()
    app = tmp_path / "app.py"
    app.write_text("x = 1\n" * 400)
    record = FileRecord(
        path=str(app.resolve()), mtime_ns=0, size=0, digest="", encoding="utf-8", step=1
    )
    record.seen = [(1, 400, 1)]
    state.put(record)
    cm = manager(tmp_path, window=10_000, file_state=state)
    history = long_history(1) + read_turn(70, "app.py", app.read_text()) + long_history(20)[1:]
    prepared = await cm.prepare(history, SYSTEM, (), summary_model())
    assert prepared.events[0][0] is ContextMasked
    assert "call_70" in prepared.events[0][1]["call_ids"]
    assert state.get(str(app.resolve())).seen == []  # still editable, but no "unchanged" answer


async def test_past_the_threshold_the_history_is_compacted(tmp_path: Path):
    model = summary_model()
    cm = manager(tmp_path, window=10_000, system_prompt=lambda: "You are Friday (re-read).")
    history = chatty_history(20)  # past 80% of the window, and the summary call still fits
    before = cm.measure(SYSTEM, (), history)
    prepared = await cm.prepare(history, SYSTEM, (), model)
    [(cls, payload)] = prepared.events
    assert cls is ContextCompacted and payload["method"] == "summary"
    assert payload["tokens_before"] == before and payload["tokens_after"] < 0.5 * cm.window
    new = prepared.history
    assert new[0].role == "user" and new[0].meta["summary"]["fields"] == SUMMARY
    assert new[0] is payload["summary_message"]
    assert new[1].role == "assistant" and pairs_intact(new)
    assert new[1:] == history[-payload["kept_messages"] :]
    text = new[0].text
    assert SUMMARY["goal"] in text and SUMMARY["state"] in text
    assert history[0].text in text  # the user's words, verbatim
    assert prepared.system == "You are Friday (re-read)."
    # the summarizing call carried the same prefix as a normal request, then the ask
    [request] = model.requests
    assert request.system == SYSTEM and request.messages[:-1] == tuple(history)
    assert "JSON" in request.messages[-1].text


async def test_the_summary_keeps_user_messages_and_the_last_failure(tmp_path: Path):
    failing = bash_turn(
        99, "pytest -q tests/test_app.py", "E   AssertionError: 'hi bob'\n1 failed", 1
    )
    history = long_history(10) + [
        Msg("assistant", (TextBlock("Done so far."),)),
        Msg.user("Also: do not touch setup.py, it is generated."),
        *failing,
        *chatty_history(30)[1:],
    ]
    cm = manager(tmp_path, window=10_000)
    prepared = await cm.prepare(history, SYSTEM, (), summary_model())
    assert prepared.events[0][1]["method"] == "summary"
    text = prepared.history[0].text
    assert "Also: do not touch setup.py, it is generated." in text
    assert "pytest -q tests/test_app.py" in text
    assert "AssertionError: 'hi bob'" in text


@pytest.mark.parametrize(
    ("turn", "why"),
    [
        ({"status": 500, "message": "upstream exploded"}, "upstream exploded"),
        ({"text": "Sure! Here is a summary of what we did."}, "the summary failed"),
    ],
)
async def test_a_failed_or_malformed_summary_falls_back_to_masking(tmp_path: Path, turn, why):
    cm = manager(tmp_path, window=10_000)
    history = long_history(40, thought_chars=1_300)  # masking alone is not enough
    prepared = await cm.prepare(history, SYSTEM, (), ScriptedModel([turn]))
    [(cls, payload)] = prepared.events
    assert cls is ContextCompacted and payload["method"] == "masking"
    assert why in payload["error"]
    assert payload["tokens_after"] < payload["tokens_before"]
    assert payload["masked_call_ids"]
    assert pairs_intact(prepared.history) and len(prepared.history) == len(history)


async def test_a_summary_that_would_not_shrink_the_context_is_refused(tmp_path: Path):
    huge = dict(SUMMARY, findings=["a finding that goes on " * 6_000])
    cm = manager(tmp_path, window=10_000)
    history = chatty_history(40)
    prepared = await cm.prepare(history, SYSTEM, (), summary_model(json.dumps(huge)))
    payload = prepared.events[0][1]
    assert payload["method"] == "masking" and "would not shrink" in payload["error"]


async def test_a_manual_compaction_runs_below_the_threshold_with_its_focus(tmp_path: Path):
    model = summary_model()
    cm = manager(tmp_path, window=200_000)
    prepared = await cm.prepare(
        long_history(6), SYSTEM, (), model, focus="the failing test", force=True
    )
    payload = prepared.events[0][1]
    assert payload["trigger"] == "manual" and payload["focus"] == "the failing test"
    assert "the failing test" in model.requests[0].messages[-1].text


async def test_nothing_to_summarize_yet_masks_instead(tmp_path: Path):
    cm = manager(tmp_path, window=1_000)
    history = [Msg.user("x " * 3_000)]
    prepared = await cm.prepare(history, SYSTEM, (), summary_model(), force=True)
    assert prepared.events[0][1]["method"] == "masking"
    assert "nothing to summarize" in prepared.events[0][1]["error"]


async def test_a_cancelled_compaction_changes_nothing(tmp_path: Path):
    state = FileState()
    state.put(
        FileRecord(path=str(tmp_path / "a.py"), mtime_ns=0, size=0, digest="", encoding="utf-8")
    )
    cm = manager(tmp_path, window=10_000, file_state=state)
    history = chatty_history(40)
    snapshot = list(history)
    slow = ScriptedModel([{"text": json.dumps(SUMMARY), "delay": 30}])
    task = asyncio.create_task(cm.prepare(history, SYSTEM, (), slow))
    while not slow.requests:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert history == snapshot
    assert str(tmp_path / "a.py") in state  # the read cache is untouched


async def test_compaction_forgets_files_whose_text_left_the_context(tmp_path: Path):
    state = FileState()
    for name in ("old.py", "new.py"):
        (tmp_path / name).write_text("pass\n")
        path = str((tmp_path / name).resolve())
        state.put(FileRecord(path=path, mtime_ns=0, size=0, digest="", encoding="utf-8"))
    history = long_history(1) + read_turn(80, "old.py", "pass") + chatty_history(40)[1:]
    history += read_turn(81, "new.py", "pass")
    cm = manager(tmp_path, window=10_000, file_state=state)
    prepared = await cm.prepare(history, SYSTEM, (), summary_model())
    assert prepared.events[0][1]["method"] == "summary"
    assert str((tmp_path / "old.py").resolve()) not in state  # must be read again to edit
    assert str((tmp_path / "new.py").resolve()) in state  # its read is still in context


async def test_a_second_compaction_keeps_the_first_ones_facts(tmp_path: Path):
    cm = manager(tmp_path, window=10_000)
    first = await cm.prepare(chatty_history(40), SYSTEM, (), summary_model())
    history = first.history + [Msg.user("Now rename greet to welcome.")]
    history += chatty_history(40)[1:]
    second = await cm.prepare(history, SYSTEM, (), summary_model())
    assert second.events[0][1]["method"] == "summary"
    text = second.history[0].text
    assert "Make greet() say hello instead of hi." in text  # from the first summary's facts
    assert "Now rename greet to welcome." in text


def test_an_unknown_window_uses_the_conservative_default(tmp_path: Path):
    cm = manager(tmp_path, window=None)
    assert cm.window == DEFAULT_WINDOW and cm.window_known is False


def test_usage_reports_estimate_actual_cache_and_fill_and_recalibrates(tmp_path: Path):
    cm = manager(tmp_path, window=10_000)
    history = long_history(5)
    estimate = cm.measure(SYSTEM, (), history)
    payload = cm.observe(
        Usage(input_tokens=100, cache_read_tokens=2 * estimate - 100, output_tokens=5)
    )
    assert payload["estimated_input_tokens"] == estimate
    assert payload["input_tokens"] == 2 * estimate
    assert payload["cached_tokens"] == 2 * estimate - 100
    assert payload["fill"] == round(2 * estimate / 10_000, 4)
    assert payload["window_known"] is True and payload["counter"] == "test:4chars"
    # the provider counted twice as many: the next estimate moves toward its count
    assert cm.measure(SYSTEM, (), history) > estimate


def test_usage_without_a_provider_count_reports_the_estimate(tmp_path: Path):
    cm = manager(tmp_path, window=10_000)
    estimate = cm.measure(SYSTEM, (), long_history(5))
    payload = cm.observe(Usage())
    assert payload["input_tokens"] is None and payload["fill"] == round(estimate / 10_000, 4)


async def test_a_masked_failure_keeps_its_exit_code_line(tmp_path: Path):
    cm = manager(tmp_path, window=10_000)
    history = long_history(1) + bash_turn(60, "make", "building\n" * 200, 2) + long_history(20)[1:]
    prepared = await cm.prepare(history, SYSTEM, (), summary_model())
    [masked] = [
        b
        for m in prepared.history
        for b in m.content
        if isinstance(b, ToolResultBlock) and b.tool_use_id == "call_60"
    ]
    assert masked.text.startswith(MASK_PREFIX)
    assert masked.text.endswith("\n[exit code 2 · 0.1 s]")
