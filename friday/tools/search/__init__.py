"""Search tools: `glob` (files by name) and `grep` (file contents), backed by ripgrep
when it is installed and by a pure-Python search that gives the same results when not."""

from __future__ import annotations

from friday.tools.search.tools import glob_tool, grep_tool

SEARCH_TOOLS = [glob_tool, grep_tool]

__all__ = ["SEARCH_TOOLS", "glob_tool", "grep_tool"]
