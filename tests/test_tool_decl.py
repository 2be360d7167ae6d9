"""Tool declarations: the schema the model sees is derived from the function's type hints
and docstring, and the arguments the model sends are checked against it before the tool
runs, so a wrong call becomes an error result the model can read and correct."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

import pytest

from friday.messages import ImageBlock, TextBlock
from friday.models.base import ToolSpec
from friday.tools.base import (
    Tool,
    ToolContext,
    ToolError,
    ToolOutput,
    ToolRegistry,
    tool,
    validate,
)


@tool(read_only=True)
async def search(
    ctx: ToolContext,
    pattern: str,
    max_results: int,
    threshold: float = 0.5,
    ignore_case: bool = False,
    globs: list[str] | None = None,
    mode: Literal["content", "files", "count"] = "content",
    path: Optional[str] = None,  # noqa: UP045 - the typing.Optional spelling must work too
    options: dict | None = None,
    env: dict[str, Any] | None = None,
) -> str:
    """Search file contents with a regular expression.

    Results are sorted by path.

    Args:
        pattern: the regular expression to look for.
        max_results: stop after this many matches; the model
            should keep it small, since every match costs
            tokens.
        threshold (float): minimum score.
        ignore_case: match without regard to case.
        globs: only files matching one of these globs.
        mode: what to return.
        path: folder to search in, relative to the workspace.
        options: extra settings.
        env: environment overrides.
    """
    return f"{pattern}|{max_results}|{threshold}|{ignore_case}|{globs}|{mode}|{path}"


def test_tool_metadata() -> None:
    assert isinstance(search, Tool)
    assert search.name == "search"
    assert search.read_only is True
    assert search.description == (
        "Search file contents with a regular expression.\n\nResults are sorted by path."
    )


def test_schema_from_type_hints_and_docstring() -> None:
    assert search.parameters == {
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "description": "the regular expression to look for."},
            "max_results": {
                "type": "integer",
                "description": "stop after this many matches; the model should keep it small, "
                "since every match costs tokens.",
            },
            "threshold": {"type": "number", "description": "minimum score.", "default": 0.5},
            "ignore_case": {
                "type": "boolean",
                "description": "match without regard to case.",
                "default": False,
            },
            "globs": {
                "type": "array",
                "items": {"type": "string"},
                "description": "only files matching one of these globs.",
            },
            "mode": {
                "type": "string",
                "enum": ["content", "files", "count"],
                "description": "what to return.",
                "default": "content",
            },
            "path": {
                "type": "string",
                "description": "folder to search in, relative to the workspace.",
            },
            "options": {"type": "object", "description": "extra settings."},
            "env": {"type": "object", "description": "environment overrides."},
        },
        "required": ["pattern", "max_results"],
        "additionalProperties": False,
    }


def test_property_order_follows_the_signature() -> None:
    assert list(search.parameters["properties"]) == [
        "pattern",
        "max_results",
        "threshold",
        "ignore_case",
        "globs",
        "mode",
        "path",
        "options",
        "env",
    ]


def test_spec_carries_name_description_schema() -> None:
    assert search.spec == ToolSpec("search", search.description, search.parameters)


def test_tool_without_args_or_docstring() -> None:
    @tool
    async def ping(ctx: ToolContext) -> str:
        return "pong"

    assert ping.name == "ping"
    assert ping.description == ""
    assert ping.read_only is False
    assert ping.parameters == {"type": "object", "properties": {}, "additionalProperties": False}


def test_name_override_and_unannotated_arg_is_string() -> None:
    @tool(name="web.fetch")
    async def fetch(ctx, url):  # type: ignore[no-untyped-def]
        """Fetch a page."""
        return url

    assert fetch.name == "web.fetch"
    assert fetch.description == "Fetch a page."
    assert fetch.parameters["properties"] == {"url": {"type": "string"}}
    assert fetch.parameters["required"] == ["url"]


def test_sections_after_args_do_not_leak_into_descriptions() -> None:
    @tool
    async def read(ctx: ToolContext, path: str) -> str:
        """Read a file.

        Args:
            path: the file to read.

        Returns:
            the text, numbered.
        """
        return path

    assert read.description == "Read a file."
    assert read.parameters["properties"]["path"]["description"] == "the file to read."


def test_continuation_line_with_a_colon_stays_with_its_argument() -> None:
    """A continuation line that happens to start with `Word:` is still a continuation
    (it is indented deeper than the argument names), not a new argument."""

    @tool
    async def open_file(ctx: ToolContext, mode: str, path: str) -> str:
        """Open a file.

        Args:
            mode: how to open it.
                Note: binary mode is not supported.
            path: the file.
        """
        return path

    props = open_file.parameters["properties"]
    assert props["mode"]["description"] == "how to open it. Note: binary mode is not supported."
    assert props["path"]["description"] == "the file."


def test_literal_of_ints_is_an_integer_enum() -> None:
    @tool
    async def level(ctx: ToolContext, n: Literal[1, 2, 3]) -> str:
        return str(n)

    assert level.parameters["properties"]["n"] == {"type": "integer", "enum": [1, 2, 3]}


def test_non_async_function_is_rejected() -> None:
    def plain(ctx: ToolContext, x: str) -> str:
        return x

    with pytest.raises(TypeError, match="plain must be an async function"):
        tool(plain)
    with pytest.raises(TypeError, match="async"):
        tool(read_only=True)(plain)


def test_var_kwargs_are_rejected() -> None:
    async def loose(ctx: ToolContext, **kwargs: str) -> str:
        return ""

    with pytest.raises(TypeError, match=r"\*\*kwargs"):
        tool(loose)


def test_unsupported_type_is_rejected() -> None:
    async def odd(ctx: ToolContext, when: Path) -> str:
        return ""

    with pytest.raises(TypeError, match="unsupported tool parameter type"):
        tool(odd)


# -- validate ---------------------------------------------------------------------------

SCHEMA = search.parameters


def test_valid_arguments_pass() -> None:
    assert validate(SCHEMA, {"pattern": "foo", "max_results": 3}) is None
    assert (
        validate(
            SCHEMA,
            {
                "pattern": "foo",
                "max_results": 3,
                "threshold": 1,  # an int is a valid number
                "ignore_case": True,
                "globs": ["*.py", "*.md"],
                "mode": "files",
                "path": "src",
                "options": {"a": 1},
                "env": {},
            },
        )
        is None
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"pattern": 3, "max_results": 1}, "pattern must be string, got int"),
        ({"pattern": "x", "max_results": "10"}, "max_results must be integer, got str"),
        ({"pattern": "x", "max_results": 1.5}, "max_results must be integer, got float"),
        ({"pattern": "x", "max_results": True}, "max_results must be integer, got bool"),
        ({"pattern": "x", "max_results": 1, "threshold": False}, "threshold must be number"),
        ({"pattern": "x", "max_results": 1, "ignore_case": 1}, "ignore_case must be boolean"),
        ({"pattern": "x", "max_results": 1, "globs": "*.py"}, "globs must be array, got str"),
        ({"pattern": "x", "max_results": 1, "options": []}, "options must be object, got list"),
        (
            {"pattern": "x", "max_results": 1, "mode": "lines"},
            "mode must be one of ['content', 'files', 'count'], got 'lines'",
        ),
        (
            {"pattern": "x", "max_results": 1, "globs": ["a", 2, "c"]},
            "globs[1] must be string, got int",
        ),
    ],
)
def test_invalid_arguments_are_described(args: dict[str, Any], message: str) -> None:
    problem = validate(SCHEMA, args)
    assert problem is not None
    assert message in problem


def test_missing_required_arguments_are_named() -> None:
    assert validate(SCHEMA, {}) == "missing required argument(s): pattern, max_results"
    assert validate(SCHEMA, {"pattern": "x"}) == "missing required argument(s): max_results"


def test_unknown_argument_names_the_allowed_ones() -> None:
    problem = validate(SCHEMA, {"pattern": "x", "max_results": 1, "regex": "y", "limit": 2})
    assert problem == (
        "unknown argument(s): limit, regex (allowed: pattern, max_results, threshold, "
        "ignore_case, globs, mode, path, options, env)"
    )


def test_none_for_an_optional_argument_is_accepted() -> None:
    args = {"pattern": "x", "max_results": 1, "path": None, "globs": None, "env": None}
    assert validate(SCHEMA, args) is None


def test_none_for_a_required_argument_is_rejected() -> None:
    assert validate(SCHEMA, {"pattern": None, "max_results": 1}) == (
        "pattern must be string, got NoneType"
    )


def test_arguments_must_be_an_object() -> None:
    assert validate(SCHEMA, ["x"]) == "arguments must be object, got list"


def test_any_of_for_a_union() -> None:
    @tool
    async def pick(ctx: ToolContext, key: str | int) -> str:
        return str(key)

    assert pick.parameters["properties"]["key"] == {
        "anyOf": [{"type": "string"}, {"type": "integer"}]
    }
    assert validate(pick.parameters, {"key": "a"}) is None
    assert validate(pick.parameters, {"key": 3}) is None
    assert validate(pick.parameters, {"key": 1.5}) == "key does not match any allowed type"


# -- Tool.run ---------------------------------------------------------------------------


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(cwd=tmp_path, call_id="call_1")


async def test_run_wraps_a_plain_string(ctx: ToolContext) -> None:
    out = await search.run({"pattern": "foo", "max_results": 2, "ignore_case": True}, ctx)
    assert out == ToolOutput("foo|2|0.5|True|None|content|None")
    assert out.is_error is False


async def test_run_raises_tool_error_on_invalid_arguments(ctx: ToolContext) -> None:
    with pytest.raises(ToolError) as info:
        await search.run({"pattern": "foo", "max_results": "2"}, ctx)
    assert str(info.value) == ("invalid arguments for search: max_results must be integer, got str")


async def test_run_does_not_call_the_function_on_invalid_arguments(ctx: ToolContext) -> None:
    calls: list[dict[str, Any]] = []

    @tool
    async def record(ctx: ToolContext, n: int) -> str:
        calls.append({"n": n})
        return "ok"

    with pytest.raises(ToolError, match="missing required argument"):
        await record.run({}, ctx)
    with pytest.raises(ToolError, match=r"unknown argument\(s\): m \(allowed: n\)"):
        await record.run({"n": 1, "m": 2}, ctx)
    assert calls == []
    assert await record.run({"n": 1}, ctx) == ToolOutput("ok")
    assert calls == [{"n": 1}]


async def test_run_passes_context_and_keeps_tool_output(ctx: ToolContext) -> None:
    seen: list[ToolContext] = []
    image = ToolOutput((TextBlock("shot"), ImageBlock("image/png", "AAAA")), is_error=True)

    @tool
    async def shot(ctx: ToolContext) -> ToolOutput:
        seen.append(ctx)
        return image

    assert await shot.run({}, ctx) is image
    assert seen == [ctx]


async def test_run_converts_non_string_returns_to_text(ctx: ToolContext) -> None:
    @tool
    async def count(ctx: ToolContext) -> str:
        return 42  # type: ignore[return-value]

    assert await count.run({}, ctx) == ToolOutput("42")


async def test_explicit_null_for_a_defaulted_argument_uses_the_default(ctx: ToolContext) -> None:
    """Models often send `null` for arguments they mean to leave out; `validate` accepts
    that, so the tool must then see its declared default, not None."""

    @tool
    async def head(ctx: ToolContext, path: str, limit: int = 2000) -> str:
        return f"{path}:{limit}"

    assert await head.run({"path": "a.py", "limit": None}, ctx) == ToolOutput("a.py:2000")


# -- ToolRegistry -----------------------------------------------------------------------


def _make(name: str) -> Tool:
    async def fn(ctx: ToolContext) -> str:
        return name

    fn.__doc__ = f"The {name} tool."
    return tool(fn, name=name)


def test_registry_rejects_duplicate_names() -> None:
    reg = ToolRegistry([_make("bash")])
    with pytest.raises(ValueError, match="'bash' is already registered"):
        reg.add(_make("bash"))
    with pytest.raises(ValueError, match="'grep'"):
        ToolRegistry([_make("grep"), _make("grep")])
    assert len(reg) == 1


def test_registry_names_and_specs_are_sorted_and_stable() -> None:
    reg = ToolRegistry([_make("read_file"), _make("bash"), _make("web_fetch")])
    reg.add(_make("edit_file"))
    reg.add(search)
    expected = ["bash", "edit_file", "read_file", "search", "web_fetch"]
    assert reg.names() == expected
    specs = reg.specs()
    assert isinstance(specs, tuple)
    assert [s.name for s in specs] == expected
    assert specs[1] == ToolSpec("edit_file", "The edit_file tool.", _make("x").parameters)
    assert reg.specs() == specs
    assert reg.names() == expected

    other = ToolRegistry([search, _make("edit_file"), _make("web_fetch")])
    other.add(_make("bash"))
    other.add(_make("read_file"))
    assert other.specs() == specs


def test_registry_get() -> None:
    reg = ToolRegistry([search])
    assert reg.get("search") is search
    assert reg.get("nope") is None
    assert len(ToolRegistry()) == 0
    assert ToolRegistry().specs() == ()
