"""The `glob` and `grep` tools as the model sees them. The work is in
`friday.tools.search.calls`, imported on the first call: start-up pays only for the two
declarations.
"""

from __future__ import annotations

from typing import Literal

from friday.tools.base import ToolContext, tool


@tool(name="glob", read_only=True)
async def glob_tool(ctx: ToolContext, pattern: str, path: str | None = None) -> str:
    """Find files by name with a glob pattern; newest first (modification time).

    "*.py" (no "/") matches file names at any depth; "src/*.ts" only directly in src;
    "src/**/test_*.py" anywhere below src; "*.{ts,tsx}" either extension. Skips files
    ignored by .gitignore/.ignore, and hidden files unless the pattern names them
    (".github/**", "**/.env*"). Lists at most 200 files and says how many more matched.

    Args:
        pattern: the glob, relative to path (an absolute path inside the workspace works).
        path: the folder to search, relative to the workspace (default: the workspace).
    """
    from friday.tools.search.calls import glob_call

    return await glob_call(ctx, pattern, path)


@tool(name="grep", read_only=True)
async def grep_tool(
    ctx: ToolContext,
    pattern: str,
    path: str | None = None,
    glob: str | None = None,
    type: str | None = None,
    case_insensitive: bool = False,
    context: int | None = None,
    output_mode: Literal["files", "content", "count"] = "files",
    head_limit: int | None = None,
) -> str:
    """Search file contents with a regular expression (ripgrep, Rust regex syntax).

    Line by line; no lookaround or backreferences; escape ( [ { . * + ? with \\ to match
    them literally. Skips binary files, files ignored by .gitignore/.ignore, and hidden
    files unless glob names them. output_mode "files" (default) lists matching files,
    newest first; "content" prints path:line:text (context lines path-line-text, groups
    split by --); "count" prints path:count. Long output is cut with a note of what is
    left out.

    Args:
        pattern: the regular expression, e.g. "def \\w+_handler" or "TODO|FIXME".
        path: file or folder to search, relative to the workspace (default: all of it).
        glob: only files matching this glob: "*.py" (any depth), "src/**/*.ts",
            "*.{ts,tsx}"; a leading ! excludes ("!*.min.js").
        type: only files of this type: py, js, ts, rust, go, java, c, cpp, rb, php,
            sh, md, json, yaml, toml, html, css, sql, ...
        case_insensitive: ignore case.
        context: lines to show before and after each match (content mode), 0-50.
        output_mode: files, content or count.
        head_limit: show only the first N files (files, count) or lines (content).
    """
    from friday.tools.search.calls import grep_call

    return await grep_call(
        ctx, pattern, path, glob, type, case_insensitive, context, output_mode, head_limit
    )
