"""tools/fakellm driven by the real anthropic and openai SDKs over loopback HTTP: if the SDKs'
own parsers and stream accumulators accept what the fake sends, the adapters' integration tests
exercise the same code paths they will meet against the real services."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, need_shared
from tools.fakellm import FakeLLM, load_script, wait_for_port

USER = [{"role": "user", "content": "hi"}]
TEXT = "The quick brown fox jumps over the lazy dog, twice."
THINKING = "The user greets me; I should greet back politely."
TWO_CALLS = [
    {"name": "read_file", "arguments": {"path": "src/app.py", "limit": 40}, "id": "toolu_given1"},
    {"name": "grep", "arguments": {"pattern": "def main", "glob": "*.py"}},
]
RATE_CODE = "rate_limit_exceeded"
USAGE = {
    "input_tokens": 120,
    "output_tokens": 35,
    "cache_read_tokens": 800,
    "cache_creation_tokens": 60,
}


def anthropic_client(srv: FakeLLM):
    import anthropic

    return anthropic.Anthropic(base_url=srv.base_url, api_key="test-key", max_retries=0)


def openai_client(srv: FakeLLM):
    import openai

    return openai.OpenAI(base_url=srv.openai_base_url, api_key="test-key", max_retries=0)


def ask_anthropic(srv: FakeLLM, **kwargs):
    return anthropic_client(srv).messages.create(
        model="claude-test", max_tokens=100, messages=USER, **kwargs
    )


def ask_chat(srv: FakeLLM, **kwargs):
    return openai_client(srv).chat.completions.create(model="gpt-test", messages=USER, **kwargs)


def ask_responses(srv: FakeLLM, **kwargs):
    return openai_client(srv).responses.create(model="gpt-test", input="hi", **kwargs)


# -- Anthropic Messages ----------------------------------------------------------------------


def test_anthropic_stream_text_events_and_final_message():
    with FakeLLM([{"text": TEXT, "usage": USAGE}, {"text": TEXT, "chunk_size": 5}]) as srv:
        client = anthropic_client(srv)
        with client.messages.stream(model="claude-test", max_tokens=100, messages=USER) as stream:
            final = stream.get_final_message()
        events = list(ask_anthropic(srv, stream=True))
    assert [b.type for b in final.content] == ["text"]
    assert final.content[0].text == TEXT
    assert final.stop_reason == "end_turn"
    assert final.model == "claude-test"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (120, 35)
    assert final.usage.cache_read_input_tokens == 800
    assert final.usage.cache_creation_input_tokens == 60
    types = [e.type for e in events]
    deltas = [e.delta.text for e in events if e.type == "content_block_delta"]
    assert types[:3] == ["message_start", "content_block_start", "content_block_delta"]
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert deltas == [TEXT[i : i + 5] for i in range(0, len(TEXT), 5)]
    assert srv.turns_served == 2


def test_anthropic_wire_events_include_a_ping():
    import httpx2

    with FakeLLM([{"text": "abc"}]) as srv:
        body = {"model": "c", "max_tokens": 5, "messages": USER, "stream": True}
        reply = httpx2.post(srv.base_url + "/v1/messages", json=body)
    names = [line[7:] for line in reply.text.splitlines() if line.startswith("event: ")]
    assert reply.headers["transfer-encoding"] == "chunked"
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


async def test_anthropic_async_stream_thinking_with_signature():
    import anthropic

    turns = [{"thinking": THINKING, "signature": "sig-123", "text": "Hello!"}, {"thinking": "hm"}]
    with FakeLLM(turns) as srv:
        client = anthropic.AsyncAnthropic(base_url=srv.base_url, api_key="test-key", max_retries=0)
        async with client.messages.stream(
            model="claude-test", max_tokens=100, messages=USER
        ) as stream:
            final = await stream.get_final_message()
        generated = await client.messages.create(model="c", max_tokens=9, messages=USER)
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == THINKING
    assert final.content[0].signature == "sig-123"
    assert final.content[1].text == "Hello!"
    assert generated.content[0].type == "thinking"
    assert generated.content[0].signature.startswith("EqQB")


def test_anthropic_redacted_thinking_block():
    with FakeLLM([{"redacted_thinking": "opaque-data", "text": "Done."}]) as srv:
        client = anthropic_client(srv)
        with client.messages.stream(model="claude-test", max_tokens=100, messages=USER) as stream:
            final = stream.get_final_message()
    assert [b.type for b in final.content] == ["redacted_thinking", "text"]
    assert final.content[0].data == "opaque-data"
    assert final.content[1].text == "Done."


def test_anthropic_stream_two_tool_calls():
    with FakeLLM([{"text": "Looking.", "tool_calls": TWO_CALLS}] * 2) as srv:
        client = anthropic_client(srv)
        with client.messages.stream(model="claude-test", max_tokens=100, messages=USER) as stream:
            final = stream.get_final_message()
        events = list(ask_anthropic(srv, stream=True))
    uses = [b for b in final.content if b.type == "tool_use"]
    assert final.stop_reason == "tool_use"
    assert [(u.name, u.input) for u in uses] == [(c["name"], c["arguments"]) for c in TWO_CALLS]
    assert uses[0].id == "toolu_given1"
    assert uses[1].id.startswith("toolu_") and uses[1].id != uses[0].id
    fragments = [
        e.delta.partial_json
        for e in events
        if e.type == "content_block_delta" and e.index == 1 and e.delta.type == "input_json_delta"
    ]
    assert fragments[0] == ""
    assert len(fragments) >= 4
    assert json.loads("".join(fragments)) == TWO_CALLS[0]["arguments"]


def test_anthropic_empty_and_verbatim_tool_arguments():
    calls = [{"name": "now", "arguments": {}}, {"name": "bad", "arguments": '{"path": "a'}]
    with FakeLLM([{"tool_calls": calls}]) as srv:
        events = list(ask_anthropic(srv, stream=True))
    by_index: dict[int, list[str]] = {}
    for e in events:
        if e.type == "content_block_delta":
            by_index.setdefault(e.index, []).append(e.delta.partial_json)
    assert by_index[0] == [""]
    assert by_index[1][0] == ""
    assert "".join(by_index[1]) == '{"path": "a'


def test_anthropic_non_streaming_message():
    turn = {"thinking": THINKING, "text": TEXT, "tool_calls": TWO_CALLS, "usage": USAGE}
    with FakeLLM([turn]) as srv:
        msg = ask_anthropic(srv)
    assert [b.type for b in msg.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert msg.content[1].text == TEXT
    assert msg.content[3].input == TWO_CALLS[1]["arguments"]
    assert msg.stop_reason == "tool_use"
    assert msg.id.startswith("msg_")
    assert msg.usage.cache_read_input_tokens == 800
    assert msg.usage.output_tokens == 35


# -- OpenAI Chat Completions -----------------------------------------------------------------


def test_chat_stream_helper_text_and_usage():
    with FakeLLM([{"text": TEXT, "usage": USAGE}]) as srv:
        client = openai_client(srv)
        with client.chat.completions.stream(
            model="gpt-test", messages=USER, stream_options={"include_usage": True}
        ) as stream:
            for _ in stream:
                pass
            final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.message.content == TEXT
    assert choice.finish_reason == "stop"
    assert final.usage.prompt_tokens == 120 + 800 + 60
    assert final.usage.prompt_tokens_details.cached_tokens == 800
    assert final.usage.completion_tokens == 35


def test_chat_raw_chunks_shape():
    turn = {"text": "abcdefgh", "chunk_size": 3}
    with FakeLLM([turn, turn]) as srv:
        with_usage = list(ask_chat(srv, stream=True, stream_options={"include_usage": True}))
        without = list(ask_chat(srv, stream=True))
    assert with_usage[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].delta.content for c in with_usage[1:4]] == ["abc", "def", "gh"]
    assert with_usage[4].choices[0].finish_reason == "stop"
    assert with_usage[4].choices[0].delta.content is None
    assert with_usage[-1].choices == []
    assert with_usage[-1].usage is not None
    assert all(c.object == "chat.completion.chunk" for c in with_usage)
    assert len(without) == len(with_usage) - 1
    assert all(c.usage is None for c in without)


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_chat_stream_thinking_field(field):
    with FakeLLM([{"thinking": THINKING, "text": "Hi!", "reasoning_field": field}]) as srv:
        chunks = list(ask_chat(srv, stream=True))
    reasoning = "".join((c.choices[0].delta.model_extra or {}).get(field) or "" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert reasoning == THINKING
    assert text == "Hi!"


def test_chat_stream_two_tool_calls():
    with FakeLLM([{"tool_calls": TWO_CALLS}] * 2) as srv:
        client = openai_client(srv)
        with client.chat.completions.stream(model="gpt-test", messages=USER) as stream:
            final = stream.get_final_completion()
        chunks = list(ask_chat(srv, stream=True))
    calls = final.choices[0].message.tool_calls
    assert final.choices[0].finish_reason == "tool_calls"
    assert [c.function.name for c in calls] == ["read_file", "grep"]
    assert [json.loads(c.function.arguments) for c in calls] == [c["arguments"] for c in TWO_CALLS]
    assert calls[0].id == "toolu_given1"
    assert calls[1].id.startswith("call_")
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    firsts = [d for d in deltas if d.id is not None]
    assert [d.index for d in firsts] == [0, 1]
    assert all(d.function.arguments == "" for d in firsts)
    assert [d.index for d in deltas] == sorted(d.index for d in deltas)
    assert sum(1 for d in deltas if d.index == 0) >= 4


def test_chat_non_streaming_completion():
    turn = {"thinking": THINKING, "text": TEXT, "tool_calls": TWO_CALLS, "usage": USAGE}
    with FakeLLM([turn, {"text": "x", "stop_reason": "max_tokens"}]) as srv:
        done = ask_chat(srv)
        cut = ask_chat(srv)
    msg = done.choices[0].message
    assert msg.content == TEXT
    assert msg.model_extra["reasoning_content"] == THINKING
    assert json.loads(msg.tool_calls[1].function.arguments) == TWO_CALLS[1]["arguments"]
    assert done.usage.prompt_tokens == 980
    assert cut.choices[0].finish_reason == "length"


# -- OpenAI Responses ------------------------------------------------------------------------


def test_responses_stream_text_sequence():
    with FakeLLM([{"text": TEXT, "usage": USAGE}] * 2) as srv:
        client = openai_client(srv)
        with client.responses.stream(model="gpt-test", input="hi") as stream:
            final = stream.get_final_response()
        events = list(ask_responses(srv, stream=True))
    assert final.output_text == TEXT
    assert final.status == "completed"
    assert final.usage.input_tokens == 980
    assert final.usage.input_tokens_details.cached_tokens == 800
    assert [e.sequence_number for e in events] == list(range(len(events)))
    types = [e.type for e in events]
    assert types[:5] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]


def test_responses_stream_thinking_and_two_function_calls():
    turn = {"thinking": THINKING, "tool_calls": TWO_CALLS}
    with FakeLLM([turn, turn]) as srv:
        client = openai_client(srv)
        with client.responses.stream(model="gpt-test", input="hi") as stream:
            final = stream.get_final_response()
        events = list(ask_responses(srv, stream=True))
    kinds = [item.type for item in final.output]
    assert kinds == ["reasoning", "function_call", "function_call"]
    assert final.output[0].summary[0].text == THINKING
    calls = final.output[1:]
    assert [c.name for c in calls] == ["read_file", "grep"]
    assert [json.loads(c.arguments) for c in calls] == [c["arguments"] for c in TWO_CALLS]
    assert calls[0].call_id == "toolu_given1"
    assert calls[1].call_id.startswith("call_") and calls[1].id.startswith("fc_")
    summary = "".join(e.delta for e in events if e.type == "response.reasoning_summary_text.delta")
    assert summary == THINKING
    args = [e for e in events if e.type == "response.function_call_arguments.delta"]
    assert {e.item_id for e in args} == {c.id for c in events[-1].response.output[1:]}


def test_responses_incomplete_and_non_streaming():
    turns = [{"text": "partial", "incomplete": True}, {"text": TEXT, "tool_calls": TWO_CALLS[1:]}]
    with FakeLLM(turns) as srv:
        events = list(ask_responses(srv, stream=True))
        resp = ask_responses(srv)
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.status == "incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"
    assert resp.output_text == TEXT
    assert resp.status == "completed"
    assert resp.output[1].type == "function_call"
    assert json.loads(resp.output[1].arguments) == TWO_CALLS[1]["arguments"]


# -- errors and faults -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("turn", "error_name", "status"),
    [
        ({"require_api_key": "other-key", "text": "x"}, "AuthenticationError", 401),
        ({"status": 429, "headers": {"retry-after": "7"}}, "RateLimitError", 429),
        ({"status": 529}, "OverloadedError", 529),
        ({"status": 500}, "InternalServerError", 500),
    ],
)
def test_anthropic_errors_on_stream_requests(turn, error_name, status):
    import anthropic

    with FakeLLM([turn]) as srv, pytest.raises(anthropic.APIStatusError) as info:
        client = anthropic_client(srv)
        with client.messages.stream(model="c", max_tokens=9, messages=USER) as stream:
            stream.get_final_message()
    err = info.value
    assert type(err).__name__ == error_name
    assert err.status_code == status
    assert err.response.headers["content-type"] == "application/json"
    assert err.body["type"] == "error"
    assert err.body["request_id"] == err.response.headers["request-id"]
    if status == 429:
        assert err.response.headers["retry-after"] == "7"
        assert err.body["error"]["type"] == "rate_limit_error"
    if status == 529:
        assert err.body["error"]["type"] == "overloaded_error"


@pytest.mark.parametrize(
    ("turn", "error_name", "status", "code"),
    [
        ({"require_api_key": "k2", "text": "x"}, "AuthenticationError", 401, "invalid_api_key"),
        ({"status": 429, "headers": {"retry-after": "3"}}, "RateLimitError", 429, RATE_CODE),
        ({"status": 500}, "InternalServerError", 500, None),
    ],
)
def test_openai_errors_on_both_endpoints(turn, error_name, status, code):
    import openai

    with FakeLLM([turn, turn]) as srv:
        with pytest.raises(openai.APIStatusError) as chat_info:
            ask_chat(srv, stream=True)
        with pytest.raises(openai.APIStatusError) as resp_info:
            ask_responses(srv)
    for err in (chat_info.value, resp_info.value):
        assert type(err).__name__ == error_name
        assert err.status_code == status
        assert err.code == code
    if status == 429:
        assert chat_info.value.response.headers["retry-after"] == "3"


def test_custom_error_body_and_headers_pass_through():
    import openai

    body = {"error": {"message": "slow down", "type": "tokens", "param": None, "code": "custom"}}
    turn = {"status": 503, "body": body, "headers": {"x-extra": "1", "content-type": "text/json"}}
    with FakeLLM([turn]) as srv, pytest.raises(openai.InternalServerError) as info:
        ask_chat(srv)
    assert info.value.message.endswith("slow down")
    assert info.value.code == "custom"
    assert info.value.response.headers["x-extra"] == "1"
    assert info.value.response.headers.get_list("content-type") == ["text/json"]


def test_script_exhausted_is_a_400_in_each_shape():
    import anthropic
    import openai

    with FakeLLM([{"text": "only"}]) as srv:
        assert ask_anthropic(srv).content[0].text == "only"
        with pytest.raises(anthropic.BadRequestError) as ant:
            ask_anthropic(srv, stream=True)
        with pytest.raises(openai.BadRequestError) as oai:
            ask_chat(srv)
        served = srv.turns_served
    assert ant.value.body["error"]["message"] == "fakellm: script exhausted after 1 turns"
    assert oai.value.body["message"] == "fakellm: script exhausted after 1 turns"
    assert served == 1


def test_cut_after_breaks_the_stream_mid_way():
    import httpx2
    import openai

    turn = {"text": "x" * 200, "chunk_size": 10, "cut_after": 4}
    with FakeLLM([turn, turn, turn]) as srv:
        seen = []
        with pytest.raises(httpx2.RemoteProtocolError):
            for event in ask_anthropic(srv, stream=True):
                seen.append(event.type)
        chunks = []
        with pytest.raises(openai.APIConnectionError):
            for chunk in ask_chat(srv, stream=True):
                chunks.append(chunk)
        with pytest.raises(openai.APIConnectionError):
            ask_responses(srv)
    assert seen == ["message_start", "content_block_start", "content_block_delta"]
    assert len(chunks) == 4


def test_delay_longer_than_client_timeout_times_out():
    import openai

    with FakeLLM([{"text": "late", "delay": 30}]) as srv:
        client = openai.OpenAI(
            base_url=srv.openai_base_url, api_key="test-key", max_retries=0, timeout=0.3
        )
        with pytest.raises(openai.APITimeoutError):
            client.chat.completions.create(model="m", messages=USER)


def test_chunk_delay_still_delivers_every_event():
    with FakeLLM([{"text": "abcdef", "chunk_size": 2, "chunk_delay": 0.01}]) as srv:
        chunks = list(ask_chat(srv, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "abcdef"


# -- raw replays, routing, recording ---------------------------------------------------------


def test_raw_sse_replays_a_recording_verbatim():
    import httpx2

    recorded = need_shared("recorded-streams")
    sse_path = recorded / "anthropic_text_basic.sse"
    expected = json.loads((recorded / "anthropic_text_basic.json").read_text())["expected"]
    calls = recorded / "openai_responses_two_function_calls"
    turns = [{"raw_sse": str(sse_path)}, {"raw_sse": str(sse_path)}, {"raw_sse": f"{calls}.sse"}]
    with FakeLLM(turns) as srv:
        client = anthropic_client(srv)
        with client.messages.stream(model="c", max_tokens=9, messages=USER) as stream:
            final = stream.get_final_message()
        raw = httpx2.post(srv.base_url + "/v1/messages", json={"model": "c"})
        with openai_client(srv).responses.stream(model="gpt-test", input="hi") as stream:
            resp = stream.get_final_response()
    assert final.content[0].text == expected["text"]
    assert final.usage.output_tokens == expected["usage"]["output_tokens"]
    assert raw.content == sse_path.read_bytes()
    assert raw.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert [item.call_id for item in resp.output] == [
        "call_sKC7OABqf2A2PTLCm0CLeRWV",
        "call_OdR3s3xop0vtgkDyWRMLafuH",
    ]


def test_unplayable_turn_answers_500_with_the_reason(tmp_path: Path):
    import openai

    vanishing = tmp_path / "gone.sse"
    vanishing.write_text("data: [DONE]\n\n")
    with FakeLLM([{"raw_sse": str(vanishing)}]) as srv:
        srv.add_turns([{"text": "added later"}])
        vanishing.unlink()
        with pytest.raises(openai.InternalServerError) as info:
            ask_chat(srv, stream=True)
        later = ask_chat(srv)
    assert "cannot play turn 1" in info.value.message
    assert "gone.sse" in info.value.message
    assert later.choices[0].message.content == "added later"


def test_raw_body_and_content_type():
    import httpx2

    turn = {"raw_body": "plain words", "content_type": "text/plain", "status": 202}
    with FakeLLM([turn]) as srv:
        reply = httpx2.post(srv.base_url + "/chat/completions", json={"model": "m"})
    assert (reply.status_code, reply.text) == (202, "plain words")
    assert reply.headers["content-type"] == "text/plain"


def test_routes_recording_models_and_head():
    import httpx2

    with FakeLLM([{"text": "one"}, {"text": "two"}]) as srv:
        with httpx2.Client(base_url=srv.base_url) as http:
            first = http.post("/messages?beta=true", json={"model": "m", "max_tokens": 5})
            second = http.post("/responses", json={"model": "m", "input": "x"})
            missing = http.post("/v1/nowhere", json={})
            models = http.get("/v1/models")
            head = http.head("/v1/models")
        requests = list(srv.requests)
    assert first.json()["content"][0]["text"] == "one"
    assert second.json()["output"][0]["content"][0]["text"] == "two"
    assert missing.status_code == 404 and "nowhere" in missing.json()["error"]["message"]
    assert "gpt-4o" in [m["id"] for m in models.json()["data"]]
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(models.content)
    assert [(r.method, r.path) for r in requests] == [
        ("POST", "/messages"),
        ("POST", "/responses"),
        ("POST", "/v1/nowhere"),
        ("GET", "/v1/models"),
        ("HEAD", "/v1/models"),
    ]
    assert requests[0].query == "beta=true"
    assert requests[0].body == {"model": "m", "max_tokens": 5}
    assert requests[0].headers["content-type"] == "application/json"


def test_sdk_requests_are_recorded_with_lowercase_headers():
    with FakeLLM([{"text": "a"}, {"text": "b"}]) as srv:
        ask_anthropic(srv, system="be brief")
        ask_chat(srv, stream=True, stream_options={"include_usage": True})
    ant, chat = srv.requests
    assert ant.path == "/v1/messages" and chat.path == "/v1/chat/completions"
    assert ant.body["system"] == "be brief"
    assert chat.body["stream"] is True
    assert chat.headers["authorization"] == "Bearer test-key"
    assert all(key == key.lower() for key in ant.headers)


def test_from_file_and_script_validation(tmp_path: Path):
    (tmp_path / "rec.sse").write_text('data: {"x": 1}\n\n')
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"turns": [{"raw_sse": "rec.sse"}, {"text": "hi"}]}))
    turns = load_script(script)
    assert turns[0]["raw_sse"] == str(tmp_path / "rec.sse")
    srv = FakeLLM.from_file(script)
    assert len(srv.turns) == 2
    with pytest.raises(ValueError, match="unknown keys"):
        FakeLLM([{"txt": "typo"}])
    with pytest.raises(ValueError, match="does not exist"):
        FakeLLM([{"raw_sse": str(tmp_path / "missing.sse")}])
    with pytest.raises(ValueError, match="non-loopback"):
        FakeLLM([], host="0.0.0.0")


# -- CLI -------------------------------------------------------------------------------------


def test_cli_serves_until_sigterm(tmp_path: Path):
    import httpx2

    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"text": "from the cli"}]))
    port_file = tmp_path / "port"
    cmd = [sys.executable, "-m", "tools.fakellm", "--script", str(script)]
    proc = subprocess.Popen(
        [*cmd, "--port-file", str(port_file)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = wait_for_port(port_file)
        reply = httpx2.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            json={"model": "m", "messages": USER},
        )
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert reply.json()["choices"][0]["message"]["content"] == "from the cli"
    assert proc.returncode == 0, err
    assert out == f"fakellm listening on http://127.0.0.1:{port}\n"


def test_cli_refuses_a_non_loopback_host(tmp_path: Path):
    script = tmp_path / "script.json"
    script.write_text("[]")
    cmd = [sys.executable, "-m", "tools.fakellm", "--script", str(script), "--host", "0.0.0.0"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=20)
    assert done.returncode == 2
    assert "loopback" in done.stderr
