"""OpenAI Responses adapter (`/responses`), stateless: `store: False`, and the whole
conversation is sent every turn.

Reasoning survives between turns only as encrypted reasoning items, which the API
returns when asked (`include: ["reasoning.encrypted_content"]`) and which are replayed
from `ThinkingBlock.provider_data`.

The stream is read as raw events, not through the SDK's `.stream()` helper, whose
final-response accessor raises on `response.incomplete`, a normal end here. It is
requested with the SDK's generic `client.post("/responses", ...)` rather than
`client.responses.create(...)`: same HTTP client, SSE decoding and exceptions, but the
events stay plain dicts. Building the SDK's typed `Response` models costs pydantic
several seconds on the first event of a process, a stall on the user's first turn.
Stop reasons are normalised as `friday.models.openai_common` describes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

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
from friday.models.openai_common import (
    OpenAIModelBase,
    data_url,
    responses_stop_reason,
    stream_error,
    tool_arguments_json,
)
from friday.models.openai_common import (
    field as sdk_field,
)

# -- request ------------------------------------------------------------------------------


def responses_input(messages: tuple[Msg, ...], provider: str) -> list[dict[str, Any]]:
    """Friday's conversation as Responses input items."""
    items: list[dict[str, Any]] = []
    for msg in messages:
        if msg.role == "assistant":
            items.extend(_assistant_items(msg, provider))
        else:
            items.extend(_user_items(msg))
    return items


def _assistant_items(msg: Msg, provider: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for block in msg.content:
        if isinstance(block, TextBlock) and block.text:
            items.append(
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": block.text}],
                }
            )
        elif isinstance(block, ToolUseBlock):
            items.append(
                {
                    "type": "function_call",
                    "call_id": block.id,
                    "name": block.name,
                    "arguments": tool_arguments_json(block.raw_arguments, block.input),
                }
            )
        elif isinstance(block, ThinkingBlock):
            items.extend(_reasoning_item(block, provider))
    return items


def _reasoning_item(block: ThinkingBlock, provider: str) -> list[dict[str, Any]]:
    """A reasoning item to replay, if this block can be replayed: produced by this
    provider and carrying encrypted content. With `store: False` an item id alone
    refers to nothing on the server and the request would fail."""
    data = block.provider_data or {}
    if block.provider != provider or not data.get("id") or not data.get("encrypted_content"):
        return []
    return [
        {
            "type": "reasoning",
            "id": data["id"],
            "encrypted_content": data["encrypted_content"],
            "summary": list(data.get("summary") or []),
        }
    ]


def _user_items(msg: Msg) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in msg.content:
        if isinstance(block, ToolResultBlock):
            items.append(_tool_output(block))
        elif isinstance(block, TextBlock):
            parts.append({"type": "input_text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append(_image_part(block))
    if parts:
        items.append({"type": "message", "role": "user", "content": parts})
    return items


def _tool_output(block: ToolResultBlock) -> dict[str, Any]:
    """A tool result; a plain string unless the tool returned images too."""
    prefix = "Error: " if block.is_error else ""
    output: Any = prefix + block.text
    if not isinstance(block.content, str) and any(isinstance(b, ImageBlock) for b in block.content):
        output = [
            _image_part(b) if isinstance(b, ImageBlock) else {"type": "input_text", "text": b.text}
            for b in block.content
        ]
        if prefix:
            output.insert(0, {"type": "input_text", "text": prefix.strip()})
    return {"type": "function_call_output", "call_id": block.tool_use_id, "output": output}


def _image_part(block: ImageBlock) -> dict[str, Any]:
    url = data_url(block.media_type, block.data)
    return {"type": "input_image", "image_url": url, "detail": "auto"}


def responses_params(request: Request, model_id: str, provider: str) -> dict[str, Any]:
    """The request body for `/responses`. `provider` picks which reasoning items can
    be replayed."""
    params: dict[str, Any] = {
        "model": model_id,
        "input": responses_input(request.messages, provider),
        "stream": True,
        "store": False,
        "max_output_tokens": request.max_tokens,
    }
    if request.system:
        params["instructions"] = request.system
    if request.tools:
        params["tools"] = [
            {
                "type": "function",
                "name": t.name,
                "description": t.description,
                "parameters": t.parameters,
                "strict": False,
            }
            for t in request.tools
        ]
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if request.thinking is not None:
        effort = request.thinking.get("effort", "medium")
        params["reasoning"] = {"effort": effort, "summary": "auto"}
        params["include"] = ["reasoning.encrypted_content"]
    if request.cache_key:
        params["prompt_cache_key"] = request.cache_key
    return params


# -- response -----------------------------------------------------------------------------


@dataclass
class _Item:
    """One output item as it streams: a message, a reasoning item or a function call."""

    index: int
    type: str
    id: str | None = None
    deltas: list[str] = field(default_factory=list)
    part: tuple[str, int] | None = None
    call_position: int | None = None
    done: Any = None


@dataclass
class ResponsesAccumulator:
    """Folds Responses events into the assistant message. Each kind of text comes
    several times (deltas, then `...done`, `output_item.done`, `response.completed`);
    the finished item is what the message keeps, and the deltas are shown only once."""

    provider: str
    model_name: str
    id: str | None = None
    model: str | None = None
    items: dict[int, _Item] = field(default_factory=dict)
    calls: int = 0
    response: Any = None
    status: str | None = None

    def feed(self, event: Any) -> list[StreamEvent]:
        handler = _HANDLERS.get(sdk_field(event, "type", ""))
        return handler(self, event) if handler else []

    def _item(self, event: Any, kind: str) -> _Item:
        """The item an event refers to, by output_index (or item_id), created when a
        server skipped `output_item.added`."""
        index = sdk_field(event, "output_index")
        item_id = sdk_field(event, "item_id")
        if index is None:
            found = next((i for i in self.items.values() if item_id and i.id == item_id), None)
            index = found.index if found else len(self.items)
        item = self.items.get(index)
        if item is None:
            item = self.items[index] = _Item(index, kind, item_id)
        return item

    def _created(self, event: Any) -> list[StreamEvent]:
        response = sdk_field(event, "response")
        self.id = sdk_field(response, "id", self.id)
        self.model = sdk_field(response, "model", self.model)
        return []

    def _added(self, event: Any) -> list[StreamEvent]:
        raw = sdk_field(event, "item")
        item = self._item(event, sdk_field(raw, "type", ""))
        item.type = sdk_field(raw, "type", item.type)
        item.id = sdk_field(raw, "id", item.id)
        if item.type == "function_call":
            return self._began(item, raw)
        return []

    def _began(self, item: _Item, raw: Any) -> list[StreamEvent]:
        if item.call_position is not None:
            return []
        item.call_position = self.calls
        self.calls += 1
        call_id = sdk_field(raw, "call_id") or item.id or ""
        return [ToolCallBegan(item.call_position, call_id, sdk_field(raw, "name", ""))]

    def _text(self, event: Any) -> list[StreamEvent]:
        delta = sdk_field(event, "delta", "")
        item = self._item(event, "message")
        item.deltas.append(delta)
        return [TextChunk(delta)] if delta else []

    def _thinking(self, event: Any) -> list[StreamEvent]:
        """Summary parts are joined by a blank line, here as in the final block."""
        delta = sdk_field(event, "delta", "")
        item = self._item(event, "reasoning")
        part = (sdk_field(event, "type"), sdk_field(event, "summary_index", 0))
        if item.part is not None and part != item.part and item.deltas:
            delta = "\n\n" + delta
        item.part = part
        item.deltas.append(delta)
        return [ThinkingChunk(delta)] if delta else []

    def _arguments(self, event: Any) -> list[StreamEvent]:
        delta = sdk_field(event, "delta", "")
        item = self._item(event, "function_call")
        item.deltas.append(delta)
        if item.call_position is None or not delta:
            return []
        return [ToolCallArgs(item.call_position, delta)]

    def _item_done(self, event: Any) -> list[StreamEvent]:
        raw = sdk_field(event, "item")
        item = self._item(event, sdk_field(raw, "type", ""))
        return self._finish_item(item, raw)

    def _finish_item(self, item: _Item, raw: Any) -> list[StreamEvent]:
        """Record the finished item; if no deltas were seen for it, show it now so
        that the deltas still add up to the final message."""
        item.type = sdk_field(raw, "type", item.type)
        item.id = sdk_field(raw, "id", item.id)
        item.done = raw
        events: list[StreamEvent] = []
        if item.type == "function_call":
            events.extend(self._began(item, raw))
            arguments = sdk_field(raw, "arguments", "")
            if not item.deltas and arguments and item.call_position is not None:
                item.deltas.append(arguments)
                events.append(ToolCallArgs(item.call_position, arguments))
        elif item.type == "message" and not item.deltas:
            text = _message_text(raw)
            if text:
                item.deltas.append(text)
                events.append(TextChunk(text))
        elif item.type == "reasoning" and not item.deltas:
            text = _summary_text(raw)
            if text:
                item.deltas.append(text)
                events.append(ThinkingChunk(text))
        return events

    def _ended(self, event: Any) -> list[StreamEvent]:
        """`response.completed` or `response.incomplete`: the end either way. Items
        that never had an `output_item.done` are taken from the response's output."""
        self.response = sdk_field(event, "response")
        ended = sdk_field(event, "type")
        self.status = "incomplete" if ended == "response.incomplete" else "completed"
        self._created(event)
        events: list[StreamEvent] = []
        for index, raw in enumerate(sdk_field(self.response, "output", []) or []):
            item = self.items.get(index)
            if item is None:
                item = self.items[index] = _Item(index, sdk_field(raw, "type", ""))
            if item.done is None:
                events.extend(self._finish_item(item, raw))
        return events

    def message(self) -> Msg:
        if self.status is None:
            raise ModelError(
                "stream_cut",
                f"The response from {self.model_name} ended before it was finished "
                "(no response.completed). Try again.",
                model=self.model_name,
            )
        content: list[Block] = []
        for index in sorted(self.items):
            content.extend(self._block(self.items[index]))
        has_calls = any(isinstance(b, ToolUseBlock) for b in content)
        reason = sdk_field(sdk_field(self.response, "incomplete_details"), "reason")
        meta: dict[str, Any] = {"raw_stop_reason": self.status}
        if reason:
            meta["incomplete_reason"] = reason
        return Msg(
            "assistant",
            tuple(content),
            id=self.id,
            model=self.model,
            stop_reason=responses_stop_reason(self.status, reason, has_calls),
            usage=responses_usage(sdk_field(self.response, "usage")),
            meta=meta,
        )

    def _block(self, item: _Item) -> list[Block]:
        raw = item.done
        if item.type == "message":
            text = _message_text(raw) or "".join(item.deltas)
            return [TextBlock(text)] if text else []
        if item.type == "reasoning":
            return [_thinking_block(item, self.provider)]
        if item.type == "function_call":
            return [_tool_use(item)]
        return []


def _message_text(raw: Any) -> str:
    parts = sdk_field(raw, "content", []) or []
    return "".join(
        sdk_field(p, "text", "") or sdk_field(p, "refusal", "")
        for p in parts
        if sdk_field(p, "type") in ("output_text", "refusal")
    )


def _summary_text(raw: Any) -> str:
    return "\n\n".join(sdk_field(s, "text", "") for s in sdk_field(raw, "summary", []) or [])


def _thinking_block(item: _Item, provider: str) -> ThinkingBlock:
    """A reasoning item, kept even with no summary: its encrypted content is what lets
    the next turn continue the same reasoning."""
    raw = item.done
    summary = [
        {"type": "summary_text", "text": sdk_field(s, "text", "")}
        for s in (sdk_field(raw, "summary", []) or [])
    ]
    text = _summary_text(raw) if summary else "".join(item.deltas)
    data = {
        "id": sdk_field(raw, "id", item.id),
        "encrypted_content": sdk_field(raw, "encrypted_content"),
        "summary": summary,
    }
    return ThinkingBlock(text, provider=provider, provider_data=data)


def _tool_use(item: _Item) -> ToolUseBlock:
    raw = item.done
    arguments_text = sdk_field(raw, "arguments")
    if arguments_text is None:
        arguments_text = "".join(item.deltas)
    arguments, error = parse_tool_arguments(arguments_text)
    return ToolUseBlock(
        id=sdk_field(raw, "call_id") or item.id or "",
        name=sdk_field(raw, "name", ""),
        input=arguments,
        raw_arguments=arguments_text if error else None,
        input_error=error,
        provider_data={"item_id": sdk_field(raw, "id", item.id)},
    )


def _failed(acc: ResponsesAccumulator, event: Any) -> list[StreamEvent]:
    error = sdk_field(sdk_field(event, "response"), "error")
    raise stream_error(error, "response.failed", acc.provider, acc.model_name)


def _error_event(acc: ResponsesAccumulator, event: Any) -> list[StreamEvent]:
    body = sdk_field(event, "error") or {
        "code": sdk_field(event, "code"),
        "message": sdk_field(event, "message", "error event"),
    }
    raise stream_error(body, "error event", acc.provider, acc.model_name)


def responses_usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    total_in = int(sdk_field(usage, "input_tokens", 0))
    cached = int(sdk_field(sdk_field(usage, "input_tokens_details"), "cached_tokens", 0))
    reasoning = sdk_field(sdk_field(usage, "output_tokens_details"), "reasoning_tokens", 0)
    return Usage(
        input_tokens=max(0, total_in - cached),
        output_tokens=int(sdk_field(usage, "output_tokens", 0)),
        cache_read_tokens=cached,
        reasoning_tokens=int(reasoning),
    )


_HANDLERS: dict[str, Callable[[ResponsesAccumulator, Any], list[StreamEvent]]] = {
    "response.created": ResponsesAccumulator._created,
    "response.in_progress": ResponsesAccumulator._created,
    "response.output_item.added": ResponsesAccumulator._added,
    "response.output_text.delta": ResponsesAccumulator._text,
    "response.refusal.delta": ResponsesAccumulator._text,
    "response.reasoning_summary_text.delta": ResponsesAccumulator._thinking,
    "response.reasoning_text.delta": ResponsesAccumulator._thinking,
    "response.function_call_arguments.delta": ResponsesAccumulator._arguments,
    "response.output_item.done": ResponsesAccumulator._item_done,
    "response.completed": ResponsesAccumulator._ended,
    "response.incomplete": ResponsesAccumulator._ended,
    "response.failed": _failed,
    "error": _error_event,
}


# -- the model ----------------------------------------------------------------------------


class OpenAIResponsesModel(OpenAIModelBase):
    """A model behind `/responses` (default provider "openai")."""

    default_provider = "openai"

    async def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        client = self.client()
        params = responses_params(request, self.model_id, self.provider)
        try:
            sdk_stream = await client.post(
                "/responses",
                body=params,
                cast_to=object,
                stream=True,
                stream_cls=_event_stream_class(),
            )
        except Exception as exc:
            error = self.model_error(exc, streaming=False)
            if error is None or error is exc:
                raise
            raise error from exc
        acc = ResponsesAccumulator(self.provider, self.name)
        try:
            async for event in sdk_stream:
                for out in acc.feed(event):
                    yield out
                if acc.status is not None:
                    break
        except Exception as exc:
            error = self.model_error(exc, streaming=True)
            if error is None or error is exc:
                raise
            raise error from exc
        finally:
            await sdk_stream.close()
        yield Completed(acc.message())


def _event_stream_class() -> Any:
    """The SDK's async SSE stream, yielding each event as a dict."""
    import openai

    return openai.AsyncStream[dict[str, Any]]
