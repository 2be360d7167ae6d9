"""Tools as data: declared once, with a JSON schema derived from type hints and docstring.

    @tool(read_only=True)
    async def read_file(ctx: ToolContext, path: str, limit: int = 2000) -> str:
        '''Read a file.

        Args:
            path: the file to read, relative to the workspace.
            limit: how many lines at most.
        '''

The first parameter is the `ToolContext`; the others become the schema. A tool returns a
string (or a `ToolOutput` for images and error flags); raising `ToolError` gives the
model an error result with that message.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from friday.messages import ImageBlock, TextBlock
from friday.models.base import ToolSpec


class ToolError(Exception):
    """A failure the model should see as an error result (not a crash)."""


@dataclass(frozen=True, slots=True)
class ToolOutput:
    content: str | tuple[TextBlock | ImageBlock, ...]
    is_error: bool = False


@dataclass
class ToolContext:
    """What a running tool (and a tool hook) may use. `emit` streams output text as
    `tool.output_delta`; `emit_event(EventClass, **payload)` emits any other event."""

    cwd: Path
    call_id: str = ""
    emit: Callable[[str], None] = lambda _text: None
    emit_event: Callable[..., None] = lambda _cls, **_payload: None
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    # The agent's turn number (model calls so far in the session), for "as of step N".
    step: int = 0
    # Facts about this call for the `tool.finished` event (not for the model), e.g. a
    # diff for the UI, or that a read was answered from the read cache.
    meta: dict[str, Any] = field(default_factory=dict)
    # Session services from later layers (read cache, approval gate); may be None.
    file_state: Any = None
    approvals: Any = None


ToolFn = Callable[..., Awaitable[str | ToolOutput]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    fn: ToolFn
    read_only: bool = False

    @property
    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        problem = validate(self.parameters, args)
        if problem:
            raise ToolError(f"invalid arguments for {self.name}: {problem}")
        # `null` for an optional argument means "left out": the declared default applies.
        required = self.parameters.get("required", [])
        args = {k: v for k, v in args.items() if v is not None or k in required}
        out = await self.fn(ctx, **args)
        return out if isinstance(out, ToolOutput) else ToolOutput(str(out))


def tool(fn: ToolFn | None = None, *, name: str | None = None, read_only: bool = False) -> Any:
    """Make a `Tool` from an async function (see the module docstring)."""

    def wrap(f: ToolFn) -> Tool:
        if not inspect.iscoroutinefunction(f):
            raise TypeError(f"tool {f.__name__} must be an async function")
        summary, arg_docs = _parse_docstring(inspect.getdoc(f) or "")
        return Tool(
            name=name or f.__name__,
            description=summary,
            parameters=schema_for(f, arg_docs),
            fn=f,
            read_only=read_only,
        )

    return wrap(fn) if fn is not None else wrap


class ToolRegistry:
    """Tools by name, in a stable order (the order of the request's tool list must not
    change between requests, or provider prompt caches miss)."""

    def __init__(self, tools: list[Tool] | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        for t in tools or []:
            self.add(t)

    def add(self, t: Tool) -> None:
        if t.name in self._tools:
            raise ValueError(f"a tool named {t.name!r} is already registered")
        self._tools[t.name] = t

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return sorted(self._tools)

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(self._tools[n].spec for n in self.names())

    def __len__(self) -> int:
        return len(self._tools)


# -- schema from type hints ----------------------------------------------------------------


def schema_for(fn: Callable[..., Any], arg_docs: dict[str, str]) -> dict[str, Any]:
    hints = typing.get_type_hints(fn)
    params = list(inspect.signature(fn).parameters.values())[1:]  # skip ctx
    properties: dict[str, Any] = {}
    required: list[str] = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TypeError(f"tool {fn.__name__}: *args/**kwargs are not supported")
        prop = _type_schema(hints.get(p.name, str))
        if p.name in arg_docs:
            prop["description"] = arg_docs[p.name]
        if p.default is inspect.Parameter.empty:
            required.append(p.name)
        elif p.default is not None:
            prop["default"] = p.default
        properties[p.name] = prop
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


_SIMPLE = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _type_schema(hint: Any) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint in _SIMPLE:
        return {"type": _SIMPLE[hint]}
    if origin in (types.UnionType, typing.Union):
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1:
            return _type_schema(non_none[0])
        return {"anyOf": [_type_schema(a) for a in non_none]}
    if origin is Literal:
        return {"type": _SIMPLE[type(args[0])], "enum": list(args)}
    if origin is list or hint is list:
        return {"type": "array", "items": _type_schema(args[0]) if args else {}}
    if origin is dict or hint is dict:
        return {"type": "object"}
    raise TypeError(f"unsupported tool parameter type: {hint!r}")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Google-style: the text before `Args:` is the description; `name: text` lines
    under it (with indented continuations) document the arguments."""
    parts = re.split(r"^\s*Args:\s*$", doc, maxsplit=1, flags=re.MULTILINE)
    summary = parts[0].strip()
    arg_docs: dict[str, str] = {}
    if len(parts) == 2:
        current = None
        arg_indent: int | None = None
        for line in parts[1].splitlines():
            if not line.strip():
                continue
            indent = len(line) - len(line.lstrip())
            if arg_indent is None:
                arg_indent = indent
            if indent < arg_indent:
                break  # the next section (Returns:, Raises:, ...)
            m = re.match(r"(\w+)\s*(?:\(.*?\))?:\s*(.*)$", line.strip())
            if indent == arg_indent and m:
                current = m.group(1)
                arg_docs[current] = m.group(2).strip()
            elif current:
                arg_docs[current] += " " + line.strip()
    return summary, arg_docs


# -- validation of model-supplied arguments --------------------------------------------------

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def validate(schema: dict[str, Any], value: Any, where: str = "") -> str | None:  # noqa: PLR0911
    """Check `value` against the subset of JSON schema `schema_for` produces. Returns a
    one-line description of the first problem, or None."""
    label = where or "arguments"
    if "anyOf" in schema:
        if all(validate(s, value, where) for s in schema["anyOf"]):
            return f"{label} does not match any allowed type"
        return None
    expected = schema.get("type")
    if expected:
        ok = isinstance(value, _PY_TYPES[expected])
        if expected in ("integer", "number") and isinstance(value, bool):
            ok = False
        if not ok:
            return f"{label} must be {expected}, got {type(value).__name__}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{label} must be one of {schema['enum']}, got {value!r}"
    if expected == "array" and "items" in schema:
        for i, item in enumerate(value):
            problem = validate(schema["items"], item, f"{label}[{i}]")
            if problem:
                return problem
    if expected == "object" and "properties" in schema:
        return _validate_object(schema, value, where)
    return None


def _validate_object(schema: dict[str, Any], value: dict[str, Any], where: str) -> str | None:
    props = schema["properties"]
    if schema.get("additionalProperties") is False:
        unknown = sorted(set(value) - set(props))
        if unknown:
            return f"unknown argument(s): {', '.join(unknown)} (allowed: {', '.join(props)})"
    missing = [k for k in schema.get("required", []) if k not in value]
    if missing:
        return f"missing required argument(s): {', '.join(missing)}"
    for k, v in value.items():
        if v is None and k not in schema.get("required", []):
            continue  # an optional argument left out explicitly
        problem = validate(props.get(k, {}), v, f"{where}{k}")
        if problem:
            return problem
    return None
