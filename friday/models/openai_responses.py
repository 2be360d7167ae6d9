"""OpenAI Responses adapter (`/responses`), stateless: `store: False`, and the whole
conversation is sent every turn.

Reasoning survives between turns only as encrypted reasoning items, which the API
returns when asked (`include: ["reasoning.encrypted_content"]`) and which are replayed
from `ThinkingBlock.provider_data`; the request body is built in
`friday.models.openai_responses_request`.

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
    Msg,
    TextBlock,
    ThinkingBlock,
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
from friday.models.openai_common import OpenAIModelBase, responses_stop_reason, stream_error
from friday.models.openai_responses_request import responses_params
from friday.models.wire import sdk_field

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
    events: int = 0

    def feed(self, event: Any) -> list[StreamEvent]:
        self.events += 1
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
    # Whether to ask reasoning models for summaries; off for good once refused.
    summaries = True

    async def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        client = self.client()
        sdk_stream = await self._open(client, request)
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
        if acc.events == 0:
            error = self.not_an_event_stream(sdk_stream, client)
            if error is not None:
                raise error
        yield Completed(acc.message())

    async def _open(self, client: Any, request: Request) -> Any:
        """The event stream for `request`. OpenAI refuses reasoning summaries to an
        organization that is not verified, with a 400 on every request; the request
        then goes once more without them, and so do this model's later ones (the
        encrypted reasoning still carries over, only nothing is shown of it)."""
        params = responses_params(request, self.model_id, self.provider, summaries=self.summaries)
        try:
            return await self._post(client, params)
        except ModelError as error:
            if not (self.summaries and "reasoning" in params and _summaries_refused(error)):
                raise
        self.summaries = False
        params = responses_params(request, self.model_id, self.provider, summaries=False)
        return await self._post(client, params)

    async def _post(self, client: Any, params: dict[str, Any]) -> Any:
        try:
            return await client.post(
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


def _summaries_refused(error: ModelError) -> bool:
    """Whether a 400 names `reasoning.summary` as the parameter it refused."""
    body = getattr(error.__cause__, "body", None)
    return error.status == 400 and sdk_field(body, "param") == "reasoning.summary"


def _event_stream_class() -> Any:
    """The SDK's async SSE stream, yielding each event as a dict."""
    import openai

    return openai.AsyncStream[dict[str, Any]]
