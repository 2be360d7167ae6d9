"""What every benchmark shares: the command under test, a clean child environment, one
measured child run (wall time + peak RSS from the kernel), min/median/max and a table.

The figures are medians because the machine is shared: one slow run says little, the
median of interleaved runs says how the commands compare under the same load.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECRET_SUFFIXES = ("_API_KEY", "_BASE_URL")


def friday_command() -> tuple[list[str], str]:
    """The real console script next to the interpreter (a pyenv shim on PATH is a bash
    script that adds ~0.3 s of its own), else the module; with a label saying which."""
    script = Path(sys.executable).parent / "friday"
    if script.is_file():
        return [str(script)], f"console script {script}"
    return [sys.executable, "-m", "friday.cli"], f"{sys.executable} -m friday.cli (no script)"


def shim_note() -> str:
    """Every `friday` on PATH, so a reader comparing with a shell timing knows which one
    was measured (a pyenv shim is a bash script with its own start-up)."""
    measured = (Path(sys.executable).parent / "friday").resolve()
    seen: list[str] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        path = Path(folder or ".") / "friday"
        if path.is_file() and os.access(path, os.X_OK) and str(path) not in seen:
            seen.append(str(path))
    if not seen:
        return "friday on PATH: none"
    marks = [f"{p} ({'measured' if Path(p).resolve() == measured else 'not'})" for p in seen]
    return "friday on PATH: " + ", ".join(marks)


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """os.environ without keys, base URLs or FRIDAY_* settings, with HOME and
    XDG_CONFIG_HOME in `home` so no user config takes part."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(SECRET_SUFFIXES) and not k.startswith("FRIDAY_")
    }
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), **extra)
    return env


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A temporary directory with a `home/` and a `work/` folder inside."""
    with tempfile.TemporaryDirectory(prefix="friday-bench-") as tmp:
        root = Path(tmp)
        (root / "home" / ".config").mkdir(parents=True)
        (root / "work").mkdir()
        yield root


@dataclass(frozen=True)
class Run:
    """One child process: wall seconds, CPU seconds (user + system, which a loaded
    machine disturbs far less than wall time), peak RSS in KiB, the time.time() it was
    started at, its exit code and what it printed."""

    wall: float
    cpu: float
    maxrss_kib: int
    started_at: float
    returncode: int
    stdout: str
    stderr: str


def run_child(cmd: Sequence[str], env: dict[str, str], cwd: Path) -> Run:
    """Run `cmd` to its end and read its rusage with wait4 (ru_maxrss is KiB on Linux).
    Output goes to files, not pipes, so the child never waits on the reader."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started_at = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss,
            started_at,
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def check(run: Run, what: str) -> Run:
    """Stop the benchmark when a command failed: its timing would mean nothing."""
    if run.returncode != 0:
        raise SystemExit(
            f"bench: {what} exited {run.returncode}\n"
            f"stdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-2000:]}"
        )
    return run


@dataclass(frozen=True)
class Stats:
    min: float
    median: float
    max: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        return cls(min(values), statistics.median(values), max(values), len(values))

    def spread(self) -> float:
        """(max - min) / median: above ~0.5 the figures are noisy."""
        return (self.max - self.min) / self.median if self.median else 0.0


def rotated(names: list[str], round_number: int) -> list[str]:
    """The commands in a different order each round, so none always runs first (after
    an idle gap) or last."""
    k = round_number % len(names)
    return names[k:] + names[:k]


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def table(header: Sequence[str], rows: Sequence[Sequence[object]], left: int = 1) -> str:
    """A plain text table: the first `left` columns left-aligned, the others right-aligned."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        padded = [
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def import_times(
    args: Sequence[str], env: dict[str, str], cwd: Path, min_us: int = 2000
) -> list[tuple[str, int]]:
    """(module, cumulative µs) of one `python -X importtime ARGS` run: the top-level
    imports that took `min_us` or more, each followed by its direct children (indented)
    that did."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    found: list[tuple[str, int]] = []
    children: list[tuple[str, int]] = []  # -X importtime prints them before their parent
    for line in out.stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _self, cumulative, name = line.removeprefix("import time:").split("|")
        if not cumulative.strip().isdigit():
            continue
        depth = (len(name) - len(name.lstrip()) - 1) // 2  # "| name": one space, 2 a level
        entry = (name.strip(), int(cumulative))
        if depth == 1 and entry[1] >= min_us:
            children.append(("  " + entry[0], entry[1]))
        elif depth == 0:
            if entry[1] >= min_us:
                found += [entry, *children]
            children = []
    return found


def script_args(friday: Sequence[str]) -> list[str]:
    """The friday command as arguments to the interpreter (for `python -X ...`)."""
    return list(friday[1:]) if friday[0] == sys.executable else list(friday)


def runs_option(parser: argparse.ArgumentParser, default: int) -> None:
    """`--runs N`: how many measured runs per command (medians want 5 or more)."""

    def count(text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
        return int(text)

    parser.add_argument(
        "--runs", type=count, default=default, help=f"measured runs per command ({default})"
    )


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def noise_note(stats: dict[str, Stats]) -> str | None:
    """A warning line when any series spread widely (a loaded machine)."""
    noisy = [name for name, s in stats.items() if s.spread() > 0.5]
    if not noisy:
        return None
    return "noisy: max-min is over half the median for " + ", ".join(noisy)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"
