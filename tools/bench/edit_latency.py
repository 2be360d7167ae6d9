"""edit_file latency on a 10 MB file, in-process: each run is one `edit_file` call as the
agent makes it (freshness check with the content hash, exact-once match, newline map,
encode, atomic write with fsync, FileState update, diff), beside a floor that does only
the I/O: read, str.replace, encode, write a temp file, fsync, rename.

    python -m tools.bench.edit_latency [--runs 11] [--mb 10]

Variants: UTF-8 with LF, UTF-8 with CRLF, a mix of both (the newline map's slow path),
UTF-16 with BOM, plus multi_edit with 5 edits and read_file of the first window. The
edit sits in the middle of the file and alternates between two strings, so every run
really changes the file. No target: the issue asks for the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path

from friday.tools.base import ToolContext, ToolError
from friday.tools.files import FILE_TOOLS, FileState
from tools.bench.common import Stats, load_note, noise_note, runs_option, table

TOOLS = {t.name: t for t in FILE_TOOLS}
LINE = "    result = compute_total(values, scale=1.0)  # step {n:07d}\n"
MARKS = ("MARKER_ALPHA = 1", "MARKER_OMEGA = 2")


def body(mb: int, newline: str, mixed: bool) -> str:
    """About `mb` MiB of code-like lines with a marker line in the middle."""
    count = mb * 1024 * 1024 // len(LINE.format(n=0))
    lines = [LINE.format(n=n) for n in range(count)]
    lines.insert(count // 2, MARKS[0] + "\n")
    if mixed:
        return "".join(x.replace("\n", "\r\n") if i % 10 else x for i, x in enumerate(lines))
    return "".join(lines).replace("\n", newline)


VARIANTS = {
    "UTF-8, LF": ("utf-8", b"", "\n", False),
    "UTF-8, CRLF": ("utf-8", b"", "\r\n", False),
    "UTF-8, mixed CRLF/LF": ("utf-8", b"", "\n", True),
    "UTF-16-LE with BOM, LF": ("utf-16-le", b"\xff\xfe", "\n", False),
}


def ctx(root: Path, state: FileState, step: int) -> ToolContext:
    return ToolContext(cwd=root, file_state=state, step=step)


async def timed(call: Awaitable[object]) -> float:
    t0 = time.perf_counter()
    await call
    return time.perf_counter() - t0


async def edit_runs(root: Path, runs: int) -> list[float]:
    state = FileState()
    await TOOLS["read_file"].run({"path": "big.txt"}, ctx(root, state, 1))
    times = []
    for n in range(runs + 1):
        args = {"path": "big.txt", "old_string": MARKS[n % 2], "new_string": MARKS[1 - n % 2]}
        times.append(await timed(TOOLS["edit_file"].run(args, ctx(root, state, n + 2))))
    return times[1:]


async def multi_runs(root: Path, runs: int) -> list[float]:
    """Five edits spread over the file, flipping `# step` to `# STEP` and back."""
    state = FileState()
    await TOOLS["read_file"].run({"path": "big.txt"}, ctx(root, state, 1))
    times = []
    for n in range(runs + 1):
        old, new = ("step", "STEP") if n % 2 == 0 else ("STEP", "step")
        edits = [
            {"old_string": f"# {old} {k:07d}", "new_string": f"# {new} {k:07d}"}
            for k in (10, 40_000, 80_000, 120_000, 160_000)
        ]
        call = TOOLS["multi_edit"].run({"path": "big.txt", "edits": edits}, ctx(root, state, n + 2))
        times.append(await timed(call))
    return times[1:]


async def read_runs(root: Path, runs: int) -> list[float]:
    times = []
    for n in range(runs + 1):
        state = FileState()  # a first read each time, not the cache's one-line answer
        times.append(await timed(TOOLS["read_file"].run({"path": "big.txt"}, ctx(root, state, n))))
    return times[1:]


def floor_runs(path: Path, codec: str, bom: bytes, runs: int) -> list[float]:
    """The least an atomic edit can cost: read, decode, replace, encode, temp + fsync +
    rename (no hash, no checks, no diff)."""
    times = []
    for n in range(runs + 1):
        t0 = time.perf_counter()
        text = path.read_bytes()[len(bom) :].decode(codec)
        text = text.replace(MARKS[n % 2], MARKS[1 - n % 2], 1)
        tmp = path.with_name(path.name + ".floor-tmp")
        with open(tmp, "wb") as f:
            f.write(bom + text.encode(codec))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        times.append(time.perf_counter() - t0)
    return times[1:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.edit_latency")
    runs_option(parser, 11)
    parser.add_argument("--mb", type=int, default=10, help="file size in MiB (10)")
    args = parser.parse_args(argv)
    print(f"== edit_latency: {args.mb} MiB files, {args.runs} runs each (after 1 warm-up)")
    print(load_note())
    series: dict[str, Stats] = {}
    floors: dict[str, Stats] = {}
    with tempfile.TemporaryDirectory(prefix="friday-bench-") as tmp:
        for label, (codec, bom, newline, mixed) in VARIANTS.items():
            root = Path(tmp) / label.replace(" ", "_").replace(",", "").replace("/", "-")
            root.mkdir()
            path = root / "big.txt"
            path.write_bytes(bom + body(args.mb, newline, mixed).encode(codec))
            size = path.stat().st_size
            series[f"edit_file  {label}"] = Stats.of(asyncio.run(edit_runs(root, args.runs)))
            floors[f"edit_file  {label}"] = Stats.of(floor_runs(path, codec, bom, args.runs))
            if label == "UTF-8, LF":
                series[f"multi_edit {label}, 5 edits"] = Stats.of(
                    asyncio.run(multi_runs(root, args.runs))
                )
                series[f"read_file  {label}, first 2,000 lines"] = Stats.of(
                    asyncio.run(read_runs(root, args.runs))
                )
            print(f"  {label}: {size:,} bytes")
    rows = []
    for name, s in series.items():
        floor = floors.get(name)
        rows.append(
            [
                name,
                *(f"{v * 1000:.0f} ms" for v in (s.min, s.median, s.max)),
                f"{floor.median * 1000:.0f} ms" if floor else "",
                f"{s.median / floor.median:.2f}x" if floor else "",
            ]
        )
    print(table(["call", "min", "median", "max", "I/O floor", "ratio"], rows))
    if note := noise_note(series):
        print(note)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ToolError as exc:
        raise SystemExit(f"bench: a tool call failed: {exc}") from None
