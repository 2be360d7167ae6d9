"""What the shell tool adds to running a command: the median wall time of `bash(true)`
through the tool (argument checks, spawn in a new session, pipe reading, exit wait, the
group check, the directory record, the result text) beside
`subprocess.run(["bash", "-c", "true"])`.

    python -m tools.bench.shell_overhead [--runs 50]

No target: the difference is the tool's own cost per call, printed for comparison
between versions.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
from pathlib import Path

from friday.tools.base import Tool, ToolContext
from friday.tools.shell import ShellSession, make_shell_tool
from tools.bench.common import Stats, load_note, ms, noise_note, rotated, runs_option, table


def time_subprocess(cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(["bash", "-c", "true"], cwd=cwd, stdin=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


async def time_tool(tool: Tool, root: Path) -> float:
    ctx = ToolContext(cwd=root)
    t0 = time.perf_counter()
    out = await tool.run({"command": "true"}, ctx)
    wall = time.perf_counter() - t0
    if ctx.meta.get("exit_code") != 0:
        raise SystemExit(f"bench: bash(true) did not succeed: {out.content!r}")
    return wall


async def measure(runs: int) -> dict[str, Stats]:
    with tempfile.TemporaryDirectory(prefix="friday-bench-") as tmp:
        root = Path(tmp)
        tool = make_shell_tool(ShellSession(root, root / "outputs"))
        samples: dict[str, list[float]] = {"bash tool": [], "subprocess.run": []}
        for n in range(runs + 1):  # round 0 warms up and is discarded
            for name in rotated(list(samples), n):
                if name == "bash tool":
                    wall = await time_tool(tool, root)
                else:
                    wall = await asyncio.to_thread(time_subprocess, root)
                if n:
                    samples[name].append(wall)
    return {name: Stats.of(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    runs_option(parser, 50)
    args = parser.parse_args()
    stats = asyncio.run(measure(args.runs))
    print(load_note())
    rows = [(name, ms(s.min), ms(s.median), ms(s.max), s.n) for name, s in stats.items()]
    print(table(["command", "min", "median", "max", "runs"], rows))
    extra = stats["bash tool"].median - stats["subprocess.run"].median
    print(f"tool overhead (median difference): {extra * 1000:.1f} ms per call")
    if note := noise_note(stats):
        print(note)


if __name__ == "__main__":
    main()
