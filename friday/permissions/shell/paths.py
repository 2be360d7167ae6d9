"""What a literal path argument points at: a secret, a system file, a block device, or a
target whose deletion would be catastrophic (`/`, `~`, the workspace, `.git`).

Paths are judged as written (normalised, `~` and `$HOME` expanded with the context's home),
never by touching the file system, except that a destructive target is also checked with
symlinks resolved (a link named `build` that points at `/` is still `/`).
"""

from __future__ import annotations

import os
import posixpath
import re
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

from friday.tools.files.paths import SENSITIVE_PATTERNS

SYSTEM_TOP = frozenset(
    {
        "bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "opt", "proc",
        "root", "sbin", "srv", "sys", "usr", "var", "tmp", "mnt", "media", "run", "snap",
        "nix", "System", "Library", "Applications", "Users", "private", "Volumes",
    }
)  # fmt: skip
# Anything below these is part of the system: writing or recursively deleting there denies.
SYSTEM_TREES = ("/etc", "/boot", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/sys")
BLOCK_DEVICE = re.compile(r"^/dev/(sd|nvme|disk|hd|mmcblk|xvd|vd|dm-|md|loop|sr)[^/]*$")
HARMLESS_SINKS = frozenset(
    {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/fd/1", "/dev/fd/2", "/dev/tty"}
)
STARTUP_FILES = (
    ".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zprofile", ".zshenv",
    ".zlogin", ".bash_logout", ".inputrc",
)  # fmt: skip
GLOB_CHARS = frozenset("*?[")


def expand(text: str, cwd: str | None, home: str) -> str | None:
    """The absolute, normalised path a literal word names, or None when it is not
    knowable (another user's `~`, a variable other than $HOME/$PWD, a relative path
    after a `cd` we could not follow)."""
    if text.startswith("~"):
        head, sep, rest = text.partition("/")
        if head == "~":
            text = home + sep + rest
        elif head[1:].replace("-", "").replace("_", "").replace(".", "").isalnum():
            user = head[1:]  # another user's home: the usual place, as an approximation
            text = ("/root" if user == "root" else f"/home/{user}") + sep + rest
        else:
            return None
    for var in ("${HOME}", "$HOME"):
        if text.startswith(var):
            text = home + text[len(var) :]
    for var in ("${PWD}", "$PWD"):
        if text.startswith(var) and cwd is not None:
            text = cwd + text[len(var) :]
    if "$" in text or "`" in text:
        return None
    if not text.startswith("/"):
        if cwd is None:
            return None
        text = posixpath.join(cwd, text)
    return posixpath.normpath(text).replace("//", "/") or "/"


def inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def secret_match(path: str, home: str, *, glob: bool = False) -> str | None:
    """The secret pattern a path matches (the list the file tools use too, so `cat .env`
    and read_file .env ask alike), or None. `~/` patterns use the context's home.
    `glob`: the path is an unquoted glob, so it matches when it could expand to a secret.
    Every `.env*` asks, templates such as `.env.example` included: the name says nothing
    of what a given copy holds."""
    name = posixpath.basename(path)
    parts = PurePosixPath(path).parts
    for pattern in SENSITIVE_PATTERNS:
        if _hit(path, name, parts, pattern, home, glob):
            return pattern
    if glob:
        for match in _expand_glob(path):
            found = secret_match(match, home)
            if found:
                return found
    return None


def _expand_glob(path: str) -> list[str]:
    """What the glob matches on disk right now (bounded), as bash would expand it."""
    import glob as globmod
    from itertools import islice

    try:
        return list(islice(globmod.iglob(path), 500))
    except (OSError, ValueError, RecursionError):
        return []


# Names that the secret patterns describe, to test whether a glob could expand to one.
SECRET_SAMPLES = (
    ".env", ".env.local", "x.pem", "x.key", "x.p12", "x.pfx", "x.keystore", "x.jks", "id_rsa",
    "id_rsa.pub", "id_dsa", "id_ecdsa", "id_ed25519", ".netrc", ".pgpass", ".git-credentials",
    ".npmrc", ".pypirc", "shadow", "environ", "credentials", "config", "config.json",
)  # fmt: skip


def _hit(path: str, name: str, parts: tuple[str, ...], pattern: str, home: str, glob: bool) -> bool:
    if pattern.startswith("~/"):
        pattern = home.rstrip("/") + pattern[1:]
    if pattern.startswith("/"):
        if pattern.endswith("/**"):
            folder = pattern[:-3]
            return (
                path == folder
                or path.startswith(folder + "/")
                or (glob and _glob_over(path, folder))
            )
        return fnmatchcase(path, pattern) or (glob and _glob_may_match(path, pattern))
    if "/" in pattern:
        want = pattern.count("/") + 1
        return len(parts) >= want and fnmatchcase("/".join(parts[-want:]), pattern)
    return fnmatchcase(name, pattern) or (glob and _glob_may_match(name, pattern))


def _has_glob(text: str) -> bool:
    return any(c in GLOB_CHARS for c in text)


def _glob_over(path: str, folder: str) -> bool:
    """`~/.s*/id_rsa` may expand into `~/.ssh`: a glob whose literal prefix is a parent of
    the folder could reach it."""
    if not _has_glob(path):
        return False
    prefix = path.split("*")[0].split("?")[0].split("[")[0]
    return folder.startswith(prefix) or prefix.startswith(folder)


def _glob_may_match(glob: str, pattern: str) -> bool:
    """Whether a glob argument like `.e*` could expand to a name the secret pattern
    matches: some sample secret name matches both. A glob of wildcards only (`*`) is left
    to the expansion on disk, or every `cat *` would ask."""
    if not glob.strip("*?/"):
        return False
    tail = glob.rsplit("/", 1)[-1]
    for sample in SECRET_SAMPLES:
        if sample.startswith(".") and not tail.startswith("."):
            continue
        full = glob.rsplit("/", 1)[0] + "/" + sample if "/" in glob else sample
        if fnmatchcase(sample, tail) and fnmatchcase(full if "/" in pattern else sample, pattern):
            return True
    return False


def system_write(path: str) -> str | None:
    """Why writing `path` would damage the system (deny), or None."""
    if path in HARMLESS_SINKS:
        return None
    if BLOCK_DEVICE.match(path):
        return f"{path} is a block device"
    if path == "/proc/sysrq-trigger" or path.startswith("/proc/sys/"):
        return f"{path} controls the kernel"
    for tree in SYSTEM_TREES:
        if path == tree or path.startswith(tree + "/"):
            return f"{path} is a system file"
    return None


def startup_file(path: str, home: str) -> bool:
    return posixpath.dirname(path) == home.rstrip("/") and posixpath.basename(path) in (
        STARTUP_FILES
    )


def harmless_sink(path: str) -> bool:
    return path in HARMLESS_SINKS


def destructive(path: str, root: str, home: str, *, glob: bool = False) -> str | None:
    """Why deleting (recursively) or overwriting `path` is catastrophic, or None. `glob`:
    the last component was an unquoted glob, so `path` is that glob's folder when the glob
    matches everything in it (`/*`, `~/*`, `*` at the workspace root)."""
    for candidate in _forms(path):
        why = _destructive_one(candidate, root.rstrip("/") or "/", home.rstrip("/") or "/", glob)
        if why:
            return why
    return None


def _forms(path: str) -> list[str]:
    forms = [path]
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return forms
    if real != path:
        forms.append(real)
    return forms


def _destructive_one(path: str, root: str, home: str, glob: bool) -> str | None:  # noqa: PLR0911
    if path == "/":
        return "/ is the whole file system"
    if BLOCK_DEVICE.match(path):
        return f"{path} is a block device"
    parts = PurePosixPath(path).parts
    if ".git" in parts and parts[-1] == ".git":
        return f"{path} is a git repository's history"
    if path == home:
        return f"{path} is the home directory"
    if path == root:
        return f"{path} is the workspace root"
    if inside(root, path):
        return f"{path} contains the workspace"
    if len(parts) == 2 and parts[1] in SYSTEM_TOP:
        return f"{path} is a top-level system directory"
    for tree in SYSTEM_TREES:
        if path.startswith(tree + "/"):
            return f"{path} is part of the system"
    if glob and ".git" in parts:
        return f"{path} is inside a git repository's history"
    return None


def glob_everything(last: str) -> bool:
    """A last path component that matches every entry of its folder."""
    return last in ("*", ".*", "*.*", "{*,.*}", "[!.]*", "..?*", ".[!.]*") or (
        set(last) <= {"*", "?"} and "*" in last
    )
