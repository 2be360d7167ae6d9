"""The Chat Completions adapter driven through the real `openai` SDK over HTTP on
127.0.0.1 (tools.fakellm): recorded streams from OpenAI, DeepSeek and OpenRouter, the
request it sends, errors, cut streams."""

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
from friday.models.openai_chat import OpenAIChatModel, chat_params
from tests.conftest import RECORDED, need_shared
from tests.model_helpers import (
    READ_TOOL,
    closed_port,
    collect,
    fail,
    hello,
    modules_loaded_by,
    recorded,
)
from tools.fakellm import FakeLLM

RECORDED_NAMES = sorted(
    p.stem
    for pattern in ("openai_chat_*.sse", "deepseek_*.sse", "openrouter_*.sse")
    for p in RECORDED.glob(pattern)
) or ["(recorded-streams missing)"]


def chat_model(srv: FakeLLM, model_id: str = "gpt-4o", **kw: Any) -> OpenAIChatModel:
    return OpenAIChatModel(model_id, api_key="test-key", base_url=srv.openai_base_url, **kw)


def write_sse(path: Path, chunks: list[Any], done: bool = True) -> str:
    """An SSE body: each object as a `data:` line; a string starting with ":" is an SSE
    comment, any other string is written as the data as it is."""
    lines = [
        f"{c}\n\n"
        if isinstance(c, str) and c.startswith(":")
        else f"data: {c if isinstance(c, str) else json.dumps(c)}\n\n"
        for c in chunks
    ]
    if done:
        lines.append("data: [DONE]\n\n")
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "chatcmpl-t",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m-1",
        "choices": choices,
        **extra,
    }


# -- recorded streams -----------------------------------------------------------------------


@pytest.mark.parametrize("name", RECORDED_NAMES)
async def test_recorded_stream(name: str) -> None:
    expected, turn = recorded(name)
    with FakeLLM([turn]) as srv:
        model = chat_model(srv, provider="openai-chat" if name.startswith("openai") else "compat")
        if "error" in expected:
            error, seen = await fail(model, hello())
            assert expected["error"]["message"] in error.message
            assert error.kind == "bad_request" and error.status == 400
            assert error.model == "compat:gpt-4o"
            assert not any(isinstance(e, Completed) for e in seen)
            assert (
                "".join(e.text for e in seen if isinstance(e, ThinkingChunk))
                == (expected["thinking"])
            )
            return
        events = await collect(model, hello())
    assert srv.requests[0].path == "/v1/chat/completions"
    assert [type(e) for e in events].count(Completed) == 1
    assert isinstance(events[-1], Completed)
    msg = events[-1].message
    assert msg.role == "assistant"
    assert msg.text == expected["text"]
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == expected["text"]
    assert (msg.thinking or None) == expected["thinking"]
    assert "".join(e.text for e in events if isinstance(e, ThinkingChunk)) == msg.thinking
    assert [(t.id, t.name, t.input) for t in msg.tool_uses] == [
        (c["id"], c["name"], c["arguments"]) for c in expected["tool_calls"]
    ]
    began = [e for e in events if isinstance(e, ToolCallBegan)]
    assert [(e.index, e.id, e.name) for e in began] == [
        (c["index"], c["id"], c["name"]) for c in expected["tool_calls"]
    ]
    for call in expected["tool_calls"]:
        streamed = "".join(
            e.fragment for e in events if isinstance(e, ToolCallArgs) and e.index == call["index"]
        )
        assert json.loads(streamed) == call["arguments"]
    assert msg.meta["raw_stop_reason"] == expected["stop_reason"]
    assert msg.stop_reason == ("tool_use" if expected["tool_calls"] else "end_turn")
    usage = expected["usage"]
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    assert msg.usage is not None
    assert msg.usage.input_tokens == usage["prompt_tokens"] - cached
    assert msg.usage.cache_read_tokens == cached
    assert msg.usage.output_tokens == usage["completion_tokens"]
    assert msg.usage.reasoning_tokens == usage["completion_tokens_details"]["reasoning_tokens"]
    assert msg.id == expected["id"]
    assert msg.model == expected["model"]


def test_recorded_streams_are_all_found() -> None:
    need_shared("recorded-streams")
    assert {"openai_chat_text", "deepseek_reasoning_content"} <= set(RECORDED_NAMES)
    assert "openrouter_comments_and_error_chunk" in RECORDED_NAMES


async def test_recorded_404_model_not_found() -> None:
    folder = need_shared("recorded-streams")
    recorded = json.loads((folder / "openai_chat_404_model_not_found.error.json").read_text())
    headers = {
        k: v
        for k, v in recorded["headers_recorded"].items()
        if k.lower() not in ("content-encoding", "content-length", "content-type")
    }
    turn = {
        "status": recorded["status"],
        "raw_body": recorded["body_raw"],
        "content_type": recorded["headers_recorded"]["content-type"],
        "headers": headers,
    }
    model_id = recorded["request_summary"]["model"]
    with FakeLLM([turn, {"text": "never served"}]) as srv:
        error, seen = await fail(chat_model(srv, model_id), hello())
    assert seen == []
    assert error.kind == "not_found"
    assert error.status == 404
    assert not error.retryable
    assert error.model == f"openai-chat:{model_id}"
    assert f"'{model_id}'" in error.message
    assert "model_not_found" in error.message
    assert "Check --model" in error.message
    assert "\n" not in error.message
    assert len(srv.requests) == 1  # the SDK's own retries are off


# -- request mapping ------------------------------------------------------------------------


def history() -> tuple[Msg, ...]:
    """A user turn, an assistant turn with two tool calls (one with arguments that were
    not JSON), their results (one an error, one with an image), and a user follow-up."""
    return (
        Msg.user("read a.py"),
        Msg(
            "assistant",
            (
                ThinkingBlock("I should read it.", provider="openai-chat"),
                TextBlock("Reading."),
                ToolUseBlock("call_1", "read_file", {"path": "a.py"}),
                ToolUseBlock(
                    "call_2", "read_file", {}, raw_arguments='{"path": "b.py"', input_error="bad"
                ),
            ),
        ),
        Msg(
            "user",
            (
                ToolResultBlock("call_1", "print('a')"),
                ToolResultBlock(
                    "call_2",
                    (TextBlock("not found"), ImageBlock("image/png", "iVBORw0KGgo=")),
                    is_error=True,
                ),
                TextBlock("and then?"),
            ),
        ),
    )


async def test_request_mapping_full_history() -> None:
    request = Request(
        system="You are Friday.",
        messages=history(),
        tools=(READ_TOOL,),
        max_tokens=1234,
        temperature=0.5,
        cache_key="session-1",
    )
    with FakeLLM([{"text": "ok"}]) as srv:
        await collect(chat_model(srv), request)
    body = srv.requests[0].body
    assert body is not None
    assert body["model"] == "gpt-4o"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.5
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "read_file",
                "description": "Read a file from the workspace.",
                "parameters": READ_TOOL.parameters,
            },
        }
    ]
    assert body["messages"] == [
        {"role": "system", "content": "You are Friday."},
        {"role": "user", "content": "read a.py"},
        {
            "role": "assistant",
            "content": "Reading.",
            "reasoning_content": "I should read it.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "b.py"'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "print('a')"},
        {"role": "tool", "tool_call_id": "call_2", "content": "Error: not found"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Images returned by tool call call_2:"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "text", "text": "and then?"},
            ],
        },
    ]


async def test_openai_chat_at_another_server_gets_max_tokens_and_no_cache_key() -> None:
    """`openai-chat:` with OPENAI_BASE_URL at vLLM or Ollama: the fields only OpenAI's
    own API knows are decided by the URL, not by the provider's name."""
    request = hello(max_tokens=77, cache_key="session-1")
    with FakeLLM([{"text": "ok"}]) as srv:
        model = chat_model(srv, "qwen2.5-coder")
        await collect(model, request)
    body = srv.requests[0].body
    assert body is not None
    assert body["max_tokens"] == 77
    assert "max_completion_tokens" not in body
    assert "prompt_cache_key" not in body
    assert model.provider == "openai-chat"


@pytest.mark.parametrize(
    ("base_url", "openai_fields"),
    [
        ("https://api.openai.com/v1/", True),
        ("https://API.OpenAI.com:443/v1", True),
        ("http://localhost:11434/v1/", False),
        ("https://api.openai.com.example.net/v1/", False),
        ("https://openrouter.ai/api/v1/", False),
    ],
)
def test_openai_fields_only_for_the_openai_api(base_url: str, openai_fields: bool) -> None:
    params = chat_params(hello(max_tokens=55, cache_key="k-1"), "gpt-5", "deepseek", base_url)
    if openai_fields:
        assert params["max_completion_tokens"] == 55
        assert "max_tokens" not in params
        assert params["extra_body"] == {"prompt_cache_key": "k-1"}
    else:
        assert params["max_tokens"] == 55
        assert "max_completion_tokens" not in params
        assert "extra_body" not in params


async def test_compatible_server_gets_max_tokens_and_no_cache_key() -> None:
    request = hello(max_tokens=99, cache_key="session-1")
    with FakeLLM([{"text": "ok"}]) as srv:
        model = chat_model(srv, "deepseek-chat", provider="deepseek")
        await collect(model, request)
    body = srv.requests[0].body
    assert body is not None
    assert body["max_tokens"] == 99
    assert "max_completion_tokens" not in body
    assert "prompt_cache_key" not in body
    assert "tools" not in body
    assert model.name == "deepseek:deepseek-chat"


async def test_no_system_message_when_system_is_empty() -> None:
    with FakeLLM([{"text": "ok"}]) as srv:
        await collect(chat_model(srv), Request(system="", messages=(Msg.user("hi"),)))
    assert srv.requests[0].body["messages"] == [{"role": "user", "content": "hi"}]


async def test_headers_and_key_reach_the_server() -> None:
    with FakeLLM([{"text": "ok", "require_api_key": "test-key"}]) as srv:
        model = chat_model(srv, default_headers={"X-Title": "friday"})
        events = await collect(model, hello())
    assert events[-1].message.text == "ok"
    assert srv.requests[0].headers["authorization"] == "Bearer test-key"
    assert srv.requests[0].headers["x-title"] == "friday"


# -- scripted streams -----------------------------------------------------------------------


async def test_scripted_reasoning_text_and_tool_calls() -> None:
    turn = {
        "thinking": "Let me think about the file.",
        "reasoning_field": "reasoning",
        "text": "I will read both files now.",
        "tool_calls": [
            {"name": "read_file", "arguments": {"path": "a.py"}, "id": "call_a"},
            {"name": "read_file", "arguments": {"path": "b/c/d.py"}, "id": "call_b"},
        ],
        "usage": {
            "input_tokens": 10,
            "cache_read_tokens": 90,
            "output_tokens": 7,
            "reasoning_tokens": 3,
        },
        "chunk_size": 4,
    }
    with FakeLLM([turn]) as srv:
        events = await collect(chat_model(srv, provider="openrouter"), hello(tools=(READ_TOOL,)))
    msg = events[-1].message
    assert [type(b) for b in msg.content] == [ThinkingBlock, TextBlock, ToolUseBlock, ToolUseBlock]
    thinking = msg.content[0]
    assert thinking.thinking == "Let me think about the file."
    assert thinking.provider == "openrouter"
    assert thinking.provider_data == {"reasoning_field": "reasoning"}
    assert msg.text == "I will read both files now."
    assert [(t.id, t.input) for t in msg.tool_uses] == [
        ("call_a", {"path": "a.py"}),
        ("call_b", {"path": "b/c/d.py"}),
    ]
    assert [e for e in events if isinstance(e, ToolCallBegan)] == [
        ToolCallBegan(0, "call_a", "read_file"),
        ToolCallBegan(1, "call_b", "read_file"),
    ]
    assert len([e for e in events if isinstance(e, ToolCallArgs) and e.index == 1]) >= 3
    assert msg.stop_reason == "tool_use"
    assert msg.meta["raw_stop_reason"] == "tool_calls"
    assert msg.usage is not None
    assert msg.usage.to_dict() == {
        "input_tokens": 10,
        "output_tokens": 7,
        "cache_read_tokens": 90,
        "cache_creation_tokens": 0,
        "reasoning_tokens": 3,
    }


@pytest.mark.parametrize(
    ("provider", "reasoning_field"),
    [("deepseek", "reasoning_content"), ("moonshot", "reasoning_content"), ("vllm", "reasoning")],
)
async def test_reasoning_goes_back_in_a_tool_loop(provider: str, reasoning_field: str) -> None:
    """DeepSeek and Moonshot in thinking mode answer 400 when the next request of a tool
    loop lacks the reasoning: it goes back under the field it came in."""
    first = {
        "thinking": "Read a.py before answering.",
        "reasoning_field": reasoning_field,
        "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}, "id": "call_t1"}],
    }
    with FakeLLM([first, {"text": "It prints a."}]) as srv:
        model = chat_model(srv, "deepseek-reasoner", provider=provider)
        request = hello(tools=(READ_TOOL,))
        reply = (await collect(model, request))[-1].message
        result = Msg("user", (ToolResultBlock("call_t1", "print('a')"),))
        follow_up = Request(
            system=request.system,
            messages=(*request.messages, reply, result),
            tools=request.tools,
        )
        second = await collect(model, follow_up)
    assert reply.content[0] == ThinkingBlock(
        "Read a.py before answering.",
        provider=provider,
        provider_data={"reasoning_field": reasoning_field},
    )
    assert second[-1].message.text == "It prints a."
    assert srv.requests[1].body["messages"][2:] == [
        {
            "role": "assistant",
            "content": None,
            reasoning_field: "Read a.py before answering.",
            "tool_calls": [
                {
                    "id": "call_t1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_t1", "content": "print('a')"},
    ]


def test_only_this_providers_reasoning_goes_back() -> None:
    """Reasoning from another provider is not sent; a stored block that names no known
    field goes back as `reasoning_content`."""
    assistant = Msg(
        "assistant",
        (
            ThinkingBlock("signed elsewhere", signature="sig", provider="anthropic"),
            ThinkingBlock("mine", provider="deepseek", provider_data={"reasoning_field": "bogus"}),
            ThinkingBlock("", provider="deepseek"),
            TextBlock("Done."),
        ),
    )
    messages = (Msg.user("hi"), assistant)
    params = chat_params(Request(system="", messages=messages), "m", "deepseek", "http://x/v1")
    assert params["messages"][1] == {
        "role": "assistant",
        "content": "Done.",
        "reasoning_content": "mine",
    }
    other = chat_params(Request(system="", messages=messages), "m", "groq", "http://x/v1")
    assert other["messages"][1] == {"role": "assistant", "content": "Done."}


async def test_invalid_tool_arguments_are_kept_raw() -> None:
    turn = {"tool_calls": [{"name": "read_file", "arguments": '{"path": "a.py', "id": "call_x"}]}
    with FakeLLM([turn]) as srv:
        events = await collect(chat_model(srv), hello(tools=(READ_TOOL,)))
    (call,) = events[-1].message.tool_uses
    assert call.input == {}
    assert call.raw_arguments == '{"path": "a.py'
    assert call.input_error is not None and "not valid JSON" in call.input_error


async def test_length_stop_is_max_tokens() -> None:
    with FakeLLM([{"text": "trunc", "stop_reason": "max_tokens"}]) as srv:
        events = await collect(chat_model(srv), hello())
    msg = events[-1].message
    assert msg.stop_reason == "max_tokens"
    assert msg.meta["raw_stop_reason"] == "length"


async def test_reasoning_details_are_not_counted_twice(tmp_path: Path) -> None:
    body = write_sse(
        tmp_path / "or.sse",
        [
            ": OPENROUTER PROCESSING",
            chunk(
                {
                    "role": "assistant",
                    "content": "",
                    "reasoning": "Think",
                    "reasoning_details": [{"type": "reasoning.text", "text": "Think"}],
                }
            ),
            chunk(
                {
                    "content": "",
                    "reasoning": "ing.",
                    "reasoning_details": [{"type": "reasoning.text", "text": "ing."}],
                }
            ),
            chunk({"content": "Done."}),
            chunk({}, "stop"),
            chunk({}, "stop"),
            chunk({"content": ""}, usage={"prompt_tokens": 5, "completion_tokens": 3}),
        ],
    )
    with FakeLLM([{"raw_sse": body}]) as srv:
        events = await collect(chat_model(srv, provider="openrouter"), hello())
    msg = events[-1].message
    assert msg.thinking == "Thinking."
    assert [e.text for e in events if isinstance(e, ThinkingChunk)] == ["Think", "ing."]
    assert msg.text == "Done."
    assert msg.meta["raw_stop_reason"] == "stop"
    assert msg.usage is not None and msg.usage.input_tokens == 5


async def test_deepseek_cache_hit_tokens_and_usage_on_finish_chunk(tmp_path: Path) -> None:
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 9,
        "total_tokens": 109,
        "prompt_cache_hit_tokens": 64,
        "prompt_cache_miss_tokens": 36,
        "completion_tokens_details": {"reasoning_tokens": 4},
    }
    body = write_sse(
        tmp_path / "ds.sse",
        [
            chunk({"role": "assistant", "content": None, "reasoning_content": "hm"}),
            chunk({"content": "Hi", "reasoning_content": None}),
            chunk({"content": "", "reasoning_content": None}, "stop", usage=usage),
        ],
    )
    with FakeLLM([{"raw_sse": body}]) as srv:
        events = await collect(chat_model(srv, provider="deepseek"), hello())
    msg = events[-1].message
    assert msg.thinking == "hm" and msg.text == "Hi"
    assert msg.usage is not None
    assert (msg.usage.input_tokens, msg.usage.cache_read_tokens) == (36, 64)
    assert (msg.usage.output_tokens, msg.usage.reasoning_tokens) == (9, 4)


async def test_tool_call_without_index_and_whole_in_one_chunk(tmp_path: Path) -> None:
    call = {
        "id": "fc_1",
        "type": "function",
        "function": {"name": "read_file", "arguments": '{"path":"x"}'},
    }
    body = write_sse(
        tmp_path / "groq.sse",
        [
            chunk({"role": "assistant", "tool_calls": [call]}),
            chunk({"tool_calls": [{**call, "id": "fc_2"}]}),
            chunk({}, "tool_calls"),
        ],
    )
    with FakeLLM([{"raw_sse": body}]) as srv:
        events = await collect(chat_model(srv, provider="groq"), hello())
    msg = events[-1].message
    assert [(t.id, t.input) for t in msg.tool_uses] == [
        ("fc_1", {"path": "x"}),
        ("fc_2", {"path": "x"}),
    ]
    assert msg.usage is None


async def test_breaking_off_early_closes_cleanly() -> None:
    with FakeLLM([{"text": "a long answer that streams in many pieces", "chunk_size": 2}]) as srv:
        model = chat_model(srv)
        stream = model.stream(hello())
        first = await anext(stream)
        await stream.aclose()
        await model.aclose()
    assert first == TextChunk("a ")


# -- errors -----------------------------------------------------------------------------------


async def test_429_with_retry_after() -> None:
    with FakeLLM([{"status": 429, "headers": {"retry-after": "7"}}]) as srv:
        error, _ = await fail(chat_model(srv), hello())
    assert error.kind == "rate_limit"
    assert error.retryable
    assert error.retry_after == 7.0
    assert error.status == 429
    assert "rate_limit_exceeded" in error.message
    assert len(srv.requests) == 1


async def test_429_insufficient_quota_is_not_retried() -> None:
    body = {
        "error": {
            "message": "You exceeded your current quota.",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        }
    }
    with FakeLLM([{"status": 429, "body": body}]) as srv:
        error, _ = await fail(chat_model(srv), hello())
    assert error.kind == "permission"
    assert not error.retryable
    assert "quota" in error.message


async def test_500_is_server_error() -> None:
    with FakeLLM([{"status": 500}]) as srv:
        error, _ = await fail(chat_model(srv), hello())
    assert error.kind == "server"
    assert error.retryable
    assert error.status == 500
    assert error.retry_after is None


async def test_401_names_the_key_variable() -> None:
    with FakeLLM([{"status": 401}]) as srv:
        error, _ = await fail(chat_model(srv), hello())
    assert error.kind == "auth"
    assert not error.retryable
    assert error.message == (
        "OpenAI rejected the API key (invalid_api_key: Incorrect API key provided.). "
        "Check OPENAI_API_KEY."
    )
    with FakeLLM([{"status": 401}]) as srv:
        error, _ = await fail(chat_model(srv, provider="deepseek"), hello())
    assert error.message.startswith("deepseek rejected the API key")
    assert error.message.endswith("Check DEEPSEEK_API_KEY.")


@pytest.mark.parametrize("cut_after", [0, 2, 6])
async def test_cut_stream_is_retryable(cut_after: int) -> None:
    turn = {"text": "this answer is cut off somewhere", "chunk_size": 4, "cut_after": cut_after}
    with FakeLLM([turn]) as srv:
        error, seen = await fail(chat_model(srv), hello())
    assert error.kind == "stream_cut"
    assert error.retryable
    assert error.model == "openai-chat:gpt-4o"
    assert not any(isinstance(e, Completed) for e in seen)


async def test_stream_without_finish_reason_is_cut(tmp_path: Path) -> None:
    body = write_sse(tmp_path / "nofinish.sse", [chunk({"content": "half"})])
    with FakeLLM([{"raw_sse": body}]) as srv:
        error, seen = await fail(chat_model(srv), hello())
    assert error.kind == "stream_cut"
    assert "finish_reason" in error.message
    assert seen == [TextChunk("half")]


async def test_error_chunk_with_rate_limit_code(tmp_path: Path) -> None:
    body = write_sse(
        tmp_path / "err.sse",
        [chunk({"content": "x"}), {"error": {"code": 429, "message": "Upstream busy"}}],
    )
    with FakeLLM([{"raw_sse": body}]) as srv:
        error, _ = await fail(chat_model(srv, provider="openrouter"), hello())
    assert error.kind == "rate_limit"
    assert "Upstream busy" in error.message
    assert error.message.startswith("openrouter ")


async def test_html_page_with_200_is_a_bad_response_not_a_cut_stream() -> None:
    """A login page of a proxy, or a base URL pointing at a web server: retrying it only
    fetches the same page again."""
    page = {"raw_body": "<html><body>Sign in</body></html>", "content_type": "text/html"}
    with FakeLLM([page, {"text": "never served"}]) as srv:
        error, seen = await fail(chat_model(srv, provider="vllm"), hello())
    assert seen == []
    assert error.kind == "bad_response"
    assert not error.retryable
    assert error.status == 200
    assert error.model == "vllm:gpt-4o"
    assert error.message == (
        f"vllm at {srv.openai_base_url} answered with text/html, not an event stream: "
        "check base_url in [providers.vllm]"
    )
    assert len(srv.requests) == 1


async def test_bad_response_names_the_base_url_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"raw_body": {"id": "chatcmpl-1", "choices": []}, "content_type": "application/json"}
    with FakeLLM([body]) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.openai_base_url)
        error, _ = await fail(OpenAIChatModel("gpt-4o", api_key="test-key"), hello())
    assert error.kind == "bad_response"
    assert error.message == (
        f"openai-chat at {srv.openai_base_url} answered with application/json, "
        "not an event stream: check OPENAI_BASE_URL"
    )


async def test_event_stream_without_any_event_is_cut(tmp_path: Path) -> None:
    body = write_sse(tmp_path / "empty.sse", [], done=False)
    with FakeLLM([{"raw_sse": body}]) as srv:
        error, seen = await fail(chat_model(srv), hello())
    assert (error.kind, error.retryable) == ("stream_cut", True)
    assert seen == []


async def test_connection_refused() -> None:
    port = closed_port()
    model = OpenAIChatModel("gpt-4o", api_key="test-key", base_url=f"http://127.0.0.1:{port}/v1")
    error, _ = await fail(model, hello())
    assert error.kind == "connection"
    assert error.retryable
    assert f"127.0.0.1:{port}" in error.message


async def test_missing_api_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    model = OpenAIChatModel("gpt-4o", base_url="http://127.0.0.1:9/v1")
    error, _ = await fail(model, hello())
    assert error.kind == "config"
    assert not error.retryable
    assert "OPENAI_API_KEY" in error.message


async def test_api_key_and_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM([{"text": "from env", "require_api_key": "env-key"}]) as srv:
        monkeypatch.setenv("OPENAI_API_KEY", "env-key")
        monkeypatch.setenv("OPENAI_BASE_URL", srv.openai_base_url)
        events = await collect(OpenAIChatModel("gpt-4o"), hello())
    assert events[-1].message.text == "from env"


async def test_timeout_before_the_response() -> None:
    with FakeLLM([{"text": "late", "delay": 30}]) as srv:
        error, _ = await fail(chat_model(srv, timeout=0.3), hello())
    assert error.kind == "timeout"
    assert error.retryable
    assert "0.3s" in error.message


async def test_refusal_is_shown_as_text(tmp_path: Path) -> None:
    body = write_sse(
        tmp_path / "refusal.sse",
        [
            chunk({"role": "assistant", "content": None, "refusal": "I can't help."}),
            chunk({}, "stop"),
        ],
    )
    with FakeLLM([{"raw_sse": body}]) as srv:
        events = await collect(chat_model(srv), hello())
    assert events[-1].message.text == "I can't help."
    assert events[-1].message.stop_reason == "end_turn"


# -- imports ----------------------------------------------------------------------------------


def test_importing_and_constructing_does_not_import_the_sdk() -> None:
    code = (
        "import sys\n"
        "from friday.models.openai_chat import OpenAIChatModel\n"
        "from friday.models.openai_responses import OpenAIResponsesModel\n"
        "import friday.models.openai_common\n"
        "m = OpenAIChatModel('gpt-4o'); r = OpenAIResponsesModel('gpt-5', provider='openai')\n"
        "assert m.name == 'openai-chat:gpt-4o' and r.name == 'openai:gpt-5', (m.name, r.name)\n"
        "print(sorted(n for n in ('openai', 'httpx2', 'anthropic') if n in sys.modules))\n"
    )
    assert modules_loaded_by(code) == "[]"
