"""Messages are the one provider-neutral form of a conversation: the journal, the events
and every adapter depend on each type having exactly one JSON form that round-trips."""

from __future__ import annotations

import json

import pytest

from friday.messages import (
    ImageBlock,
    Msg,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
    block_from_dict,
    block_to_dict,
)

PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
    "AAAABJRU5ErkJggg=="
)

BLOCKS = {
    "text": TextBlock("Let me look at the failing test first."),
    "thinking_anthropic": ThinkingBlock(
        "The traceback points at parse_args; check the default.",
        signature="EqQBCkYIBxgCKkA1c2lnbmF0dXJl",
        provider="anthropic",
    ),
    "thinking_redacted": ThinkingBlock(
        "", redacted_data="ErcBCkgIAhABGAIiQL", provider="anthropic"
    ),
    "thinking_responses": ThinkingBlock(
        "Summary of reasoning.",
        provider="openai-responses",
        provider_data={"id": "rs_0a1b2c", "encrypted_content": "gAAAAABo", "summary": []},
    ),
    "tool_use": ToolUseBlock(
        "toolu_01A", "bash", {"command": "pytest -q", "timeout": 120, "env": {"CI": "1"}}
    ),
    "tool_use_bad_args": ToolUseBlock(
        "call_9",
        "edit_file",
        {},
        raw_arguments='{"path": "a.py", "old": ',
        input_error="arguments are not valid JSON: unexpected end of data",
        provider_data={"item_id": "fc_123"},
    ),
    "image": ImageBlock("image/png", PNG_B64),
    "tool_result_str": ToolResultBlock("toolu_01A", "3 passed in 0.12s"),
    "tool_result_error": ToolResultBlock("toolu_01B", "exit code 2: no such file", is_error=True),
    "tool_result_blocks": ToolResultBlock(
        "toolu_01C",
        (TextBlock("screenshot of the page:"), ImageBlock("image/png", PNG_B64), TextBlock("end")),
    ),
}


def _through_json(d: dict) -> dict:
    return json.loads(json.dumps(d))


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_block_round_trips(name: str) -> None:
    block = BLOCKS[name]
    d = block_to_dict(block)
    assert d["type"] == block.type
    assert block_from_dict(d) == block
    again = block_from_dict(_through_json(d))
    assert again == block
    assert type(again) is type(block)


def test_every_block_type_has_a_sample() -> None:
    from friday.messages import _BLOCK_TYPES

    assert {b.type for b in BLOCKS.values()} == set(_BLOCK_TYPES)


def test_block_dict_omits_none_fields() -> None:
    d = block_to_dict(TextBlock("hi"))
    assert d == {"type": "text", "text": "hi"}
    d = block_to_dict(ThinkingBlock("hmm"))
    assert d == {"type": "thinking", "thinking": "hmm"}


def test_tool_result_with_blocks_encodes_nested_dicts() -> None:
    d = _through_json(block_to_dict(BLOCKS["tool_result_blocks"]))
    assert d == {
        "type": "tool_result",
        "tool_use_id": "toolu_01C",
        "content": [
            {"type": "text", "text": "screenshot of the page:"},
            {"type": "image", "media_type": "image/png", "data": PNG_B64},
            {"type": "text", "text": "end"},
        ],
        "is_error": False,
    }
    back = block_from_dict(d)
    assert isinstance(back, ToolResultBlock)
    assert isinstance(back.content, tuple)
    assert [type(b) for b in back.content] == [TextBlock, ImageBlock, TextBlock]


def test_tool_result_text() -> None:
    assert BLOCKS["tool_result_str"].text == "3 passed in 0.12s"
    assert BLOCKS["tool_result_blocks"].text == "screenshot of the page:\nend"


def _assistant() -> Msg:
    return Msg(
        "assistant",
        (
            BLOCKS["thinking_anthropic"],
            TextBlock("Running the tests. "),
            BLOCKS["tool_use"],
            TextBlock("Then reading the file."),
            ToolUseBlock("toolu_01D", "read_file", {"path": "src/app.py", "limit": 50}),
        ),
        id="msg_01XYZ",
        model="claude-sonnet-4-5",
        stop_reason="tool_use",
        usage=Usage(
            input_tokens=12,
            output_tokens=345,
            cache_read_tokens=9000,
            cache_creation_tokens=800,
            reasoning_tokens=120,
        ),
        meta={"provider": "anthropic", "latency_ms": 812, "tags": ["a", "b"]},
    )


def _tool_results() -> Msg:
    return Msg(
        "user",
        (
            BLOCKS["tool_result_str"],
            BLOCKS["tool_result_error"],
            BLOCKS["tool_result_blocks"],
            TextBlock("also check the docs"),
        ),
    )


@pytest.mark.parametrize(
    "msg",
    [
        pytest.param(Msg.user("fix the bug"), id="user"),
        pytest.param(_assistant(), id="assistant-full"),
        pytest.param(_tool_results(), id="tool-results"),
        pytest.param(Msg("assistant", (), stop_reason="end_turn"), id="empty"),
        pytest.param(Msg("assistant", (TextBlock("x"),), usage=Usage()), id="zero-usage"),
    ],
)
def test_msg_round_trips(msg: Msg) -> None:
    assert Msg.from_dict(msg.to_dict()) == msg
    assert Msg.from_dict(_through_json(msg.to_dict())) == msg


def test_msg_dict_shape() -> None:
    d = _through_json(_assistant().to_dict())
    assert d["role"] == "assistant"
    assert d["id"] == "msg_01XYZ"
    assert d["model"] == "claude-sonnet-4-5"
    assert d["stop_reason"] == "tool_use"
    assert d["usage"] == {
        "input_tokens": 12,
        "output_tokens": 345,
        "cache_read_tokens": 9000,
        "cache_creation_tokens": 800,
        "reasoning_tokens": 120,
    }
    assert d["meta"] == {"provider": "anthropic", "latency_ms": 812, "tags": ["a", "b"]}
    assert [b["type"] for b in d["content"]] == [
        "thinking",
        "text",
        "tool_use",
        "text",
        "tool_use",
    ]


def test_msg_dict_omits_unset_optional_fields() -> None:
    assert Msg.user("hi").to_dict() == {"role": "user", "content": [{"type": "text", "text": "hi"}]}


def test_msg_from_dict_tolerates_missing_usage_keys() -> None:
    msg = Msg.from_dict(
        {"role": "assistant", "content": [], "usage": {"input_tokens": 5, "output_tokens": None}}
    )
    assert msg.usage == Usage(input_tokens=5)


def test_msg_accessors() -> None:
    msg = _assistant()
    assert msg.text == "Running the tests. Then reading the file."
    assert msg.thinking == "The traceback points at parse_args; check the default."
    assert [t.id for t in msg.tool_uses] == ["toolu_01A", "toolu_01D"]
    assert msg.tool_uses[1].input == {"path": "src/app.py", "limit": 50}


def test_msg_accessors_on_message_without_such_blocks() -> None:
    msg = _tool_results()
    assert msg.text == "also check the docs"
    assert msg.thinking == ""
    assert msg.tool_uses == []


def test_msg_user() -> None:
    msg = Msg.user("hello")
    assert msg.role == "user"
    assert msg.content == (TextBlock("hello"),)
    assert msg.usage is None
    assert msg.meta == {}


def test_usage_addition() -> None:
    a = Usage(10, 20, 300, 40, 5)
    b = Usage(1, 2, 3, 4, 6)
    total = a + b
    assert total == Usage(
        input_tokens=11,
        output_tokens=22,
        cache_read_tokens=303,
        cache_creation_tokens=44,
        reasoning_tokens=11,
    )
    assert a == Usage(10, 20, 300, 40, 5)  # operands unchanged
    assert sum([a, b, b], Usage()) == Usage(12, 24, 306, 48, 17)


def test_usage_total_input_tokens_counts_cache() -> None:
    assert (
        Usage(input_tokens=10, cache_read_tokens=300, cache_creation_tokens=40).total_input_tokens
        == 350
    )
    assert Usage(output_tokens=99, reasoning_tokens=50).total_input_tokens == 0


def test_usage_round_trips() -> None:
    u = Usage(1, 2, 3, 4, 5)
    assert Usage.from_dict(_through_json(u.to_dict())) == u
    assert Usage.from_dict({}) == Usage()


@pytest.mark.parametrize(
    "d",
    [
        {"type": "video", "url": "x"},
        {"type": "tool_call", "id": "1", "name": "bash", "input": {}},
        {"text": "no type"},
    ],
)
def test_unknown_block_type_raises_value_error(d: dict) -> None:
    with pytest.raises(ValueError, match="unknown content block type"):
        block_from_dict(d)


def test_unknown_block_inside_msg_raises_value_error() -> None:
    with pytest.raises(ValueError, match="'audio'"):
        Msg.from_dict({"role": "user", "content": [{"type": "audio", "data": ""}]})


def test_unknown_block_inside_tool_result_raises_value_error() -> None:
    d = {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "pdf"}]}
    with pytest.raises(ValueError, match="'pdf'"):
        block_from_dict(d)
