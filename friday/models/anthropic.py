"""The Anthropic Messages adapter.

Maps a `Request` onto one streaming POST /v1/messages through the official `anthropic`
SDK's client (its HTTP, SSE decoding and exceptions; the events kept as plain dicts) and
builds the final `Msg` from the raw events itself, so every quirk of the wire (pings
anywhere, an empty `input_json_delta` for a call without arguments, usage repeated in
`message_delta`, server-side tool blocks, unknown events) is handled in one place that the
recorded streams in the tests exercise. The SDK is imported on first use only, and its own
retries are off: Friday's retry layer retries and reports each attempt as an event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

from friday.messages import (
    Block,
    ImageBlock,
    Msg,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)
from friday.models.anthropic_errors import stream_error, translate_error
from friday.models.base import (
    Completed,
    ModelError,
    Request,
    StreamEvent,
    TextChunk,
    ThinkingChunk,
    ToolCallArgs,
    ToolCallBegan,
    parse_tool_arguments,
)
from friday.models.wire import base_url_hint, not_an_event_stream, sdk_field

PROVIDER = "anthropic"
EPHEMERAL = {"type": "ephemeral"}
# Block types that the API refuses a cache_control marker on.
_UNCACHEABLE = frozenset({"thinking", "redacted_thinking"})


class AnthropicModel:
    """A Claude model (or any server speaking the Anthropic Messages API) behind the
    `Model` protocol. `api_key` and `base_url` left as None let the SDK read
    ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL, as it does everywhere else."""

    def __init__(
        self,
        model_id: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        provider: str = PROVIDER,
        timeout: float = 600.0,
        default_headers: dict[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.model_id = model_id
        self.name = f"{provider}:{model_id}"
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = timeout
        self._default_headers = dict(default_headers or {})
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def _get_client(self) -> Any:
        """The SDK client, built on first use. Its connection pool belongs to one event
        loop, so a call from another loop (a second `asyncio.run`) gets a fresh client."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            import anthropic

            self._client = anthropic.AsyncAnthropic(
                api_key=self._api_key,
                base_url=self._base_url,
                max_retries=0,
                timeout=self._timeout,
                default_headers=self._default_headers or None,
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the SDK client's connections (the SDK otherwise closes them from a
        finalizer, which fails noisily once the event loop is gone)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        params = build_params(request, self.model_id, self.provider)
        try:
            client = self._get_client()
            sdk_stream = await client.post(
                "/v1/messages",
                body=params,
                cast_to=object,
                stream=True,
                stream_cls=_event_stream_class(),
            )
        except Exception as exc:
            self._raise(exc, streaming=False)
        acc = _Accumulator(self.provider)
        try:
            async for event in sdk_stream:
                for out in acc.feed(event):
                    yield out
        except ModelError as exc:
            exc.model = self.name
            raise
        except Exception as exc:
            self._raise(exc, streaming=True)
        finally:
            await sdk_stream.close()
        if acc.events == 0:
            error = not_an_event_stream(
                sdk_stream.response,
                provider=self.provider,
                base_url=client.base_url,
                hint=base_url_hint(self.provider, self._base_url, "ANTHROPIC_BASE_URL"),
                model=self.name,
            )
            if error is not None:
                raise error
        if not acc.stopped:
            raise ModelError(
                "stream_cut",
                f"Anthropic's stream for {self.model_id!r} ended before message_stop, so the "
                "response is incomplete. Retry the request.",
                model=self.name,
            )
        yield Completed(acc.message())

    def _raise(self, exc: Exception, *, streaming: bool) -> NoReturn:
        """Raise a ModelError for a failure of the SDK or the transport; anything else (a
        bug in Friday) is raised as itself."""
        error = translate_error(exc, model_id=self.model_id, streaming=streaming)
        if error is None:
            raise exc
        error.model = self.name
        raise error from exc


# -- request mapping --------------------------------------------------------------------


def build_params(request: Request, model_id: str, provider: str = PROVIDER) -> dict[str, Any]:
    """The keyword arguments of `messages.create` for `request`; `provider` picks the
    thinking that is sent back (only its own: a signature verifies on one server alone).

    Two prompt-cache breakpoints: one closes the stable prefix (the last tool, or the
    system prompt when there are no tools) and one the conversation so far (the last
    cacheable block of the last message), so the next turn reads both from the cache.
    """
    params: dict[str, Any] = {
        "model": model_id,
        "max_tokens": request.max_tokens,
        "messages": to_wire_messages(request.messages, provider),
        "stream": True,
    }
    tools = [
        {"name": t.name, "description": t.description, "input_schema": t.parameters}
        for t in request.tools
    ]
    if tools:
        tools[-1]["cache_control"] = dict(EPHEMERAL)
        params["tools"] = tools
    if request.system:
        system: dict[str, Any] = {"type": "text", "text": request.system}
        if not tools:
            system["cache_control"] = dict(EPHEMERAL)
        params["system"] = [system]
    if request.temperature is not None:
        params["temperature"] = request.temperature
    budget = (request.thinking or {}).get("budget_tokens")
    if budget is not None:
        params["thinking"] = {"type": "enabled", "budget_tokens": int(budget)}
    last = params["messages"][-1]["content"] if params["messages"] else []
    cacheable = [block for block in last if block["type"] not in _UNCACHEABLE]
    if cacheable:
        cacheable[-1]["cache_control"] = dict(EPHEMERAL)
    return params


def to_wire_messages(
    messages: tuple[Msg, ...] | list[Msg], provider: str = PROVIDER
) -> list[dict[str, Any]]:
    """Friday messages as Anthropic `messages`. Consecutive messages of one role are
    merged (the API wants turns to alternate), messages left empty are skipped, and in a
    user turn the tool results come first, as the API requires after a tool_use turn."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        blocks = [wire for b in msg.content if (wire := to_wire_block(b, provider)) is not None]
        if not blocks:
            continue
        if out and out[-1]["role"] == msg.role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": msg.role, "content": blocks})
    for wire_msg in out:
        if wire_msg["role"] == "user":
            wire_msg["content"].sort(key=lambda b: b["type"] != "tool_result")
    return out


def to_wire_block(block: Block, provider: str = PROVIDER) -> dict[str, Any] | None:  # noqa: PLR0911
    """One content block in the Anthropic shape, or None when it must not be sent: empty
    text (rejected by the API) and thinking the API cannot verify (another provider's, or
    one cut off before its signature arrived)."""
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text} if block.text else None
    if isinstance(block, ImageBlock):
        return _image(block)
    if isinstance(block, ToolUseBlock):
        arguments = block.input if block.input_error is None else {}
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": arguments}
    if isinstance(block, ToolResultBlock):
        return _tool_result(block)
    if isinstance(block, ThinkingBlock):
        if block.provider != provider:
            return None
        if block.redacted_data:
            return {"type": "redacted_thinking", "data": block.redacted_data}
        if not block.signature:
            return None
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    return None


def _image(block: ImageBlock) -> dict[str, Any]:
    source = {"type": "base64", "media_type": block.media_type, "data": block.data}
    return {"type": "image", "source": source}


def _tool_result(block: ToolResultBlock) -> dict[str, Any]:
    content: Any = block.content
    if not isinstance(content, str):
        content = [
            _image(part) if isinstance(part, ImageBlock) else {"type": "text", "text": part.text}
            for part in content
            if isinstance(part, ImageBlock) or part.text
        ]
    return {
        "type": "tool_result",
        "tool_use_id": block.tool_use_id,
        "content": content,
        "is_error": block.is_error,
    }


# -- the response stream ----------------------------------------------------------------


def _event_stream_class() -> Any:
    """The SDK's async SSE stream (its decoding, error events and exceptions), yielding
    each event as a plain dict: building the SDK's typed event models costs pydantic
    about half a second of CPU on the first event of a process, a stall on the user's
    first turn that the dicts avoid."""
    import anthropic

    return anthropic.AsyncStream[dict[str, Any]]


_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens")
_USAGE_FIELDS += ("cache_creation_input_tokens",)


@dataclass
class _Accumulator:
    """Folds the raw events of one response into normalized stream events and, at the
    end, the assistant `Msg`. Dispatches on each event's `type` string, never on its SDK
    class: the SDK builds unknown event types as some other event class. A tool call's
    stream index is its position among this response's client tool calls. `provider`
    goes on the thinking blocks, so that they return only to the server that signed them."""

    provider: str = PROVIDER
    events: int = 0
    blocks: dict[int, dict[str, Any]] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    tool_calls: int = 0
    message_id: str | None = None
    model: str | None = None
    stop_reason: str | None = None
    stopped: bool = False

    def feed(self, event: Any) -> list[StreamEvent]:
        self.events += 1
        kind = sdk_field(event, "type")
        if kind == "message_start":
            message = sdk_field(event, "message")
            self.message_id = sdk_field(message, "id")
            self.model = sdk_field(message, "model")
            self._take_usage(sdk_field(message, "usage"))
        elif kind == "content_block_start":
            return self._start(sdk_field(event, "index"), sdk_field(event, "content_block"))
        elif kind == "content_block_delta":
            return self._delta(sdk_field(event, "index"), sdk_field(event, "delta"))
        elif kind == "message_delta":
            stop_reason = sdk_field(sdk_field(event, "delta"), "stop_reason")
            if stop_reason is not None:
                self.stop_reason = stop_reason
            self._take_usage(sdk_field(event, "usage"))
        elif kind == "message_stop":
            self.stopped = True
        elif kind == "error":
            raise stream_error(sdk_field(event, "error"))
        return []

    def _take_usage(self, usage: Any) -> None:
        """Non-null fields overwrite: message_delta repeats the final totals."""
        for name in _USAGE_FIELDS:
            value = sdk_field(usage, name)
            if value is not None:
                self.usage[name] = int(value)
        thinking = sdk_field(sdk_field(usage, "output_tokens_details"), "thinking_tokens")
        if thinking is not None:
            self.usage["thinking_tokens"] = int(thinking)

    def _start(self, index: int, block: Any) -> list[StreamEvent]:
        kind = sdk_field(block, "type")
        if kind == "text":
            text = sdk_field(block, "text") or ""
            self.blocks[index] = {"kind": "text", "parts": [text]}
            return [TextChunk(text)] if text else []
        if kind == "thinking":
            text = sdk_field(block, "thinking") or ""
            signature = sdk_field(block, "signature") or ""
            self.blocks[index] = {"kind": "thinking", "parts": [text], "signature": signature}
            return [ThinkingChunk(text)] if text else []
        if kind == "redacted_thinking":
            self.blocks[index] = {"kind": "redacted", "data": sdk_field(block, "data") or ""}
            return []
        if kind == "tool_use":
            call = {"kind": "tool", "ordinal": self.tool_calls, "input": sdk_field(block, "input")}
            call.update(
                id=sdk_field(block, "id") or "", name=sdk_field(block, "name") or "", parts=[]
            )
            self.tool_calls += 1
            self.blocks[index] = call
            return [ToolCallBegan(call["ordinal"], call["id"], call["name"])]
        # Server-side blocks (server_tool_use, web_search_tool_result, ...) ran on
        # Anthropic's side: they are not calls for Friday to run.
        self.blocks[index] = {"kind": "other"}
        return []

    def _delta(self, index: int, delta: Any) -> list[StreamEvent]:
        kind = sdk_field(delta, "type")
        state = self.blocks.get(index)
        if kind == "text_delta":
            state = state or self.blocks.setdefault(index, {"kind": "text", "parts": []})
            text = sdk_field(delta, "text") or ""
            if state["kind"] == "text" and text:
                state["parts"].append(text)
                return [TextChunk(text)]
        elif state is None:
            return []
        elif kind == "thinking_delta" and state["kind"] == "thinking":
            text = sdk_field(delta, "thinking") or ""
            if text:
                state["parts"].append(text)
                return [ThinkingChunk(text)]
        elif kind == "signature_delta" and state["kind"] == "thinking":
            state["signature"] += sdk_field(delta, "signature") or ""
        elif kind == "input_json_delta" and state["kind"] == "tool":
            fragment = sdk_field(delta, "partial_json") or ""
            if fragment:
                state["parts"].append(fragment)
                return [ToolCallArgs(state["ordinal"], fragment)]
        return []

    def message(self) -> Msg:
        content: list[Block] = []
        for index in sorted(self.blocks):
            block = _final_block(self.blocks[index], self.provider)
            if block is not None:
                content.append(block)
        u = self.usage
        usage = Usage(
            input_tokens=u.get("input_tokens", 0),
            output_tokens=u.get("output_tokens", 0),
            cache_read_tokens=u.get("cache_read_input_tokens", 0),
            cache_creation_tokens=u.get("cache_creation_input_tokens", 0),
            reasoning_tokens=u.get("thinking_tokens", 0),
        )
        return Msg(
            role="assistant",
            content=tuple(content),
            id=self.message_id,
            model=self.model,
            stop_reason=self.stop_reason,
            usage=usage,
        )


def _final_block(state: dict[str, Any], provider: str) -> Block | None:
    kind = state["kind"]
    if kind == "text":
        text = "".join(state["parts"])
        return TextBlock(text) if text else None
    if kind == "thinking":
        return ThinkingBlock("".join(state["parts"]), state["signature"] or None, provider=provider)
    if kind == "redacted":
        return ThinkingBlock(thinking="", redacted_data=state["data"], provider=provider)
    if kind == "tool":
        raw = "".join(state["parts"])
        start_input = state["input"]
        if not raw.strip() and isinstance(start_input, dict) and start_input:
            return ToolUseBlock(state["id"], state["name"], dict(start_input))
        arguments, error = parse_tool_arguments(raw)
        kept = raw if error else None
        return ToolUseBlock(state["id"], state["name"], arguments, kept, input_error=error)
    return None
