"""The agent's file tools (read_file, write_file, edit_file, multi_edit) and FileState,
the per-session record of what the agent has read that they all consult."""

from __future__ import annotations

from friday.tools.base import Tool
from friday.tools.files.edit import edit_file, multi_edit
from friday.tools.files.paths import SENSITIVE_PATTERNS, ApprovalGate
from friday.tools.files.read import read_file
from friday.tools.files.state import FileRecord, FileState
from friday.tools.files.write import write_file

FILE_TOOLS: list[Tool] = [read_file, write_file, edit_file, multi_edit]

__all__ = [
    "FILE_TOOLS",
    "SENSITIVE_PATTERNS",
    "ApprovalGate",
    "FileRecord",
    "FileState",
    "edit_file",
    "multi_edit",
    "read_file",
    "write_file",
]
