"""OpenAI Chat Completions adapter, which also serves every OpenAI-compatible server
(Ollama, vLLM, DeepSeek, Qwen, Moonshot, OpenRouter, Groq, ...) through `base_url`.

Compatible servers differ in the details the official API does not cover, and this
module tolerates all the ones seen in recordings: reasoning in `delta.reasoning_content`
(DeepSeek, Qwen, Z.ai) or `delta.reasoning` (OpenRouter, Groq, vLLM) with a duplicate in
`reasoning_details` that is ignored (the reasoning goes back to the same provider
under the field it came in); usage on the final `choices: []` chunk or on the
finish chunk; a finish_reason sent twice; SSE comment lines; an `error` inside a 200
stream. Stop reasons are normalised as `friday.models.openai_common` describes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

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
    chat_stop_reason,
    data_url,
    tool_arguments_json,
)
from friday.models.wire import sdk_field

# The fields compatible servers stream reasoning in; the first is DeepSeek's and the
# default when a stored thinking block does not say which one it came in.
REASONING_FIELDS = ("reasoning_content", "reasoning")

# -- request ------------------------------------------------------------------------------


def chat_messages(system: str, messages: tuple[Msg, ...], provider: str) -> list[dict[str, Any]]:
    """Friday's conversation as Chat Completions messages. `provider` picks the
    thinking that is sent back (see `_reasoning_back`)."""
    out: list[dict[str, Any]] = []
    if system:
        out.append({"role": "system", "content": system})
    for msg in messages:
        if msg.role == "assistant":
            out.append(_assistant_message(msg, provider))
        else:
            out.extend(_user_messages(msg))
    return out


def _assistant_message(msg: Msg, provider: str) -> dict[str, Any]:
    text = "".join(b.text for b in msg.content if isinstance(b, TextBlock))
    calls = [
        {
            "id": b.id,
            "type": "function",
            "function": {
                "name": b.name,
                "arguments": tool_arguments_json(b.raw_arguments, b.input),
            },
        }
        for b in msg.content
        if isinstance(b, ToolUseBlock)
    ]
    out: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else None}
    out.update(_reasoning_back(msg, provider))
    if calls:
        out["tool_calls"] = calls
    return out


def _reasoning_back(msg: Msg, provider: str) -> dict[str, str]:
    """The reasoning of a past assistant message, under the field it arrived in.
    DeepSeek and Moonshot in thinking mode answer 400 when a tool loop's next request
    lacks it. Only this provider's own reasoning goes back: a server that never sent
    the field may reject it (Groq and Cerebras refuse `reasoning_content`)."""
    blocks = [
        b
        for b in msg.content
        if isinstance(b, ThinkingBlock) and b.provider == provider and b.thinking
    ]
    if not blocks:
        return {}
    name = (blocks[0].provider_data or {}).get("reasoning_field")
    if name not in REASONING_FIELDS:
        name = REASONING_FIELDS[0]
    return {name: "".join(b.thinking for b in blocks)}


def _user_messages(msg: Msg) -> list[dict[str, Any]]:
    """Tool results first (each a `tool` message that must directly follow the call),
    then the user's own text and images. Images a tool returned cannot go in a `tool`
    message, so they follow in a user message that says where they came from."""
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in msg.content:
        if isinstance(block, ToolResultBlock):
            out.append(_tool_message(block))
            images = _tool_images(block)
            if images:
                note = f"Images returned by tool call {block.tool_use_id}:"
                parts.extend([{"type": "text", "text": note}, *images])
        elif isinstance(block, TextBlock):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append(_image_part(block))
    if parts:
        only_text = all(p["type"] == "text" for p in parts)
        content: Any = "\n\n".join(p["text"] for p in parts) if only_text else parts
        out.append({"role": "user", "content": content})
    return out


def _tool_message(block: ToolResultBlock) -> dict[str, Any]:
    text = block.text
    if block.is_error:
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": block.tool_use_id, "content": text}


def _tool_images(block: ToolResultBlock) -> list[dict[str, Any]]:
    if isinstance(block.content, str):
        return []
    return [_image_part(b) for b in block.content if isinstance(b, ImageBlock)]


def _image_part(block: ImageBlock) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": data_url(block.media_type, block.data)}}


def is_openai_api(base_url: str) -> bool:
    """Whether requests go to OpenAI's own API. Decided by the URL actually used, not
    by the provider's name: `openai-chat:` with OPENAI_BASE_URL set talks to vLLM,
    Ollama or a gateway."""
    return (urlsplit(str(base_url)).hostname or "").lower() == "api.openai.com"


def chat_params(request: Request, model_id: str, provider: str, base_url: str) -> dict[str, Any]:
    """Keyword arguments for `client.chat.completions.create`. OpenAI's own API wants
    `max_completion_tokens` (its reasoning models reject `max_tokens`); compatible
    servers know `max_tokens`. `prompt_cache_key` goes only to OpenAI: other servers
    may reject fields they do not know."""
    openai_api = is_openai_api(base_url)
    params: dict[str, Any] = {
        "model": model_id,
        "messages": chat_messages(request.system, request.messages, provider),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if openai_api:
        params["max_completion_tokens"] = request.max_tokens
    else:
        params["max_tokens"] = request.max_tokens
    if request.tools:
        params["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                },
            }
            for t in request.tools
        ]
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if request.cache_key and openai_api:
        params["extra_body"] = {"prompt_cache_key": request.cache_key}
    return params


# -- response -----------------------------------------------------------------------------


@dataclass
class _Call:
    position: int
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)


@dataclass
class ChatAccumulator:
    """Folds chunks into the assistant message, yielding display events as it goes."""

    provider: str
    id: str | None = None
    model: str | None = None
    text: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    calls: list[_Call] = field(default_factory=list)
    open_calls: dict[int, _Call] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Any = None
    reasoning_field: str | None = None
    chunks: int = 0

    def feed(self, chunk: Any) -> list[StreamEvent]:
        self.chunks += 1
        self.id = self.id or sdk_field(chunk, "id")
        self.model = self.model or sdk_field(chunk, "model")
        usage = sdk_field(chunk, "usage")
        if usage is not None:
            self.usage = usage
        events: list[StreamEvent] = []
        for choice in sdk_field(chunk, "choices", []):
            if sdk_field(choice, "index", 0) != 0:
                continue
            self.finish_reason = self.finish_reason or sdk_field(choice, "finish_reason")
            delta = sdk_field(choice, "delta")
            if delta is not None:
                events.extend(self._delta(delta))
        return events

    def _delta(self, delta: Any) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        source, reasoning = _reasoning_text(delta)
        if reasoning:
            self.reasoning_field = self.reasoning_field or source
            self.thinking.append(reasoning)
            events.append(ThinkingChunk(reasoning))
        for name in ("content", "refusal"):
            text = sdk_field(delta, name)
            if isinstance(text, str) and text:
                self.text.append(text)
                events.append(TextChunk(text))
        for call_delta in sdk_field(delta, "tool_calls", []) or []:
            events.extend(self._tool_call(call_delta))
        return events

    def _tool_call(self, delta: Any) -> list[StreamEvent]:
        """A call's id and name come on the first chunk of its `index`, fragments of
        the arguments on the later ones. A server that omits `index`, or reuses one for
        a call with a new id, still gets one call per id."""
        fn = sdk_field(delta, "function")
        call_id = sdk_field(delta, "id")
        index = sdk_field(delta, "index", -1)
        call = self.open_calls.get(index)
        events: list[StreamEvent] = []
        if call is None or (call_id and call.id != call_id):
            call_id = call_id or f"call_{uuid.uuid4().hex[:24]}"
            call = _Call(len(self.calls), call_id, sdk_field(fn, "name", ""))
            self.calls.append(call)
            self.open_calls[index] = call
            events.append(ToolCallBegan(call.position, call.id, call.name))
        elif not call.name:
            call.name = sdk_field(fn, "name", "")
        fragment = sdk_field(fn, "arguments", "")
        if fragment:
            call.arguments.append(fragment)
            events.append(ToolCallArgs(call.position, fragment))
        return events

    def message(self, model_name: str) -> Msg:
        if self.finish_reason is None:
            raise ModelError(
                "stream_cut",
                f"The response from {model_name} ended before it was finished "
                "(no finish_reason). Try again.",
                model=model_name,
            )
        content: list[Block] = []
        if self.thinking:
            # The field is kept so the reasoning goes back under the name it came in.
            data = {"reasoning_field": self.reasoning_field or REASONING_FIELDS[0]}
            thinking = "".join(self.thinking)
            content.append(ThinkingBlock(thinking, provider=self.provider, provider_data=data))
        if self.text:
            content.append(TextBlock("".join(self.text)))
        content.extend(_tool_use(call) for call in self.calls)
        has_calls = bool(self.calls)
        return Msg(
            "assistant",
            tuple(content),
            id=self.id,
            model=self.model,
            stop_reason=chat_stop_reason(self.finish_reason, has_calls),
            usage=chat_usage(self.usage),
            meta={"raw_stop_reason": self.finish_reason},
        )


def _reasoning_text(delta: Any) -> tuple[str, str]:
    """(field, reasoning) from `reasoning_content` or `reasoning`, never both: servers
    that fill one of them also mirror it in `reasoning_details`, which is not read."""
    for name in REASONING_FIELDS:
        value = sdk_field(delta, name)
        if isinstance(value, str) and value:
            return name, value
    return "", ""


def _tool_use(call: _Call) -> ToolUseBlock:
    raw = "".join(call.arguments)
    arguments, error = parse_tool_arguments(raw)
    return ToolUseBlock(
        id=call.id,
        name=call.name,
        input=arguments,
        raw_arguments=raw if error else None,
        input_error=error,
    )


def chat_usage(usage: Any) -> Usage | None:
    """Usage with the cached prompt split out: `prompt_tokens_details.cached_tokens`
    (OpenAI) or `prompt_cache_hit_tokens` (DeepSeek)."""
    if usage is None:
        return None
    prompt = int(sdk_field(usage, "prompt_tokens", 0))
    cached = sdk_field(sdk_field(usage, "prompt_tokens_details"), "cached_tokens", 0)
    cached = int(cached or sdk_field(usage, "prompt_cache_hit_tokens", 0))
    reasoning = sdk_field(sdk_field(usage, "completion_tokens_details"), "reasoning_tokens", 0)
    return Usage(
        input_tokens=max(0, prompt - cached),
        output_tokens=int(sdk_field(usage, "completion_tokens", 0)),
        cache_read_tokens=cached,
        reasoning_tokens=int(reasoning),
    )


# -- the model ----------------------------------------------------------------------------


class OpenAIChatModel(OpenAIModelBase):
    """A model behind `/chat/completions`. `provider` names the server in errors,
    in `name`, and on the thinking it produces (default "openai-chat")."""

    default_provider = "openai-chat"

    async def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        client = self.client()
        params = chat_params(request, self.model_id, self.provider, str(client.base_url))
        try:
            sdk_stream = await client.chat.completions.create(**params)
        except Exception as exc:
            error = self.model_error(exc, streaming=False)
            if error is None or error is exc:
                raise
            raise error from exc
        acc = ChatAccumulator(self.provider)
        try:
            async for chunk in sdk_stream:
                for event in acc.feed(chunk):
                    yield event
        except Exception as exc:
            error = self.model_error(exc, streaming=True)
            if error is None or error is exc:
                raise
            raise error from exc
        finally:
            await sdk_stream.close()
        if acc.chunks == 0:
            error = self.not_an_event_stream(sdk_stream, client)
            if error is not None:
                raise error
        yield Completed(acc.message(self.name))
