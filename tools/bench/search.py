"""Friday's grep and glob against raw ripgrep on a large generated tree.

    python -m tools.bench.search [--runs 7] [--files 50000] [--python]

The tree (in a temporary folder) is a git repository of plausible source files (Python,
TypeScript, JavaScript, Markdown) with gitignored `node_modules/`, `build/` and a hidden
`.venv/`. Each query runs through the tool functions in-process with the ripgrep backend
(what the agent pays: argument checks, the ripgrep process, parsing, sorting, capping),
and as the nearest raw `rg` command line, spawned and read to the end. Runs are
interleaved in a rotating order after one warm-up round; the figures are wall-time
medians and the ratio of medians (target <= 1.3). `--python` adds one timed run of each
query on the Python backend, for scale (no target).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from friday.tools.base import Tool, ToolContext
from friday.tools.search import glob_tool, grep_tool
from friday.tools.search.rg import find_rg
from tools.bench.common import Stats, load_note, noise_note, rotated, runs_option, table, verdict

TARGET = 1.3
WORDS = [
    "request",
    "response",
    "handler",
    "config",
    "session",
    "token",
    "cache",
    "value",
    "result",
    "error",
    "index",
    "buffer",
    "stream",
    "client",
    "server",
    "worker",
    "queue",
    "event",
    "message",
    "record",
    "payload",
]


def _python(rnd: random.Random, n: int) -> str:
    lines = ["import os", "import sys" if rnd.random() < 0.5 else "import json", ""]
    for i in range(rnd.randint(3, 9)):
        a, b = rnd.sample(WORDS, 2)
        suffix = "_handler" if rnd.random() < 0.2 else ""
        lines += [
            f"def {a}_{b}{suffix}_{n}_{i}({a}, {b}=None):",
            f'    """Return the {a} for this {b}."""',
            f"    if {b} is None:",
            f"        {b} = os.environ.get('{a.upper()}_{b.upper()}')",
        ]
        if rnd.random() < 0.1:
            lines.append(f"    # TODO: cache the {a} per {b}")
        lines += [f"    return {{'{a}': {a}, '{b}': {b}}}", "", ""]
    return "\n".join(lines)


def _typescript(rnd: random.Random, n: int) -> str:
    a, b = rnd.sample(WORDS, 2)
    body = [f"import {{ {a} }} from './{b}';", ""]
    for i in range(rnd.randint(2, 6)):
        body += [
            f"export function {a}{b.title()}{n}_{i}(input: string): number {{",
            f"  const {b} = useEffect(() => {a}(input), [input]);",
            f"  return {b}.length + {i};",
            "}",
            "",
        ]
    return "\n".join(body)


def _markdown(rnd: random.Random, n: int) -> str:
    words = " ".join(rnd.choice(WORDS) for _ in range(60))
    return f"# Notes {n}\n\n{words}\n\nSee `{rnd.choice(WORDS)}_{n}` for details.\n"


def make_tree(root: Path, files: int, seed: int = 7) -> dict[str, int]:
    """~`files` tracked files, plus ignored ones (a fifth as many again)."""
    rnd = random.Random(seed)
    (root / ".git" / "info").mkdir(parents=True)
    (root / ".gitignore").write_text("node_modules/\nbuild/\n*.pyc\n/dist\n")
    kinds = [
        ("py", _python, "src"),
        ("ts", _typescript, "web"),
        ("js", _typescript, "web"),
        ("md", _markdown, "docs"),
    ]
    counts = {"tracked": 0, "ignored": 0}
    for n in range(files):
        ext, make, top = kinds[0] if n % 10 < 6 else kinds[1 + n % 3]
        folder = root / top / f"pkg{n % 40}" / f"mod{n % 13}"
        folder.mkdir(parents=True, exist_ok=True)
        text = make(rnd, n)
        if n == files // 2:
            text += "\nunique_marker_12345 = True\n"
        (folder / f"f{n}.{ext}").write_text(text)
        counts["tracked"] += 1
    for n in range(files // 5):
        top = ("node_modules/lib", "build/out", ".venv/lib")[n % 3]
        folder = root / top / f"p{n % 50}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"g{n}.{'js' if n % 3 == 0 else 'py'}").write_text(_python(rnd, n))
        counts["ignored"] += 1
    return counts


def queries(rg: str) -> list[tuple[str, Tool, dict[str, Any], list[str]]]:
    """(label, tool, arguments, the raw ripgrep command giving the same answer). glob
    lists newest first, so its raw twin sorts by modification time too."""
    base = [rg, "--no-config"]
    files = [*base, "--files", "--sortr", "modified"]
    ctx_args = {"glob": "*.ts", "case_insensitive": True, "output_mode": "content"}
    return [
        (
            "grep literal, files",
            grep_tool,
            {"pattern": "unique_marker_12345"},
            [*base, "-l", "unique_marker_12345"],
        ),
        ("grep TODO, files", grep_tool, {"pattern": "TODO"}, [*base, "-l", "TODO"]),
        (
            "grep regex, content",
            grep_tool,
            {"pattern": r"def \w+_handler_", "output_mode": "content", "head_limit": 50},
            [*base, "-n", r"def \w+_handler_"],
        ),
        (
            "grep type=py, count",
            grep_tool,
            {"pattern": "import (os|sys)", "type": "py", "output_mode": "count"},
            [*base, "-c", "-t", "py", "import (os|sys)"],
        ),
        (
            "grep glob -i -C2, content",
            grep_tool,
            {"pattern": "useeffect", "context": 2, "head_limit": 100, **ctx_args},
            [*base, "-n", "-i", "-C2", "-g", "*.ts", "useeffect"],
        ),
        ("glob **/*.py", glob_tool, {"pattern": "**/*.py"}, [*files, "-g", "*.py"]),
        ("glob web/**/*.ts", glob_tool, {"pattern": "web/**/*.ts"}, [*files, "-g", "*.ts", "web"]),
    ]


async def time_tool(tool: Tool, args: dict[str, Any], cwd: Path) -> tuple[float, dict]:
    """One call as the agent makes it: inside a running event loop."""
    ctx = ToolContext(cwd=cwd)
    t0 = time.perf_counter()
    await tool.run(args, ctx)
    return time.perf_counter() - t0, ctx.meta


def time_rg(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True)
    wall = time.perf_counter() - t0
    if out.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(cmd)} exited {out.returncode}: {out.stderr!r}")
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.search")
    runs_option(parser, 7)
    parser.add_argument("--files", type=int, default=50_000, help="tracked files (50000)")
    parser.add_argument("--python", action="store_true", help="also time the Python backend")
    parser.add_argument(
        "--tree", type=Path, help="build the tree here and keep it (reused if it exists)"
    )
    args = parser.parse_args(argv)
    os.environ.pop("FRIDAY_RG", None)
    rg = find_rg()
    if rg is None:
        print("== search: skipped, no ripgrep found (pip install 'ripgrep>=14.1,<15')")
        return 0
    version = subprocess.run([rg, "--version"], capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory(prefix="friday-bench-search-") as tmp:
        root = args.tree or Path(tmp) / "tree"
        t0 = time.perf_counter()
        reused = root.is_dir()
        counts = count_tree(root) if reused else make_tree(root, args.files)
        made = "reused" if reused else f"made in {time.perf_counter() - t0:.1f} s"
        print(f"== search: Friday grep/glob (rg backend, in-process) vs raw rg, {args.runs} runs")
        print(f"ripgrep: {rg} ({version.splitlines()[0]})")
        print(f"tree: {counts['tracked']:,} tracked + {counts['ignored']:,} ignored files, {made}")
        print(load_note())
        return asyncio.run(measure(root, rg, args))


def count_tree(root: Path) -> dict[str, int]:
    ignored = ("node_modules", "build", ".venv")
    counts = {"tracked": 0, "ignored": 0}
    for top in os.listdir(root):
        if top in (".git", ".gitignore"):
            continue
        n = sum(len(names) for _d, _s, names in os.walk(root / top))
        counts["ignored" if top in ignored else "tracked"] += n
    return counts


async def measure(root: Path, rg: str, args: argparse.Namespace) -> int:
    """Per query: Friday's tool call, the raw command, and (for scale) ripgrep run with
    exactly the arguments Friday gave it, plus `rg --files` unsorted for globs."""
    qs = queries(rg)
    samples: dict[str, dict[str, list[float]]] = {q[0]: {} for q in qs}
    metas: dict[str, dict[str, Any]] = {label: {} for label, *_ in qs}
    for round_number in range(args.runs + 1):
        for label, tool, targs, cmd in qs:
            commands = {
                "rg": cmd,
                "unsorted": [c for c in cmd if c not in ("--sortr", "modified")],
                "ours": metas[label].get("command"),  # known after the warm-up round
            }
            todo = ["friday", *(k for k, c in commands.items() if c and (k == "rg" or c != cmd))]
            for who in rotated(todo, round_number):
                if who == "friday":
                    wall, metas[label] = await time_tool(tool, targs, root)
                else:
                    wall = time_rg(commands[who], root)
                if round_number:  # round 0 warms the page cache
                    samples[label].setdefault(who, []).append(wall)
    rows, worst, all_stats = [], 0.0, {}
    for label, *_ in qs:
        runs = {who: Stats.of(values) for who, values in samples[label].items()}
        f, r = runs["friday"], runs["rg"]
        all_stats[f"{label} (friday)"], all_stats[f"{label} (rg)"] = f, r
        ratio = f.median / r.median
        worst = max(worst, ratio)
        rows.append(
            [
                label,
                ms1(f),
                ms1(r),
                f"{ratio:.2f}",
                verdict(ratio, TARGET),
                ms1(runs.get("ours")),
                ms1(runs.get("unsorted")),
            ]
        )
    header = ["query", "friday", "raw rg", "ratio", f"<= {TARGET}", "rg, our flags", "rg unsorted"]
    print(table(header, rows))
    print(f"worst ratio of medians {worst:.2f} (target <= {TARGET}): {verdict(worst, TARGET)}")
    if note := noise_note(all_stats):
        print(note)
    if args.python:
        os.environ["FRIDAY_RG"] = "none"
        rows = [
            [label, f"{(await time_tool(tool, targs, root))[0] * 1000:.0f} ms"]
            for label, tool, targs, _ in qs
        ]
        os.environ.pop("FRIDAY_RG")
        print("Python backend, one run each (no target):")
        print(table(["query", "python"], rows))
    return 0


def ms1(stats: Stats | None) -> str:
    return f"{stats.median * 1000:.1f} ms" if stats else ""


if __name__ == "__main__":
    sys.exit(main())
