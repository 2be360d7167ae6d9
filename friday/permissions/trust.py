"""Which projects' policy files the user has trusted to loosen permissions.

A cloned repository must not be able to allow itself `curl | sh`: a project's
`.friday/policy.toml` may always tighten (deny, ask), but its allow rules count only once
the user has trusted that file. Trust is remembered per project (the real path of its root)
together with the digest of the file as it was trusted, so any later change to the file,
by a `git pull` for instance, has to be trusted again.

The store is `$XDG_STATE_HOME/friday/trusted-projects.json` (else
`~/.local/state/friday/trusted-projects.json`): state, not configuration.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

STORE_NAME = "trusted-projects.json"


def file_digest(path: Path) -> str:
    """sha256 of the file's bytes (hex)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def state_dir(env: Mapping[str, str]) -> Path | None:
    xdg = env.get("XDG_STATE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "friday"
    home = env.get("HOME") or env.get("USERPROFILE")
    return Path(home) / ".local" / "state" / "friday" if home else None


class TrustStore:
    """The trusted (project root, policy digest) pairs, read fresh on every question so
    two Friday sessions never undo each other's answers."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: nowhere to remember (no HOME); nothing is trusted

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TrustStore:
        folder = state_dir(env)
        return cls(folder / STORE_NAME if folder is not None else None)

    def is_trusted(self, root: Path, digest: str) -> bool:
        entry = self._read().get(_key(root))
        return isinstance(entry, dict) and entry.get("digest") == digest

    def trust(self, root: Path, digest: str) -> None:
        """Remember `root`'s policy as trusted at `digest`, keeping every other entry."""
        if self.path is None:
            from friday.permissions.rules import PolicyError

            raise PolicyError(
                "cannot remember trusted projects: neither XDG_STATE_HOME nor HOME is set"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path):  # two sessions trusting at once both keep their answer
            entries = self._read()
            entries[_key(root)] = {"digest": digest, "trusted_at": int(time.time())}
            data = {"version": 1, "projects": entries}
            text = json.dumps(data, indent=2, sort_keys=True) + "\n"
            write_atomic(self.path, text.encode(), new_mode=0o600)

    def _read(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # missing or damaged: nothing is trusted, which fails closed
        projects = data.get("projects") if isinstance(data, dict) else None
        return dict(projects) if isinstance(projects, dict) else {}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on a file beside `path` for a read-modify-write (POSIX only;
    elsewhere the last writer wins, which at worst asks the user again)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _key(root: Path) -> str:
    return os.path.realpath(root)


def write_atomic(path: Path, data: bytes, new_mode: int = 0o644) -> None:
    """Write a temporary file beside `path`, flush it, rename it over `path`: a crash
    leaves the old file or the new one, never half of one. The temporary name is random
    and created exclusively, so a link planted beside `path` (a cloned repository can
    ship one in `.friday/`) is never written through. The file keeps its old mode, or
    gets `new_mode`."""
    import tempfile

    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = new_mode
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with open(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
