"""The Anthropic Messages adapter driven through the real `anthropic` SDK over HTTP on
127.0.0.1 (tools.fakellm): recorded streams and error bodies from the real API, the
request it sends, scripted faults (429, 529, 500, cut streams, in-stream errors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from friday.messages import ImageBlock, Msg, TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock
from friday.models.anthropic import AnthropicModel
from friday.models.base import (
    Completed,
    Request,
    TextChunk,
    ThinkingChunk,
    ToolCallArgs,
    ToolCallBegan,
    ToolSpec,
)
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

RECORDED_STREAMS = sorted(p.stem for p in RECORDED.glob("anthropic_*.sse")) or [
    "(recorded-streams missing)"
]
RECORDED_ERRORS = sorted(
    p.name.removesuffix(".error.json") for p in RECORDED.glob("anthropic_*.error.json")
) or ["(recorded-streams missing)"]
EPHEMERAL = {"type": "ephemeral"}
SHELL_TOOL = ToolSpec(
    "shell",
    "Run a shell command.",
    {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
)


def claude(srv: FakeLLM, model_id: str = "claude-test-model", **kw: Any) -> AnthropicModel:
    return AnthropicModel(model_id, api_key="test-key", base_url=srv.base_url, **kw)


def write_sse(path: Path, events: list[dict[str, Any]]) -> str:
    """An SSE body with each event named by its `type`, as Anthropic sends them."""
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    path.write_text(body, encoding="utf-8")
    return str(path)


def message_start(**usage: int) -> dict[str, Any]:
    message = {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": "claude-test-1",
        "content": [],
        "stop_reason": None,
        "usage": usage,
    }
    return {"type": "message_start", "message": message}


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index: int, **fields: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": fields}


def block_stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def message_end(stop_reason: str, **usage: Any) -> list[dict[str, Any]]:
    end = {"type": "message_delta", "delta": {"stop_reason": stop_reason}, "usage": usage}
    return [end, {"type": "message_stop"}]


def text_events(text: str) -> list[dict[str, Any]]:
    return [
        block_start(0, {"type": "text", "text": ""}),
        delta(0, type="text_delta", text=text),
        block_stop(0),
    ]


# -- recorded streams -----------------------------------------------------------------------


def test_recorded_files_are_all_found() -> None:
    folder = need_shared("recorded-streams")
    assert len(RECORDED_STREAMS) >= 4
    assert len(RECORDED_ERRORS) >= 2
    for name in RECORDED_STREAMS:
        assert (folder / f"{name}.json").is_file()


@pytest.mark.parametrize("name", RECORDED_STREAMS)
async def test_recorded_stream(name: str) -> None:
    expected, turn = recorded(name)
    with FakeLLM([turn]) as srv:
        events = await collect(claude(srv), hello())
    assert srv.requests[0].path == "/v1/messages"
    assert [type(e) for e in events].count(Completed) == 1
    assert isinstance(events[-1], Completed)
    msg = events[-1].message
    assert (msg.role, msg.id, msg.model) == ("assistant", expected["message_id"], expected["model"])
    assert msg.stop_reason == expected["stop_reason"]

    assert msg.text == expected["text"]
    assert [b.text for b in msg.content if isinstance(b, TextBlock)] == expected["text_blocks"]
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == expected["text"]

    thinking = [b for b in msg.content if isinstance(b, ThinkingBlock)]
    assert all(b.provider == "anthropic" for b in thinking)
    plain = [b for b in thinking if b.redacted_data is None]
    assert ("".join(b.thinking for b in plain) or None) == expected["thinking"]
    assert [b.signature for b in plain] == expected["thinking_signatures"]
    assert "".join(e.text for e in events if isinstance(e, ThinkingChunk)) == (
        expected["thinking"] or ""
    )
    redacted = [b.redacted_data for b in thinking if b.redacted_data is not None]
    assert redacted == expected.get("redacted_thinking", [])
    assert all(b.thinking == "" for b in thinking if b.redacted_data is not None)

    assert [(t.id, t.name, t.input) for t in msg.tool_uses] == [
        (c["id"], c["name"], c["arguments"]) for c in expected["tool_calls"]
    ]
    assert all(t.input_error is None and t.raw_arguments is None for t in msg.tool_uses)
    began = [e for e in events if isinstance(e, ToolCallBegan)]
    assert [(e.index, e.id, e.name) for e in began] == [
        (i, c["id"], c["name"]) for i, c in enumerate(expected["tool_calls"])
    ]
    for i, call in enumerate(expected["tool_calls"]):
        streamed = "".join(
            e.fragment for e in events if isinstance(e, ToolCallArgs) and e.index == i
        )
        assert (json.loads(streamed) if streamed else {}) == call["arguments"]

    usage = expected["usage"]
    assert msg.usage is not None
    assert msg.usage.input_tokens == usage["input_tokens"]
    assert msg.usage.output_tokens == usage["output_tokens"]
    assert msg.usage.cache_read_tokens == usage["cache_read_input_tokens"]
    assert msg.usage.cache_creation_tokens == usage["cache_creation_input_tokens"]
    details = expected["usage_raw"]["message_delta"].get("output_tokens_details") or {}
    assert msg.usage.reasoning_tokens == details.get("thinking_tokens", 0)

    client_kinds = {"text": "text", "thinking": "thinking", "redacted_thinking": "thinking"}
    client_kinds["tool_use"] = "tool_use"
    kinds = [client_kinds[t] for t in expected["content_block_types"] if t in client_kinds]
    assert [b.type for b in msg.content] == kinds


@pytest.mark.parametrize("name", RECORDED_ERRORS)
async def test_recorded_error(name: str) -> None:
    folder = need_shared("recorded-streams")
    recorded = json.loads((folder / f"{name}.error.json").read_text(encoding="utf-8"))
    skip = {"content-encoding", "content-length", "transfer-encoding"}
    headers = {k: v for k, v in recorded["headers_recorded"].items() if k.lower() not in skip}
    status = recorded["status"]
    turn = {"status": status, "body": recorded["body_raw"], "headers": headers}
    with FakeLLM([turn, {"text": "never served"}]) as srv:
        error, seen = await fail(claude(srv, "claude-test-model"), hello())
    kinds = {400: "bad_request", 401: "auth", 403: "permission", 404: "not_found"}
    kinds |= {413: "bad_request", 429: "rate_limit", 500: "server", 529: "overloaded"}
    assert error.kind == kinds[status]
    assert error.retryable is False
    assert error.status == status
    assert error.model == "anthropic:claude-test-model"
    assert seen == []
    assert len(srv.requests) == 1  # the SDK's own retries are off
    detail = recorded["body"]["error"]
    assert "\n" not in error.message and len(error.message) < 400
    assert error.message.startswith("Anthropic")
    assert f"{detail['type']}: {detail['message']}" in error.message
    assert str(error) == error.message


async def test_recorded_401_says_which_variable_to_check() -> None:
    folder = need_shared("recorded-streams")
    recorded = json.loads(
        (folder / "anthropic_401_authentication_error.error.json").read_text(encoding="utf-8")
    )
    turn = {"status": 401, "body": recorded["body_raw"], "headers": {"x-should-retry": "false"}}
    with FakeLLM([turn]) as srv:
        error, _ = await fail(claude(srv), hello())
    assert error.message == (
        "Anthropic rejected the API key (authentication_error: invalid x-api-key). "
        "Check ANTHROPIC_API_KEY."
    )


# -- the request ----------------------------------------------------------------------------


def history() -> tuple[Msg, ...]:
    signed = ThinkingBlock("I should read it.", signature="sig-abc", provider="anthropic")
    # Signed, but by another provider: Anthropic cannot verify it.
    foreign = ThinkingBlock("minimax reasoning", signature="sig-mm", provider="minimax")
    return (
        Msg.user("read a.py"),
        Msg(
            "assistant",
            (
                signed,
                TextBlock("Reading."),
                ToolUseBlock("toolu_1", "read_file", {"path": "a.py"}),
            ),
        ),
        Msg(
            "user",
            (
                ToolResultBlock("toolu_1", "print('hi')"),
                ToolResultBlock(
                    "toolu_2",
                    (TextBlock("no such file"), ImageBlock("image/png", "iVBORw0KGgo=")),
                    is_error=True,
                ),
            ),
        ),
        Msg(
            "assistant",
            (
                foreign,
                TextBlock("Running it."),
                ToolUseBlock(
                    "toolu_3",
                    "shell",
                    {},
                    raw_arguments='{"command": "python a.py"',
                    input_error="arguments are not valid JSON",
                ),
            ),
        ),
        Msg("user", (ToolResultBlock("toolu_3", "hi"),)),
    )


async def test_request_mapping_full_history() -> None:
    request = Request(
        system="You are Friday.",
        messages=history(),
        tools=(READ_TOOL, SHELL_TOOL),
        max_tokens=2048,
        thinking={"budget_tokens": 1024},
    )
    with FakeLLM([{"text": "ok", "require_api_key": "test-key"}]) as srv:
        await collect(claude(srv, "claude-opus-4-1"), request)
    req = srv.requests[0]
    body = req.body
    assert req.path == "/v1/messages"
    assert (body["model"], body["max_tokens"], body["stream"]) == ("claude-opus-4-1", 2048, True)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert "temperature" not in body
    assert body["system"] == [{"type": "text", "text": "You are Friday."}]
    assert body["tools"] == [
        {
            "name": "read_file",
            "description": "Read a file from the workspace.",
            "input_schema": READ_TOOL.parameters,
        },
        {
            "name": "shell",
            "description": "Run a shell command.",
            "input_schema": SHELL_TOOL.parameters,
            "cache_control": EPHEMERAL,
        },
    ]
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "read a.py"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "I should read it.", "signature": "sig-abc"},
                {"type": "text", "text": "Reading."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "read_file",
                    "input": {"path": "a.py"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "print('hi')",
                    "is_error": False,
                },
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [
                        {"type": "text", "text": "no such file"},
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/png",
                                "data": "iVBORw0KGgo=",
                            },
                        },
                    ],
                    "is_error": True,
                },
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Running it."},
                {"type": "tool_use", "id": "toolu_3", "name": "shell", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_3",
                    "content": "hi",
                    "is_error": False,
                    "cache_control": EPHEMERAL,
                }
            ],
        },
    ]
    assert json.dumps(body).count('"cache_control"') == 2


async def test_system_prompt_is_the_breakpoint_without_tools() -> None:
    with FakeLLM([{"text": "ok"}]) as srv:
        await collect(claude(srv), hello(temperature=0.2))
    body = srv.requests[0].body
    assert body["system"] == [
        {"type": "text", "text": "You are Friday.", "cache_control": EPHEMERAL}
    ]
    assert "tools" not in body and "thinking" not in body
    assert body["temperature"] == 0.2
    assert body["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "hello", "cache_control": EPHEMERAL}],
        }
    ]


async def test_merging_ordering_and_what_is_never_sent() -> None:
    """Consecutive user messages become one turn with the tool results first; empty text,
    unsigned Anthropic thinking and other providers' thinking are not sent; redacted
    thinking goes back as it came; no breakpoint lands on a thinking block."""
    messages = (
        Msg.user("first"),
        Msg.user(""),
        Msg.user("second"),
        Msg(
            "assistant",
            (
                ThinkingBlock("", redacted_data="opaque==", provider="anthropic"),
                ThinkingBlock("cut off", provider="anthropic"),
                ThinkingBlock("deepseek thoughts", provider="deepseek"),
                ToolUseBlock("toolu_9", "read_file", {"path": "b.py"}),
            ),
        ),
        Msg("user", (TextBlock("also look at c.py"),)),
        Msg("user", (ToolResultBlock("toolu_9", "B"),)),
        Msg("assistant", (ThinkingBlock("final", signature="sig-z", provider="anthropic"),)),
    )
    with FakeLLM([{"text": "ok"}]) as srv:
        await collect(claude(srv), Request(system="", messages=messages))
    body = srv.requests[0].body
    assert "system" not in body
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user", "assistant"]
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "first"},
        {"type": "text", "text": "second"},
    ]
    assert body["messages"][1]["content"] == [
        {"type": "redacted_thinking", "data": "opaque=="},
        {"type": "tool_use", "id": "toolu_9", "name": "read_file", "input": {"path": "b.py"}},
    ]
    assert [b["type"] for b in body["messages"][2]["content"]] == ["tool_result", "text"]
    assert body["messages"][3]["content"] == [
        {"type": "thinking", "thinking": "final", "signature": "sig-z"}
    ]
    assert '"cache_control"' not in json.dumps(body)


async def test_provider_name_headers_and_key_reach_the_server() -> None:
    with FakeLLM([{"text": "ok", "require_api_key": "test-key"}]) as srv:
        model = claude(srv, "MiniMax-M2", provider="minimax", default_headers={"x-team": "friday"})
        events = await collect(model, hello())
    assert model.name == "minimax:MiniMax-M2"
    assert (model.provider, model.model_id) == ("minimax", "MiniMax-M2")
    assert srv.requests[0].headers["x-team"] == "friday"
    assert events[-1].message.text == "ok"


async def test_thinking_is_tagged_with_the_provider_and_goes_back_only_to_it() -> None:
    """An Anthropic-protocol provider with another name (MiniMax, a proxy) tags its
    thinking with its own name, and only that thinking goes back to it: a signature
    from one server is never sent to another."""
    first = {
        "thinking": "Read it first.",
        "signature": "sig-minimax",
        "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}, "id": "toolu_m1"}],
    }
    with FakeLLM([first, {"text": "Done."}]) as srv:
        model = claude(srv, "MiniMax-M2", provider="minimax")
        request = hello(tools=(READ_TOOL,))
        reply = (await collect(model, request))[-1].message
        claude_thinking = ThinkingBlock("from Claude", signature="sig-claude", provider="anthropic")
        earlier = Msg("assistant", (claude_thinking, TextBlock("Earlier.")))
        result = Msg("user", (ToolResultBlock("toolu_m1", "A"),))
        follow_up = Request(
            system="",
            messages=(Msg.user("hi"), earlier, Msg.user("go on"), reply, result),
            tools=request.tools,
        )
        await collect(model, follow_up)
    assert reply.content[0] == ThinkingBlock(
        "Read it first.", signature="sig-minimax", provider="minimax"
    )
    sent = srv.requests[1].body["messages"]
    assert sent[1]["content"] == [{"type": "text", "text": "Earlier."}]
    assert sent[3]["content"][0] == {
        "type": "thinking",
        "thinking": "Read it first.",
        "signature": "sig-minimax",
    }
    assert "sig-claude" not in json.dumps(sent)


async def test_api_key_and_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM([{"text": "from env", "require_api_key": "env-key"}]) as srv:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "env-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.base_url)
        events = await collect(AnthropicModel("claude-test-model"), hello())
    assert events[-1].message.text == "from env"
    assert srv.requests[0].path == "/v1/messages"


# -- scripted responses ---------------------------------------------------------------------


async def test_scripted_thinking_text_and_tool_calls() -> None:
    turn = {
        "thinking": "The user wants the file read first.",
        "signature": "sig-scripted",
        "text": "Let me read both files.",
        "tool_calls": [
            {"name": "read_file", "arguments": {"path": "a.py"}},
            {"name": "shell", "arguments": {}},
        ],
        "usage": {
            "input_tokens": 120,
            "output_tokens": 45,
            "cache_read_tokens": 300,
            "cache_creation_tokens": 7,
        },
        "chunk_size": 5,
    }
    with FakeLLM([turn]) as srv:
        events = await collect(claude(srv), hello(tools=(READ_TOOL, SHELL_TOOL)))
    kinds = [type(e) for e in events]
    first = {k: kinds.index(k) for k in (ThinkingChunk, TextChunk, ToolCallBegan, Completed)}
    assert first[ThinkingChunk] < first[TextChunk] < first[ToolCallBegan] < first[Completed]
    assert kinds[-1] is Completed and kinds.count(Completed) == 1
    assert kinds.count(ThinkingChunk) > 1 and kinds.count(TextChunk) > 1
    msg = events[-1].message
    thinking, text, read, shell = msg.content
    assert thinking == ThinkingBlock(
        "The user wants the file read first.", signature="sig-scripted", provider="anthropic"
    )
    assert text == TextBlock("Let me read both files.")
    assert (read.name, read.input, shell.name, shell.input) == (
        "read_file",
        {"path": "a.py"},
        "shell",
        {},
    )
    began = [e for e in events if isinstance(e, ToolCallBegan)]
    assert [(e.index, e.id, e.name) for e in began] == [
        (0, read.id, "read_file"),
        (1, shell.id, "shell"),
    ]
    args = "".join(e.fragment for e in events if isinstance(e, ToolCallArgs) and e.index == 0)
    assert json.loads(args) == {"path": "a.py"}
    assert not [e for e in events if isinstance(e, ToolCallArgs) and e.index == 1]
    assert msg.stop_reason == "tool_use"
    assert msg.model == "claude-test-model"
    assert msg.id and msg.id.startswith("msg_")
    assert msg.usage is not None
    assert (msg.usage.input_tokens, msg.usage.output_tokens) == (120, 45)
    assert (msg.usage.cache_read_tokens, msg.usage.cache_creation_tokens) == (300, 7)


async def test_invalid_tool_json_is_kept_raw() -> None:
    raw = '{"path": "a.py", "limit": '
    with FakeLLM([{"tool_calls": [{"name": "read_file", "arguments": raw}]}]) as srv:
        events = await collect(claude(srv), hello(tools=(READ_TOOL,)))
    (call,) = events[-1].message.tool_uses
    assert call.input == {}
    assert call.raw_arguments == raw
    assert call.input_error is not None and "not valid JSON" in call.input_error
    streamed = "".join(e.fragment for e in events if isinstance(e, ToolCallArgs))
    assert streamed == raw


async def test_pings_unknown_events_and_server_tools(tmp_path: Path) -> None:
    """Pings anywhere, an event type and fields the SDK does not know, and server-side
    tool blocks (whose input also streams as input_json_delta) around one client call."""
    ping = {"type": "ping"}
    events = [
        ping,
        message_start(input_tokens=50, cache_read_input_tokens=9, output_tokens=1),
        ping,
        {"type": "future_event", "payload": {"x": 1}},
        block_start(0, {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search"}),
        delta(0, type="input_json_delta", partial_json='{"query": "friday"}'),
        block_stop(0),
        block_start(1, {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1"}),
        block_stop(1),
        ping,
        block_start(2, {"type": "text", "text": "", "citations": None, "new_field": 1}),
        delta(2, type="text_delta", text="Found "),
        ping,
        delta(2, type="citations_delta", citation={"type": "web_search_result_location"}),
        delta(2, type="text_delta", text="it."),
        block_stop(2),
        block_start(3, {"type": "tool_use", "id": "toolu_c", "name": "read_file", "input": {}}),
        delta(3, type="input_json_delta", partial_json=""),
        delta(3, type="input_json_delta", partial_json='{"path": '),
        ping,
        delta(3, type="input_json_delta", partial_json='"x.py"}'),
        block_stop(3),
        *message_end("tool_use", output_tokens=33, stop_details=None),
        ping,
    ]
    body = write_sse(tmp_path / "stream.sse", events)
    with FakeLLM([{"raw_sse": body}]) as srv:
        out = await collect(claude(srv), hello())
    assert [type(e) for e in out] == [
        TextChunk,
        TextChunk,
        ToolCallBegan,
        ToolCallArgs,
        ToolCallArgs,
        Completed,
    ]
    assert out[2] == ToolCallBegan(0, "toolu_c", "read_file")
    msg = out[-1].message
    assert msg.content == (
        TextBlock("Found it."),
        ToolUseBlock("toolu_c", "read_file", {"path": "x.py"}),
    )
    assert (msg.id, msg.model, msg.stop_reason) == ("msg_test", "claude-test-1", "tool_use")
    assert msg.usage is not None
    assert (msg.usage.input_tokens, msg.usage.cache_read_tokens) == (50, 9)
    assert msg.usage.output_tokens == 33


async def test_message_delta_usage_overwrites_and_never_adds(tmp_path: Path) -> None:
    events = [
        message_start(input_tokens=10, cache_creation_input_tokens=4, output_tokens=3),
        *text_events("hi"),
        *message_end(
            "end_turn",
            input_tokens=10,
            cache_creation_input_tokens=4,
            cache_read_input_tokens=None,
            output_tokens=20,
            output_tokens_details={"thinking_tokens": 6},
        ),
    ]
    with FakeLLM([{"raw_sse": write_sse(tmp_path / "u.sse", events)}]) as srv:
        out = await collect(claude(srv), hello())
    usage = out[-1].message.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens) == (10, 20)
    assert (usage.cache_creation_tokens, usage.cache_read_tokens) == (4, 0)
    assert usage.reasoning_tokens == 6


# -- errors ---------------------------------------------------------------------------------


async def test_429_with_retry_after() -> None:
    with FakeLLM([{"status": 429, "headers": {"retry-after": "7"}}]) as srv:
        error, seen = await fail(claude(srv), hello())
    assert (error.kind, error.status, error.retry_after) == ("rate_limit", 429, 7.0)
    assert error.retryable and seen == []
    assert "rate_limit_error" in error.message and "\n" not in error.message
    assert error.model == "anthropic:claude-test-model"


@pytest.mark.parametrize(
    ("status", "kind"), [(529, "overloaded"), (500, "server"), (503, "server")]
)
async def test_server_side_statuses_are_retryable(status: int, kind: str) -> None:
    with FakeLLM([{"status": status}, {"text": "never served"}]) as srv:
        error, _ = await fail(claude(srv), hello())
    assert (error.kind, error.status, error.retryable) == (kind, status, True)
    assert error.retry_after is None
    assert len(srv.requests) == 1  # Friday's retry layer retries, not the SDK


async def test_overloaded_body_wins_over_the_status() -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    with FakeLLM([{"status": 500, "body": body}]) as srv:
        error, _ = await fail(claude(srv), hello())
    assert (error.kind, error.status) == ("overloaded", 500)
    assert "overloaded_error: Overloaded" in error.message


async def test_404_names_the_model() -> None:
    with FakeLLM([{"status": 404, "body": _error("not_found_error", "model: claude-nope")}]) as srv:
        error, _ = await fail(claude(srv, "claude-nope"), hello())
    assert error.kind == "not_found" and not error.retryable
    assert error.message == (
        "Anthropic has no model 'claude-nope' (not_found_error: model: claude-nope). Check --model."
    )


async def test_non_json_error_body_is_one_line() -> None:
    turn = {
        "status": 502,
        "raw_body": "<html>\n<b>502 Bad Gateway</b>\n</html>",
        "content_type": "text/html",
    }
    with FakeLLM([turn]) as srv:
        error, _ = await fail(claude(srv), hello())
    assert (error.kind, error.status) == ("server", 502)
    assert "\n" not in error.message and "502 Bad Gateway" in error.message


async def test_html_page_with_200_is_a_bad_response_not_a_cut_stream() -> None:
    """A login page of a proxy, or a base URL pointing at a web server: retrying it only
    fetches the same page again."""
    page = {"raw_body": "<html><body>Sign in</body></html>", "content_type": "text/html"}
    with FakeLLM([page, {"text": "never served"}]) as srv:
        error, seen = await fail(claude(srv, provider="minimax"), hello())
    assert seen == []
    assert (error.kind, error.retryable, error.status) == ("bad_response", False, 200)
    assert error.model == "minimax:claude-test-model"
    assert error.message == (
        f"minimax at {srv.base_url} answered with text/html, not an event stream: "
        "check base_url in [providers.minimax]"
    )
    assert len(srv.requests) == 1


async def test_bad_response_names_the_base_url_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    page = {"raw_body": "Moved", "content_type": "text/plain; charset=utf-8"}
    with FakeLLM([page]) as srv:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.base_url)
        error, _ = await fail(AnthropicModel("claude-x", api_key="test-key"), hello())
    assert error.kind == "bad_response"
    assert error.message == (
        f"anthropic at {srv.base_url} answered with text/plain, not an event stream: "
        "check ANTHROPIC_BASE_URL"
    )


async def test_event_stream_without_any_event_is_cut(tmp_path: Path) -> None:
    with FakeLLM([{"raw_sse": write_sse(tmp_path / "empty.sse", [])}]) as srv:
        error, seen = await fail(claude(srv), hello())
    assert (error.kind, error.retryable) == ("stream_cut", True)
    assert seen == []


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


@pytest.mark.parametrize("cut_after", [2, 5])
async def test_cut_stream_is_retryable(cut_after: int) -> None:
    turn = {"text": "a long answer that streams in many small pieces", "chunk_size": 4}
    with FakeLLM([{**turn, "cut_after": cut_after}]) as srv:
        error, seen = await fail(claude(srv), hello())
    assert error.kind in ("stream_cut", "connection")
    assert error.retryable
    assert "\n" not in error.message
    assert not any(isinstance(e, Completed) for e in seen)
    if cut_after == 5:
        assert "".join(e.text for e in seen if isinstance(e, TextChunk)) == "a long a"


async def test_stream_without_message_stop_is_cut(tmp_path: Path) -> None:
    events = [message_start(input_tokens=3), *text_events("half")]
    with FakeLLM([{"raw_sse": write_sse(tmp_path / "cut.sse", events)}]) as srv:
        error, seen = await fail(claude(srv), hello())
    assert (error.kind, error.retryable) == ("stream_cut", True)
    assert "message_stop" in error.message
    assert seen == [TextChunk("half")]


@pytest.mark.parametrize(
    ("error_type", "kind"),
    [
        ("overloaded_error", "overloaded"),
        ("api_error", "server"),
        ("rate_limit_error", "rate_limit"),
        ("invalid_request_error", "bad_request"),
    ],
)
async def test_error_event_inside_the_stream(tmp_path: Path, error_type: str, kind: str) -> None:
    events = [
        message_start(input_tokens=3),
        *text_events("partial"),
        _error(error_type, "Something went wrong"),
    ]
    with FakeLLM([{"raw_sse": write_sse(tmp_path / "err.sse", events)}]) as srv:
        error, seen = await fail(claude(srv), hello())
    assert error.kind == kind
    assert error.retryable is (kind != "bad_request")
    assert f"{error_type}: Something went wrong" in error.message
    assert error.model == "anthropic:claude-test-model"
    assert seen == [TextChunk("partial")]


async def test_timeout() -> None:
    with FakeLLM([{"text": "late", "delay": 30}]) as srv:
        error, _ = await fail(claude(srv, timeout=0.3), hello())
    assert (error.kind, error.retryable) == ("timeout", True)


async def test_connection_refused() -> None:
    port = closed_port()
    model = AnthropicModel("claude-x", api_key="test-key", base_url=f"http://127.0.0.1:{port}")
    error, _ = await fail(model, hello())
    assert (error.kind, error.retryable) == ("connection", True)
    assert error.model == "anthropic:claude-x"
    assert "\n" not in error.message


@pytest.mark.parametrize("config_dir", [False, True])
async def test_missing_api_key_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, config_dir: bool
) -> None:
    """No key anywhere: with no profile on disk the SDK refuses to send; with
    ANTHROPIC_CONFIG_DIR pointing at an empty folder it fails to load a profile."""
    for name in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_CONFIG_DIR",
        "ANTHROPIC_FEDERATION_RULE_ID",
        "ANTHROPIC_IDENTITY_TOKEN",
        "ANTHROPIC_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    if config_dir:
        monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path))
    with FakeLLM([{"text": "never served"}]) as srv:
        error, _ = await fail(AnthropicModel("claude-x", base_url=srv.base_url), hello())
    assert (error.kind, error.retryable) == ("config", False)
    assert "ANTHROPIC_API_KEY" in error.message and "\n" not in error.message
    assert error.model == "anthropic:claude-x"
    assert srv.requests == []


async def test_breaking_off_early_closes_cleanly() -> None:
    with FakeLLM(
        [{"text": "a long answer in many pieces", "chunk_size": 2}, {"text": "next"}]
    ) as srv:
        model = claude(srv)
        try:
            async for event in model.stream(hello()):
                assert isinstance(event, TextChunk)
                break
            events = [e async for e in model.stream(hello())]
        finally:
            await model.aclose()
    assert events[-1].message.text == "next"


def test_importing_and_constructing_does_not_import_the_sdk() -> None:
    code = (
        "import sys\n"
        "from friday.models.anthropic import AnthropicModel\n"
        "m = AnthropicModel('claude-x', api_key='k', base_url='http://127.0.0.1:9')\n"
        "assert m.name == 'anthropic:claude-x', m.name\n"
        "print(sorted(n for n in ('anthropic', 'httpx2', 'httpx') if n in sys.modules))\n"
    )
    assert modules_loaded_by(code) == "[]"
