"""The shell tool: `bash(command, timeout?, description?)` runs a command in the
workspace, streams its output, caps what the model reads, and leaves no process behind.
A ShellSession carries the working directory from one call to the next."""

from __future__ import annotations

from friday.tools.shell.session import ShellSession, default_output_dir
from friday.tools.shell.tool import make_shell_tool

__all__ = ["ShellSession", "default_output_dir", "make_shell_tool"]
