"""The event stream is the core's only output; the journal, stream-json and the UIs all
read the same JSON lines, so every event type must survive `to_json` -> `event_from_json`
unchanged. `SAMPLES` must hold one realistic instance per type: adding an event type
without a sample fails `test_every_event_type_has_a_sample`."""

from __future__ import annotations

import json

import pytest

from friday import events as ev
from friday.events import EVENT_TYPES, SCHEMA_VERSION, Event, event_from_dict, event_from_json
from friday.messages import (
    ImageBlock,
    Msg,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)

SID = "2025-06-01T10-00-00-ab12cd"
STAMP = {"session_id": SID, "ts": 1748772000.125}

ASSISTANT = Msg(
    "assistant",
    (
        ThinkingBlock("check the config first", signature="sig-abc", provider="anthropic"),
        TextBlock("I'll run the tests."),
        ToolUseBlock("toolu_01", "bash", {"command": "pytest -q", "timeout": 60}),
    ),
    id="msg_01",
    model="claude-sonnet-4-5",
    stop_reason="tool_use",
    usage=Usage(input_tokens=20, output_tokens=80, cache_read_tokens=4000),
    meta={"provider": "anthropic"},
)

SAMPLES: list[Event] = [
    ev.SessionStarted(
        seq=0,
        **STAMP,
        cwd="/home/dev/project",
        model="anthropic/claude-sonnet-4-5",
        version="0.1.0",
        permission_mode="default",
        tools=["bash", "edit_file", "read_file"],
    ),
    ev.TurnStarted(seq=1, **STAMP, message=Msg.user("why does test_cli fail?")),
    ev.ModelRequested(
        seq=2,
        **STAMP,
        model="anthropic/claude-sonnet-4-5",
        message_count=1,
        estimated_input_tokens=5120,
    ),
    ev.ThinkingDelta(seq=3, **STAMP, text="check the config "),
    ev.ToolCallDelta(seq=3, **STAMP, index=0, call_id="toolu_1", name="grep", fragment='{"pat'),
    ev.TextDelta(seq=4, **STAMP, text="I'll run the tests."),
    ev.ModelRetried(
        seq=5,
        **STAMP,
        model="anthropic/claude-sonnet-4-5",
        attempt=1,
        max_attempts=4,
        error="overloaded_error: Overloaded",
        status=529,
        delay=2.5,
    ),
    ev.ModelRetried(
        seq=6,
        **STAMP,
        model="anthropic/claude-sonnet-4-5",
        attempt=2,
        max_attempts=4,
        error="connection reset",
        status=None,
        delay=5.0,
    ),
    ev.ModelFellBack(
        seq=7,
        **STAMP,
        from_model="anthropic/claude-sonnet-4-5",
        to_model="openai/gpt-5",
        error="overloaded after 4 attempts",
    ),
    ev.ModelResponded(
        seq=8,
        **STAMP,
        message=ASSISTANT,
        usage=ASSISTANT.usage,
        stop_reason="tool_use",
        model="claude-sonnet-4-5",
        cost_usd=0.0042,
    ),
    ev.PermissionRequested(
        seq=9,
        **STAMP,
        request_id="perm-1",
        tool="bash",
        arguments={"command": "rm -rf build/"},
        analysis={"verdict": "ask", "reasons": ["deletes files: build/"], "commands": ["rm"]},
    ),
    ev.PermissionResolved(
        seq=10, **STAMP, request_id="perm-1", tool="bash", decision="allow", by="user"
    ),
    ev.PermissionResolved(
        seq=11,
        **STAMP,
        request_id="perm-2",
        tool="bash",
        decision="deny",
        by="interrupt",
        message="denied: interrupted",
    ),
    ev.ToolStarted(
        seq=12, **STAMP, call_id="toolu_01", name="bash", arguments={"command": "pytest -q"}
    ),
    ev.ToolOutputDelta(seq=13, **STAMP, call_id="toolu_01", text="..F.\n"),
    ev.ToolFinished(
        seq=14,
        **STAMP,
        call_id="toolu_01",
        name="bash",
        result=ToolResultBlock("toolu_01", "1 failed, 3 passed", is_error=True),
        truncated=True,
        bytes=20480,
        duration_ms=1534,
    ),
    ev.ToolFinished(
        seq=15,
        **STAMP,
        call_id="toolu_02",
        name="screenshot",
        result=ToolResultBlock(
            "toolu_02", (TextBlock("the page:"), ImageBlock("image/png", "iVBORw0KGgo="))
        ),
    ),
    ev.ContextCompacted(
        seq=16,
        **STAMP,
        tokens_before=180000,
        tokens_after=22000,
        summary={"goal": "fix test_cli", "files": ["friday/cli.py"], "done": False},
        summary_message=Msg.user("This conversation was compacted."),
        kept_messages=4,
    ),
    ev.ContextUsage(
        seq=16,
        **STAMP,
        estimated_input_tokens=1200,
        input_tokens=1310,
        cached_tokens=1000,
        cache_write_tokens=300,
        window=200000,
        window_known=True,
        fill=0.0066,
        counter="tiktoken:cl100k_base",
    ),
    ev.ContextMasked(
        seq=16,
        **STAMP,
        tokens_before=130000,
        tokens_after=60000,
        call_ids=["toolu_01"],
        paths=["/home/u/.cache/friday/outputs/s/bash-toolu_01.txt"],
    ),
    ev.AgentInterrupted(
        seq=17,
        **STAMP,
        reason="user",
        partial_text="I was about to",
        cancelled_tool_calls=["toolu_03", "toolu_04"],
    ),
    ev.ErrorOccurred(
        seq=18,
        **STAMP,
        kind="rate_limit",
        message="429 Too Many Requests",
        recoverable=True,
        status=429,
    ),
    ev.ErrorOccurred(seq=19, **STAMP, kind="internal", message="boom"),
    ev.TurnFinished(
        seq=20,
        **STAMP,
        stop_reason="end_turn",
        result="Fixed: the default for --model was wrong.",
        usage=Usage(input_tokens=40, output_tokens=300, cache_read_tokens=8000, reasoning_tokens=9),
        cost_usd=0.0123,
        turns=3,
        duration_ms=45120,
    ),
    ev.TurnFinished(
        seq=21,
        **STAMP,
        stop_reason="error",
        result="",
        usage=Usage(),
        cost_usd=None,
        turns=1,
        error="invalid x-api-key",
        error_kind="auth",
    ),
]


def test_every_event_type_has_a_sample() -> None:
    sampled = {type(e) for e in SAMPLES}
    missing = sorted(t for t, cls in EVENT_TYPES.items() if cls not in sampled)
    assert not missing, f"add a round-trip sample for: {missing}"


def test_event_types_registry_is_consistent() -> None:
    for tag, cls in EVENT_TYPES.items():
        assert cls.type == tag
        assert issubclass(cls, Event)
    assert len(set(EVENT_TYPES.values())) == len(EVENT_TYPES)


@pytest.mark.parametrize("type_tag", sorted(EVENT_TYPES))
def test_round_trip_for_each_event_type(type_tag: str) -> None:
    cls = EVENT_TYPES[type_tag]
    samples = [e for e in SAMPLES if type(e) is cls]
    assert samples, f"no sample for {type_tag}"
    for event in samples:
        line = event.to_json()
        assert "\n" not in line
        back = event_from_json(line)
        assert type(back) is cls
        assert back == event
        assert back.to_json() == line


def test_nested_types_are_rebuilt_not_left_as_dicts() -> None:
    responded = event_from_json(next(e for e in SAMPLES if type(e) is ev.ModelResponded).to_json())
    assert isinstance(responded, ev.ModelResponded)
    assert isinstance(responded.message, Msg)
    assert isinstance(responded.usage, Usage)
    assert responded.message.tool_uses[0].input == {"command": "pytest -q", "timeout": 60}
    assert responded.message.usage == Usage(
        input_tokens=20, output_tokens=80, cache_read_tokens=4000
    )

    finished = event_from_json(SAMPLES[16].to_json())
    assert isinstance(finished, ev.ToolFinished)
    assert isinstance(finished.result, ToolResultBlock)
    assert isinstance(finished.result.content, tuple)
    assert isinstance(finished.result.content[1], ImageBlock)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: f"{e.seq}-{e.type}")
def test_json_envelope(event: Event) -> None:
    d = json.loads(event.to_json())
    assert d["v"] == 1 == SCHEMA_VERSION
    assert d["type"] == event.type
    assert d["seq"] == event.seq
    assert d["ts"] == 1748772000.125
    assert d["session_id"] == SID
    assert list(d)[:5] == ["v", "type", "seq", "ts", "session_id"]


def test_json_of_a_nested_event() -> None:
    event = ev.ToolFinished(
        seq=3,
        session_id="s1",
        ts=2.0,
        call_id="c1",
        name="read_file",
        result=ToolResultBlock("c1", "hello"),
        bytes=5,
        duration_ms=7,
    )
    assert json.loads(event.to_json()) == {
        "v": 1,
        "type": "tool.finished",
        "seq": 3,
        "ts": 2.0,
        "session_id": "s1",
        "call_id": "c1",
        "name": "read_file",
        "result": {
            "type": "tool_result",
            "tool_use_id": "c1",
            "content": "hello",
            "is_error": False,
        },
        "truncated": False,
        "bytes": 5,
        "duration_ms": 7,
        "meta": {},
    }


def test_non_ascii_text_kept_as_is() -> None:
    event = ev.TextDelta(seq=1, session_id="s", text="café ✓ 日本")
    assert "café ✓ 日本" in event.to_json()
    assert event_from_json(event.to_json()) == event


def test_defaults_are_filled_when_fields_are_absent() -> None:
    back = event_from_dict(
        {
            "v": 1,
            "type": "error",
            "seq": 4,
            "ts": 1.0,
            "session_id": "s",
            "kind": "server",
            "message": "500",
        }
    )
    assert back == ev.ErrorOccurred(seq=4, ts=1.0, session_id="s", kind="server", message="500")


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_wrong_schema_version_raises(version: object) -> None:
    d = SAMPLES[4].to_dict()
    d["v"] = version
    with pytest.raises(ValueError, match="unsupported event schema version"):
        event_from_dict(d)
    with pytest.raises(ValueError, match="unsupported event schema version"):
        event_from_json(json.dumps(d))


def test_missing_schema_version_raises() -> None:
    d = SAMPLES[4].to_dict()
    del d["v"]
    with pytest.raises(ValueError, match="unsupported event schema version"):
        event_from_dict(d)


@pytest.mark.parametrize("tag", ["model.text", "event", "", None])
def test_unknown_event_type_raises(tag: object) -> None:
    d = SAMPLES[4].to_dict()
    d["type"] = tag
    with pytest.raises(ValueError, match="unknown event type"):
        event_from_json(json.dumps(d))


def test_missing_event_type_raises() -> None:
    d = SAMPLES[4].to_dict()
    del d["type"]
    with pytest.raises(ValueError, match="unknown event type"):
        event_from_dict(d)
