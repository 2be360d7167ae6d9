"""The Responses adapter driven through the real `openai` SDK over HTTP on 127.0.0.1
(tools.fakellm): recorded OpenAI streams, the request it sends, reasoning carried from
one turn to the next, incomplete and failed responses, errors, cut streams."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from friday.messages import ImageBlock, Msg, TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock
from friday.models.base import (
    Completed,
    Request,
    TextChunk,
    ThinkingChunk,
    ToolCallArgs,
    ToolCallBegan,
)
from friday.models.openai_responses import OpenAIResponsesModel
from friday.models.openai_responses_request import responses_params
from tests.conftest import RECORDED, need_shared
from tests.model_helpers import (
    READ_TOOL,
    collect,
    fail,
    hello,
    recorded,
)
from tools.fakellm import FakeLLM

RECORDED_NAMES = sorted(p.stem for p in RECORDED.glob("openai_responses_*.sse")) or [
    "(recorded-streams missing)"
]


def responses_model(srv: FakeLLM, model_id: str = "gpt-5", **kw: Any) -> OpenAIResponsesModel:
    return OpenAIResponsesModel(model_id, api_key="test-key", base_url=srv.openai_base_url, **kw)


def write_events(path: Path, events: list[dict[str, Any]]) -> str:
    """An SSE body of Responses events, numbered as the API numbers them."""
    body = "".join(
        f"event: {e['type']}\ndata: {json.dumps({**e, 'sequence_number': n})}\n\n"
        for n, e in enumerate(events)
    )
    path.write_text(body, encoding="utf-8")
    return str(path)


def response(status: str, output: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": "resp_t",
        "object": "response",
        "created_at": 1,
        "status": status,
        "model": "gpt-5-test",
        "output": output,
        "usage": None,
        **extra,
    }


# -- recorded streams -----------------------------------------------------------------------


@pytest.mark.parametrize("name", RECORDED_NAMES)
async def test_recorded_stream(name: str) -> None:
    expected, turn = recorded(name)
    with FakeLLM([turn]) as srv:
        events = await collect(responses_model(srv, "gpt-4o"), hello())
    assert srv.requests[0].path == "/v1/responses"
    assert [type(e) for e in events].count(Completed) == 1
    assert isinstance(events[-1], Completed)
    msg = events[-1].message
    assert msg.text == expected["text"]
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == expected["text"]
    assert (msg.thinking or None) == expected["thinking"]
    calls = expected["tool_calls"]
    assert [(t.id, t.name, t.input) for t in msg.tool_uses] == [
        (c["id"], c["name"], c["arguments"]) for c in calls
    ]
    assert [t.provider_data for t in msg.tool_uses] == [{"item_id": c["item_id"]} for c in calls]
    began = [e for e in events if isinstance(e, ToolCallBegan)]
    assert [(e.index, e.id, e.name) for e in began] == [
        (i, c["id"], c["name"]) for i, c in enumerate(calls)
    ]
    for index, call in enumerate(calls):
        streamed = "".join(
            e.fragment for e in events if isinstance(e, ToolCallArgs) and e.index == index
        )
        assert json.loads(streamed) == call["arguments"]
    assert msg.meta["raw_stop_reason"] == expected["stop_reason"]
    assert msg.stop_reason == ("tool_use" if calls else "end_turn")
    usage = expected["usage"]
    cached = usage["input_tokens_details"]["cached_tokens"]
    assert msg.usage is not None
    assert msg.usage.input_tokens == usage["input_tokens"] - cached
    assert msg.usage.cache_read_tokens == cached
    assert msg.usage.output_tokens == usage["output_tokens"]
    assert msg.usage.reasoning_tokens == usage["output_tokens_details"]["reasoning_tokens"]
    assert msg.id == expected["response_id"]
    assert msg.model == expected["model"]


def test_recorded_streams_are_all_found() -> None:
    need_shared("recorded-streams")
    assert {"openai_responses_text", "openai_responses_two_function_calls"} <= set(RECORDED_NAMES)


# -- request mapping ------------------------------------------------------------------------


def history() -> tuple[Msg, ...]:
    return (
        Msg(
            "user",
            (TextBlock("what is in this picture?"), ImageBlock("image/png", "iVBORw0KGgo=")),
        ),
        Msg(
            "assistant",
            (
                ThinkingBlock(
                    "Look first.",
                    provider="openai",
                    provider_data={
                        "id": "rs_1",
                        "encrypted_content": "gAAA-enc",
                        "summary": [{"type": "summary_text", "text": "Look first."}],
                    },
                ),
                ThinkingBlock(
                    "other provider",
                    provider="openai-chat",
                    provider_data={"id": "rs_x", "encrypted_content": "other"},
                ),
                ThinkingBlock("not encrypted", provider="openai", provider_data={"id": "rs_2"}),
                ThinkingBlock("anthropic", signature="sig", provider="anthropic"),
                TextBlock("Let me look."),
                ToolUseBlock(
                    "call_1", "read_file", {"path": "a.png"}, provider_data={"item_id": "fc_1"}
                ),
                ToolUseBlock("call_2", "read_file", {}, raw_arguments="{oops", input_error="bad"),
            ),
        ),
        Msg(
            "user",
            (
                ToolResultBlock("call_1", (TextBlock("a.png:"), ImageBlock("image/png", "AAAA"))),
                ToolResultBlock("call_2", "arguments were not JSON", is_error=True),
            ),
        ),
        Msg("assistant", (TextBlock("A cat."),)),
        Msg.user("thanks"),
    )


async def test_request_mapping_full_history() -> None:
    request = Request(
        system="You are Friday.",
        messages=history(),
        tools=(READ_TOOL,),
        max_tokens=2048,
        thinking={"budget_tokens": 4000},
        cache_key="session-9",
    )
    with FakeLLM([{"text": "ok"}]) as srv:
        await collect(responses_model(srv), request)
    body = srv.requests[0].body
    assert body is not None
    assert body["model"] == "gpt-5"
    assert body["instructions"] == "You are Friday."
    assert body["stream"] is True
    assert body["store"] is False
    assert body["max_output_tokens"] == 2048
    assert body["reasoning"] == {"effort": "medium", "summary": "auto"}
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["prompt_cache_key"] == "session-9"
    assert "temperature" not in body
    assert body["tools"] == [
        {
            "type": "function",
            "name": "read_file",
            "description": "Read a file from the workspace.",
            "parameters": READ_TOOL.parameters,
            "strict": False,
        }
    ]
    assert body["input"] == [
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "what is in this picture?"},
                {
                    "type": "input_image",
                    "image_url": "data:image/png;base64,iVBORw0KGgo=",
                    "detail": "auto",
                },
            ],
        },
        {
            "type": "reasoning",
            "id": "rs_1",
            "encrypted_content": "gAAA-enc",
            "summary": [{"type": "summary_text", "text": "Look first."}],
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Let me look."}],
        },
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "read_file",
            "arguments": '{"path": "a.png"}',
        },
        {"type": "function_call", "call_id": "call_2", "name": "read_file", "arguments": "{oops"},
        {
            "type": "function_call_output",
            "call_id": "call_1",
            "output": [
                {"type": "input_text", "text": "a.png:"},
                {
                    "type": "input_image",
                    "image_url": "data:image/png;base64,AAAA",
                    "detail": "auto",
                },
            ],
        },
        {
            "type": "function_call_output",
            "call_id": "call_2",
            "output": "Error: arguments were not JSON",
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "A cat."}],
        },
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "thanks"}]},
    ]


async def test_plain_request_has_no_reasoning_or_cache_fields() -> None:
    with FakeLLM([{"text": "ok"}]) as srv:
        model = responses_model(srv, "gpt-4o")
        await collect(model, Request(system="", messages=(Msg.user("hi"),)))
    body = srv.requests[0].body
    assert body is not None
    for key in ("instructions", "reasoning", "include", "prompt_cache_key", "tools"):
        assert key not in body
    assert body["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    ]


async def test_reasoning_model_always_asks_for_its_reasoning() -> None:
    """With `store: False` the encrypted reasoning is the only way it reaches the next
    turn, so a reasoning model asks for it with no thinking budget set too."""
    with FakeLLM([{"text": "ok"}, {"text": "ok"}]) as srv:
        await collect(responses_model(srv, "gpt-5"), hello())
        await collect(responses_model(srv, "gpt-4o"), hello(thinking={"budget_tokens": 4000}))
    reasoning_body, plain_body = (r.body for r in srv.requests)
    assert reasoning_body["reasoning"] == {"summary": "auto"}
    assert reasoning_body["include"] == ["reasoning.encrypted_content"]
    assert "reasoning" not in plain_body
    assert "include" not in plain_body


@pytest.mark.parametrize(
    ("model_id", "reasoning"),
    [
        ("gpt-5", True),
        ("gpt-5-mini-2025-08-07", True),
        ("gpt-5.1-codex", True),
        ("o1", True),
        ("o3-mini", True),
        ("o4-mini", True),
        ("codex-mini-latest", True),
        ("openai/o3", True),
        ("gpt-4o", False),
        ("gpt-4.1-mini", False),
        ("gpt-5-chat-latest", False),
        ("omni-moderation-latest", False),
    ],
)
def test_which_models_get_reasoning_parameters(model_id: str, reasoning: bool) -> None:
    params = responses_params(hello(thinking={"effort": "high"}), model_id, "openai")
    if reasoning:
        assert params["reasoning"] == {"summary": "auto", "effort": "high"}
        assert params["include"] == ["reasoning.encrypted_content"]
    else:
        assert "reasoning" not in params
        assert "include" not in params


async def test_summaries_refused_to_an_unverified_organization() -> None:
    """OpenAI answers 400 to reasoning summaries for an organization that is not
    verified: the request goes again without them, and so do the later ones, while the
    encrypted reasoning is still asked for."""
    refused = {
        "error": {
            "message": "Your organization must be verified to generate reasoning summaries.",
            "type": "invalid_request_error",
            "param": "reasoning.summary",
            "code": "unsupported_value",
        }
    }
    turns = [{"status": 400, "body": refused}, {"text": "first"}, {"text": "second"}]
    with FakeLLM(turns) as srv:
        model = responses_model(srv)
        first = await collect(model, hello(thinking={"budget_tokens": 1000}))
        second = await collect(model, hello())
    assert first[-1].message.text == "first"
    assert second[-1].message.text == "second"
    bodies = [r.body for r in srv.requests]
    assert bodies[0]["reasoning"] == {"summary": "auto", "effort": "medium"}
    assert bodies[1]["reasoning"] == {"effort": "medium"}
    assert "reasoning" not in bodies[2]
    assert all(b["include"] == ["reasoning.encrypted_content"] for b in bodies)


async def test_other_bad_requests_are_not_sent_again() -> None:
    body = {
        "error": {
            "message": "Unsupported value: 'high' is not supported with this model.",
            "type": "invalid_request_error",
            "param": "reasoning.effort",
            "code": "unsupported_value",
        }
    }
    with FakeLLM([{"status": 400, "body": body}, {"text": "never served"}]) as srv:
        error, _ = await fail(responses_model(srv), hello(thinking={"effort": "high"}))
    assert error.kind == "bad_request"
    assert "'high' is not supported" in error.message
    assert len(srv.requests) == 1


# -- scripted streams -----------------------------------------------------------------------


async def test_reasoning_round_trip() -> None:
    first = {
        "thinking": "The user wants a.py read first.",
        "text": "Reading it.",
        "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}, "id": "call_r1"}],
        "usage": {
            "input_tokens": 20,
            "cache_read_tokens": 80,
            "output_tokens": 30,
            "reasoning_tokens": 12,
        },
        "chunk_size": 5,
    }
    with FakeLLM([first, {"text": "It prints a."}]) as srv:
        model = responses_model(srv)
        request = hello(tools=(READ_TOOL,), thinking={"budget_tokens": 2000})
        events = await collect(model, request)
        reply = events[-1].message
        result = Msg("user", (ToolResultBlock("call_r1", "print('a')"),))
        follow_up = Request(
            system=request.system,
            messages=(*request.messages, reply, result),
            tools=request.tools,
            thinking=request.thinking,
        )
        second = await collect(model, follow_up)
    thinking, text, call = reply.content
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking == "The user wants a.py read first."
    assert thinking.provider == "openai"
    assert thinking.provider_data is not None
    assert thinking.provider_data["encrypted_content"] == "gAAAAfakellm"
    assert thinking.provider_data["id"].startswith("rs_")
    assert thinking.provider_data["summary"] == [
        {"type": "summary_text", "text": "The user wants a.py read first."}
    ]
    assert "".join(e.text for e in events if isinstance(e, ThinkingChunk)) == thinking.thinking
    assert text == TextBlock("Reading it.")
    assert isinstance(call, ToolUseBlock)
    assert (call.id, call.name, call.input) == ("call_r1", "read_file", {"path": "a.py"})
    assert call.provider_data is not None and call.provider_data["item_id"].startswith("fc_")
    assert reply.stop_reason == "tool_use"
    assert reply.meta == {"raw_stop_reason": "completed"}
    assert reply.usage is not None
    assert reply.usage.to_dict() == {
        "input_tokens": 20,
        "output_tokens": 30,
        "cache_read_tokens": 80,
        "cache_creation_tokens": 0,
        "reasoning_tokens": 12,
    }
    assert second[-1].message.text == "It prints a."
    assert second[-1].message.stop_reason == "end_turn"
    replayed = srv.requests[1].body["input"]
    assert replayed[1:] == [
        {
            "type": "reasoning",
            "id": thinking.provider_data["id"],
            "encrypted_content": "gAAAAfakellm",
            "summary": [{"type": "summary_text", "text": "The user wants a.py read first."}],
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Reading it."}],
        },
        {
            "type": "function_call",
            "call_id": "call_r1",
            "name": "read_file",
            "arguments": '{"path": "a.py"}',
        },
        {"type": "function_call_output", "call_id": "call_r1", "output": "print('a')"},
    ]


async def test_reasoning_carries_over_without_a_thinking_budget() -> None:
    """The default `openai:gpt-5` (no budget set) keeps its reasoning between the turns
    of a tool loop."""
    first = {
        "thinking": "Check a.py first.",
        "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}, "id": "call_d1"}],
    }
    with FakeLLM([first, {"text": "Done."}]) as srv:
        model = responses_model(srv)
        request = hello(tools=(READ_TOOL,))
        reply = (await collect(model, request))[-1].message
        result = Msg("user", (ToolResultBlock("call_d1", "a"),))
        follow_up = Request(
            system=request.system, messages=(*request.messages, reply, result), tools=request.tools
        )
        await collect(model, follow_up)
    thinking = reply.content[0]
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking == "Check a.py first."
    assert thinking.provider_data is not None
    replayed = srv.requests[1].body["input"][1]
    assert replayed == {
        "type": "reasoning",
        "id": thinking.provider_data["id"],
        "encrypted_content": "gAAAAfakellm",
        "summary": [{"type": "summary_text", "text": "Check a.py first."}],
    }


async def test_incomplete_response_completes() -> None:
    with FakeLLM([{"text": "The answer is cut", "incomplete": True}]) as srv:
        events = await collect(responses_model(srv), hello())
    msg = events[-1].message
    assert isinstance(events[-1], Completed)
    assert msg.text == "The answer is cut"
    assert msg.meta == {"raw_stop_reason": "incomplete", "incomplete_reason": "max_output_tokens"}
    assert msg.stop_reason == "max_tokens"


async def test_incomplete_for_content_filter_is_refusal() -> None:
    with FakeLLM([{"text": "I", "stop_reason": "content_filter"}]) as srv:
        events = await collect(responses_model(srv), hello())
    msg = events[-1].message
    assert msg.meta["raw_stop_reason"] == "incomplete"
    assert msg.meta["incomplete_reason"] == "content_filter"
    assert msg.stop_reason == "refusal"


async def test_failed_response_is_an_error() -> None:
    with FakeLLM([{"text": "partial", "stop_reason": "failed"}]) as srv:
        error, seen = await fail(responses_model(srv), hello())
    assert error.kind == "server"
    assert error.retryable
    assert "fakellm: scripted failure" in error.message
    assert error.model == "openai:gpt-5"
    assert not any(isinstance(e, Completed) for e in seen)


async def test_error_event_is_an_error(tmp_path: Path) -> None:
    body = write_events(
        tmp_path / "err.sse",
        [
            {"type": "response.created", "response": response("in_progress", [])},
            {
                "type": "error",
                "code": "rate_limit_exceeded",
                "message": "Slow down.",
                "param": None,
            },
        ],
    )
    with FakeLLM([{"raw_sse": body}]) as srv:
        error, _ = await fail(responses_model(srv), hello())
    assert error.kind == "rate_limit"
    assert "Slow down." in error.message


async def test_reasoning_without_summary_is_kept(tmp_path: Path) -> None:
    reasoning = {"id": "rs_9", "type": "reasoning", "summary": [], "encrypted_content": "enc9"}
    message = {
        "id": "msg_9",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "phase": "final_answer",
        "content": [{"type": "output_text", "text": "“Done.”", "annotations": []}],
    }
    usage = {
        "input_tokens": 9,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 4,
        "output_tokens_details": {"reasoning_tokens": 2},
        "total_tokens": 13,
    }
    body = write_events(
        tmp_path / "rs.sse",
        [
            {"type": "response.created", "response": response("in_progress", [])},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**reasoning, "encrypted_content": None},
            },
            {"type": "response.output_item.done", "output_index": 0, "item": reasoning},
            {
                "type": "response.output_item.added",
                "output_index": 1,
                "item": {**message, "content": [], "status": "in_progress"},
            },
            {"type": "response.output_item.done", "output_index": 1, "item": message},
            {
                "type": "response.completed",
                "response": response("completed", [reasoning, message], usage=usage),
            },
        ],
    )
    with FakeLLM([{"raw_sse": body}]) as srv:
        events = await collect(responses_model(srv), hello())
    msg = events[-1].message
    assert msg.content == (
        ThinkingBlock(
            "",
            provider="openai",
            provider_data={"id": "rs_9", "encrypted_content": "enc9", "summary": []},
        ),
        TextBlock("“Done.”"),
    )
    # The text came without deltas: it is still shown once.
    assert [e for e in events if isinstance(e, TextChunk)] == [TextChunk("“Done.”")]
    assert msg.id == "resp_t" and msg.model == "gpt-5-test"
    assert msg.usage is not None and msg.usage.reasoning_tokens == 2


async def test_stream_without_completed_is_cut(tmp_path: Path) -> None:
    body = write_events(
        tmp_path / "cut.sse",
        [
            {"type": "response.created", "response": response("in_progress", [])},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {
                    "id": "msg_1",
                    "type": "message",
                    "status": "in_progress",
                    "role": "assistant",
                    "content": [],
                },
            },
            {
                "type": "response.output_text.delta",
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": 0,
                "delta": "Hal",
                "logprobs": [],
            },
        ],
    )
    with FakeLLM([{"raw_sse": body}]) as srv:
        error, seen = await fail(responses_model(srv), hello())
    assert error.kind == "stream_cut"
    assert error.retryable
    assert seen == [TextChunk("Hal")]


@pytest.mark.parametrize("cut_after", [0, 3, 8])
async def test_cut_connection_is_retryable(cut_after: int) -> None:
    turn = {
        "thinking": "hmm",
        "text": "an answer cut short",
        "chunk_size": 3,
        "cut_after": cut_after,
    }
    with FakeLLM([turn]) as srv:
        error, seen = await fail(responses_model(srv), hello())
    assert error.kind == "stream_cut"
    assert error.retryable
    assert not any(isinstance(e, Completed) for e in seen)


async def test_html_page_with_200_is_a_bad_response_not_a_cut_stream() -> None:
    page = {"raw_body": "<html><body>Sign in</body></html>", "content_type": "text/html"}
    with FakeLLM([page, {"text": "never served"}]) as srv:
        error, seen = await fail(responses_model(srv), hello())
    assert seen == []
    assert (error.kind, error.retryable, error.status) == ("bad_response", False, 200)
    assert error.model == "openai:gpt-5"
    assert error.message == (
        f"openai at {srv.openai_base_url} answered with text/html, not an event stream: "
        "check base_url in [providers.openai]"
    )
    assert len(srv.requests) == 1


async def test_event_stream_without_any_event_is_cut(tmp_path: Path) -> None:
    body = write_events(tmp_path / "empty.sse", [])
    with FakeLLM([{"raw_sse": body}]) as srv:
        error, seen = await fail(responses_model(srv), hello())
    assert (error.kind, error.retryable) == ("stream_cut", True)
    assert seen == []


async def test_stall_mid_stream_is_a_timeout() -> None:
    with FakeLLM([{"text": "slow answer", "chunk_size": 2, "chunk_delay": 30}]) as srv:
        error, seen = await fail(responses_model(srv, timeout=0.5), hello())
    assert error.kind == "timeout"
    assert error.retryable
    assert not any(isinstance(e, Completed) for e in seen)


# -- errors ---------------------------------------------------------------------------------


async def test_429_with_retry_after() -> None:
    with FakeLLM([{"status": 429, "headers": {"retry-after-ms": "1500"}}]) as srv:
        error, _ = await fail(responses_model(srv), hello())
    assert error.kind == "rate_limit"
    assert error.retryable
    assert error.retry_after == 1.5
    assert error.status == 429
    assert len(srv.requests) == 1


async def test_500_is_server_error() -> None:
    with FakeLLM([{"status": 503}]) as srv:
        error, _ = await fail(responses_model(srv), hello())
    assert error.kind == "server"
    assert error.retryable
    assert error.status == 503
    assert "OpenAI server error 503" in error.message


async def test_404_names_the_model() -> None:
    with FakeLLM([{"status": 404}]) as srv:
        error, _ = await fail(responses_model(srv, "gpt-9"), hello())
    assert error.kind == "not_found"
    assert not error.retryable
    assert error.message.startswith("openai has no model 'gpt-9' (model_not_found: ")
    assert error.message.endswith("Check --model.")


async def test_bad_request_is_not_retryable() -> None:
    body = {
        "error": {
            "message": "Unsupported parameter: 'temperature'.",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": None,
        }
    }
    with FakeLLM([{"status": 400, "body": body}]) as srv:
        error, _ = await fail(responses_model(srv), hello(temperature=0.2))
    assert srv.requests[0].body["temperature"] == 0.2
    assert error.kind == "bad_request"
    assert not error.retryable
    assert "Unsupported parameter: 'temperature'." in error.message
