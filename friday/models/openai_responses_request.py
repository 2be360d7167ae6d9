"""The request body of the OpenAI Responses adapter: Friday's conversation as input
items (reasoning items replayed from `ThinkingBlock.provider_data`), tools, and the
reasoning parameters a model accepts.
"""

from __future__ import annotations

import re
from typing import Any

from friday.messages import ImageBlock, Msg, TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock
from friday.models.base import Request
from friday.models.openai_common import data_url, tool_arguments_json

# Model ids of OpenAI's reasoning models (a gateway may put "openai/" in front).
# gpt-5-chat is GPT-5's non-reasoning variant and refuses the `reasoning` parameter.
_REASONING_MODEL = re.compile(r"^(?:.*/)?(?!gpt-5-chat)(?:gpt-5|o1|o3|o4|codex)", re.IGNORECASE)


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


def is_reasoning_model(model_id: str) -> bool:
    """Whether `model_id` takes the `reasoning` parameter (by id: the API has no way to
    ask, and a model that does not take it fails the whole request)."""
    return _REASONING_MODEL.match(model_id) is not None


def responses_params(
    request: Request, model_id: str, provider: str, *, summaries: bool = True
) -> dict[str, Any]:
    """The request body for `/responses`. `provider` picks which reasoning items can
    be replayed.

    A reasoning model is always asked for its encrypted reasoning, thinking budget or
    not: with `store: False` that is the only way its reasoning survives to the next
    turn of a tool loop. It is asked for summaries too (to show), unless `summaries`
    is off because the organization may not get them. Other models get neither: they
    reject the `reasoning` parameter."""
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
    if is_reasoning_model(model_id):
        reasoning: dict[str, Any] = {"summary": "auto"} if summaries else {}
        if request.thinking is not None:
            reasoning["effort"] = request.thinking.get("effort", "medium")
        if reasoning:
            params["reasoning"] = reasoning
        params["include"] = ["reasoning.encrypted_content"]
    if request.cache_key:
        params["prompt_cache_key"] = request.cache_key
    return params
