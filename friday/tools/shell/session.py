"""The shell's state between calls: the workspace root, the directory the last command
ended in, and where cut outputs are saved. Each call is a new `bash -c`; only the working
directory carries over, because that is what a model expects after `cd src`."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

OUTPUT_DIR_MODE = 0o700


def default_output_dir(env: Mapping[str, str], session_id: str) -> Path:
    """`$XDG_CACHE_HOME/friday/outputs/<session_id>/`, else `~/.cache/friday/outputs/...`.
    Nothing is created here: the folder is made on the first output that needs it.
    A relative XDG_CACHE_HOME is ignored, as the XDG spec asks."""
    cache = env.get("XDG_CACHE_HOME", "")
    if not cache or not os.path.isabs(cache):
        home = env.get("HOME") or str(Path.home())
        cache = os.path.join(home, ".cache")
    return Path(cache) / "friday" / "outputs" / _safe_name(session_id or "session")


def text_of(path: Path | str) -> str:
    """A path as text for the model and the UI: bytes that are not UTF-8 (kept by Python
    as lone surrogates) become U+FFFD, since a surrogate cannot be encoded into the
    request or the event log and would break the session, not just this call."""
    return os.fsencode(path).decode("utf-8", "replace")


def _safe_name(text: str) -> str:
    """A single path component: no separators, no leading dots (`..` cannot climb)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", text).lstrip(".")
    return name[:120] or "_"


class ShellSession:
    """Per agent session: the workspace root, the shell's current directory (persists
    between calls), where full outputs are written.

    `kill_grace` is how long processes get between SIGTERM and SIGKILL; `pipe_grace` how
    long the output pipe may stay open after bash exits (a background job holding it)
    before the job is stopped. Tests shorten them; the agent keeps the defaults.
    """

    kill_grace: float = 2.0
    pipe_grace: float = 0.5

    def __init__(self, root: Path, output_dir: Path) -> None:
        # Physical path: `pwd -P` reports physical paths, so "inside the workspace" must
        # compare like with like when the root is reached through a symlink.
        self.root: Path = Path(root).resolve()
        self.cwd: Path = self.root
        self.output_dir: Path = Path(output_dir)
        self._outputs = 0

    # -- the working directory -------------------------------------------------------------

    def start_dir(self) -> tuple[Path, list[str]]:
        """Where the next command runs, with a note when the remembered directory has gone
        (removed by the last command or by someone else) and the root is used instead."""
        notes: list[str] = []
        if not self.cwd.is_dir():
            notes.append(
                f"[the shell's directory {text_of(self.cwd)} no longer exists; this command "
                f"ran in the workspace root {text_of(self.root)}]"
            )
            self.cwd = self.root
        return self.cwd, notes

    def inside(self, path: Path) -> bool:
        return path == self.root or path.is_relative_to(self.root)

    def shown(self, path: Path) -> str:
        """A directory as the model reads it: relative inside the workspace, else absolute."""
        if self.inside(path):
            return text_of(path.relative_to(self.root)) or "."
        return text_of(path)

    def settle(self, reported: str | None) -> list[str]:
        """Take the directory the shell ended in (`pwd -P` from its EXIT trap; None when
        the trap never ran: killed, `exec`, or the command replaced the trap) and return
        notes for the model."""
        notes: list[str] = []
        if reported is not None:
            if reported and os.path.isdir(reported):
                self.cwd = Path(reported)
            else:
                notes.append(
                    "[the shell ended in a directory that no longer exists; the next command "
                    f"runs in the workspace root {text_of(self.root)}]"
                )
                self.cwd = self.root
        if not self.inside(self.cwd):
            notes.append(
                f"[the shell is now in {text_of(self.cwd)}, outside the workspace "
                f"{text_of(self.root)}; later "
                "commands run there until you cd back]"
            )
        return notes

    # -- saved outputs -----------------------------------------------------------------------

    def open_output(self, call_id: str) -> tuple[Path, int]:
        """Create the file for one call's full output (0600 in a 0700 folder) and return
        its path and an open descriptor. Named after the call id, else a counter."""
        self.output_dir.mkdir(parents=True, exist_ok=True, mode=OUTPUT_DIR_MODE)
        os.chmod(self.output_dir, OUTPUT_DIR_MODE)
        self._outputs += 1
        base = _safe_name(call_id) if call_id else f"bash-{self._outputs}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        for n in range(1000):
            path = self.output_dir / (f"{base}.log" if n == 0 else f"{base}-{n}.log")
            try:
                return path, os.open(path, flags, 0o600)
            except FileExistsError:
                continue
        raise FileExistsError(f"no free file name for {base}.log in {self.output_dir}")
