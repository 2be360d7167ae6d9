"""Trees for the search tests, and a way to call a tool on either backend.

`rich_tree` holds one of everything the backends must agree on; `random_tree` makes a
seeded tree of random ignore rules, hidden names and file contents, so the comparison
also covers combinations nobody wrote down.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

from friday.tools.base import Tool, ToolContext, ToolError
from friday.tools.search.rg import find_rg


def write(root: Path, rel: str, data: str | bytes, mtime: float | None = None) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def rg_available() -> bool:
    old = os.environ.pop("FRIDAY_RG", None)
    try:
        return find_rg() is not None
    finally:
        if old is not None:
            os.environ["FRIDAY_RG"] = old


async def call(tool: Tool, root: Path, backend: str, **args: Any) -> tuple[str, dict]:
    """The tool's text (errors prefixed "ERROR ") and its meta, on `backend`."""
    old = os.environ.get("FRIDAY_RG")
    if backend == "python":
        os.environ["FRIDAY_RG"] = "none"
    else:
        os.environ.pop("FRIDAY_RG", None)
    ctx = ToolContext(cwd=root)
    try:
        out = await tool.run(args, ctx)
        text = out.content if isinstance(out.content, str) else repr(out.content)
    except ToolError as exc:
        text = f"ERROR {exc}"
    finally:
        if old is None:
            os.environ.pop("FRIDAY_RG", None)
        else:
            os.environ["FRIDAY_RG"] = old
    ran = ctx.meta.get("backend")
    # ripgrep hands a query to Python only when it says why (rules it gets wrong).
    if ran not in (None, backend) and "python_because" not in ctx.meta:
        raise AssertionError(f"asked for {backend}, ran {ran}")
    return text, ctx.meta


PY_BODY = (
    "import os\n\n\ndef handler(event):\n    # TODO: validate\n"
    "    return os.path.join('a', event)\n"
)


def rich_tree(root: Path) -> Path:
    """A git repository with nested ignore files, hidden files, binaries, encodings."""
    t0 = 1_700_000_000
    (root / ".git" / "info").mkdir(parents=True)
    write(root, ".git/info/exclude", "excluded_by_info.txt\n")
    write(root, ".git/HEAD", "ref: refs/heads/main\nfoo TODO\n")
    write(
        root,
        ".gitignore",
        "# build output\nbuild/\n*.log\n!keep.log\n/rooted.txt\n"
        "dist\nsecret*\n!secret_ok.py\ndocs/**/generated/\n",
    )
    write(root, ".ignore", "ignored_by_dot_ignore.py\n!important.log\n")
    write(root, ".rgignore", "rgignored.txt\n")
    for i, rel in enumerate(
        [
            "src/app.py",
            "src/util.py",
            "src/pkg/deep/mod.py",
            "src/web/index.ts",
            "src/web/view.tsx",
            "src/web/main.js",
            "src/lib.rs",
            "src/main.go",
            "README.md",
            "docs/guide.md",
            "docs/api/generated/ref.md",
            "docs/api/hand.md",
            "build/out.py",
            "dist/bundle.js",
            "src/dist/inner.js",
            "app.log",
            "keep.log",
            "important.log",
            "rooted.txt",
            "sub/rooted.txt",
            "secret_key.py",
            "secret_ok.py",
            "ignored_by_dot_ignore.py",
            "rgignored.txt",
            "excluded_by_info.txt",
            ".hidden.py",
            ".config/tool.py",
            "src/.cache/c.py",
            "Makefile",
            "src/notes.txt",
        ]
    ):
        write(root, rel, PY_BODY.replace("handler", f"handler_{i}"), t0 + i * 10)
    write(root, "src/pkg/.gitignore", "*.gen.py\n!keep.gen.py\n")
    write(root, "src/pkg/a.gen.py", "TODO generated\n", t0 + 400)
    write(root, "src/pkg/keep.gen.py", "TODO kept\n", t0 + 410)
    write(root, "src/pkg/deep/.ignore", "!*.gen.py\n")  # .ignore beats .gitignore
    write(root, "src/pkg/deep/b.gen.py", "TODO deep generated\n", t0 + 420)
    write(root, "bin/small.bin", b"TODO\x00binary\nTODO\n", t0 + 500)
    write(root, "bin/late_nul.dat", b"TODO line\n" * 9000 + b"\x00TODO\n", t0 + 510)
    write(root, "enc/utf16.txt", "\ufeffTODO in utf16\nsecond line\n".encode("utf-16-le"), t0 + 520)
    write(root, "enc/bom8.txt", b"\xef\xbb\xbfTODO after bom\n", t0 + 530)
    write(root, "enc/crlf.txt", b"TODO crlf\r\nend\r\n", t0 + 540)
    write(root, "enc/latin1.txt", b"caf\xe9 TODO\n", t0 + 550)
    write(root, "enc/noeol.txt", b"first\nTODO last", t0 + 560)
    write(root, "long/minified.js", "var x=1;" * 600 + "TODO" + ";" * 10 + "\n", t0 + 570)
    write(root, "case/Upper.py", "Todo: mixed Case\nTODO upper\ntodo lower\n", t0 + 580)
    write(
        root,
        "ctx/context.py",
        "".join(f"line {n}\n" for n in range(1, 21))
        .replace("line 5\n", "line 5 TODO\n")
        .replace("line 8\n", "line 8 TODO\n")
        .replace("line 18\n", "line 18 TODO\n"),
        t0 + 590,
    )
    write(root, "notes/rg_note.txt", "TODO: WARNING: stopped searching binary file\n", t0 + 590)
    write(root, ".env", "API_KEY=TODO-secret\n", t0 + 600)
    write(root, "certs/server.pem", "-----BEGIN TODO PRIVATE KEY-----\n", t0 + 610)
    outside = root.parent / f"{root.name}-outside"
    write(outside, "escaped.py", "TODO outside\n")
    (root / "link_out").symlink_to(outside, target_is_directory=True)
    (root / "link_file.py").symlink_to(root / "src" / "app.py")
    return root


# -- random trees ----------------------------------------------------------------------

NAMES = ["a", "b", "src", "lib", "test", "node_modules", ".hid", "build", "x1", "Doc"]
EXTS = [".py", ".js", ".md", ".txt", ".log", ".gen.py", ""]
RULES = [
    "*.log",
    "!keep*.log",
    "build/",
    "/a",
    "b/",
    "**/x1",
    "*.gen.py",
    "!*.gen.py",
    "src/*.js",
    "lib/**",
    "!lib/keep.js",
    "test",
    "!test",
    "*.md",
    "Doc/**/*.txt",
    "[ab].py",
    "*.{js,md}",
    "node_modules",
    "**/lib/*.py",
    "x1/**/b",
    "?.txt",
    "\\#x",
]
WORDS = ["alpha", "beta", "TODO", "todo", "Fixme", "handler(x)", "résumé", "x = 1"]


OUTER_RULES = ["ws/src/*.js", "ws/lib/", "/ws/a", "ws/**/b", "*.log", "!ws/keep.log", "ws/x1/**"]


def random_tree(root: Path, seed: int) -> Path:
    """`root` is the workspace; its parent (a fresh folder) may get ignore files and a
    `.git` of its own, so rules from above the workspace take part too."""
    rnd = random.Random(seed)
    if rnd.random() < 0.7:
        (root / ".git" / "info").mkdir(parents=True)
        write(root, ".git/info/exclude", "\n".join(rnd.sample(RULES, 2)) + "\n")
    elif rnd.random() < 0.5:
        (root.parent / ".git").mkdir(parents=True)
    for kind in (".gitignore", ".ignore"):
        if rnd.random() < 0.3:
            write(root.parent, kind, "\n".join(rnd.sample(OUTER_RULES, 3)) + "\n")
    dirs = [""]
    for _ in range(rnd.randint(4, 9)):
        parent = rnd.choice(dirs)
        dirs.append(f"{parent}/{rnd.choice(NAMES)}".lstrip("/"))
    for d in dirs:
        (root / d).mkdir(parents=True, exist_ok=True)
    if rnd.random() < 0.2:
        (root / rnd.choice(dirs) / ".git").mkdir(exist_ok=True)  # a nested repository
    for d in sorted(set(dirs)):
        for kind in (".gitignore", ".ignore"):
            if rnd.random() < 0.35:
                write(root, f"{d}/{kind}".lstrip("/"), "\n".join(rnd.sample(RULES, 3)) + "\n")
        for _ in range(rnd.randint(1, 5)):
            name = rnd.choice(NAMES + ["keep", "keep2", "z", ".dot"]) + rnd.choice(EXTS)
            lines = [" ".join(rnd.sample(WORDS, 3)) for _ in range(rnd.randint(0, 8))]
            data = "\n".join(lines) + ("\n" if rnd.random() < 0.8 else "")
            mtime = 1_700_000_000 + rnd.randint(0, 10**6)
            if (root / d / name).is_dir():
                continue
            write(root, f"{d}/{name}".lstrip("/"), data, mtime)
    return root
