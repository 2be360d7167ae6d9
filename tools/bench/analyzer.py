"""The shell permission analyzer over the labelled corpus: latency per command, import cost,
and how its decisions compare with the labels.

    python -m tools.bench.analyzer [--runs 5]

Latency: one warm-up pass over the corpus (bashlex's parser tables, the policy specs), then
`--runs` passes; a command's time is the median of its runs, and the figures are the median
and p99 of those over the corpus (target median <= 1 ms, p99 <= 10 ms). Import cost is a fresh
interpreter importing `friday.permissions.shell` (and then bashlex) minus `python -c pass`,
median of 5. Quality: the false-ask rate on the allow-labelled part (target <= 5%), false
allows (ask- or deny-labelled commands allowed: must be 0) and deny recall.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from friday.permissions.shell import analyze_shell
from tests.permissions.corpus import (
    Entry,
    describe,
    false_allows,
    false_asks,
    load,
    make_workspace,
    missed_denies,
    rate,
)
from tools.bench.common import REPO, clean_env, load_note, runs_option, scratch, table, verdict

MEDIAN_TARGET_US = 1000.0
P99_TARGET_US = 10000.0
FALSE_ASK_TARGET = 0.05
IMPORT_RUNS = 5
IMPORTS = {
    "python -c pass": "pass",
    "import friday.permissions.shell": "import friday.permissions.shell",
    "  + bashlex": "import friday.permissions.shell, bashlex",
}


def percentile(values: list[float], q: float) -> float:
    """The q-quantile by nearest rank (no interpolation: with ~1,000 commands p99 is one of
    the ten slowest)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
    return ordered[index]


def time_corpus(entries: list[Entry], runs: int) -> tuple[dict[str, float], dict[str, str]]:
    """Median µs per command over `runs` passes after one warm-up pass, and each decision."""
    with tempfile.TemporaryDirectory(prefix="friday-bench-") as tmp:
        ctx = make_workspace(Path(tmp))
        decisions = {e.id: analyze_shell(e.command, ctx).decision for e in entries}
        samples: dict[str, list[float]] = {e.id: [] for e in entries}
        for _ in range(runs):
            for e in entries:
                start = time.perf_counter()
                analyze_shell(e.command, ctx)
                samples[e.id].append((time.perf_counter() - start) * 1e6)
    return {k: statistics.median(v) for k, v in samples.items()}, decisions


def import_costs() -> dict[str, float]:
    """Median ms of each IMPORTS statement in a fresh interpreter, rounds interleaved."""
    times: dict[str, list[float]] = {name: [] for name in IMPORTS}
    with scratch() as root:
        env = clean_env(root / "home", PYTHONPATH=str(REPO))
        for _ in range(IMPORT_RUNS):
            for name, code in IMPORTS.items():
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], env=env, cwd=root / "work", check=True)
                times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(v) for name, v in times.items()}


def latency_report(entries: list[Entry], per_command: dict[str, float]) -> str:
    values = list(per_command.values())
    median, p99 = statistics.median(values), percentile(values, 0.99)
    rows = [
        ["median per command", f"{median:,.0f} µs", "<= 1,000 µs"],
        ["p99 per command", f"{p99:,.0f} µs", "<= 10,000 µs"],
        ["max", f"{max(values):,.0f} µs", "", ""],
    ]
    rows[0].append(verdict(median, MEDIAN_TARGET_US))
    rows[1].append(verdict(p99, P99_TARGET_US))
    by_id = {e.id: e for e in entries}
    slowest = sorted(per_command.items(), key=lambda kv: kv[1], reverse=True)[:5]
    lines = [table(["latency", "value", "target", ""], rows), "", "slowest 5 commands:"]
    lines += [f"  {us:>9,.0f} µs  {i:<22} {by_id[i].raw[:80]}" for i, us in slowest]
    return "\n".join(lines)


def quality_report(entries: list[Entry], decisions: dict[str, str]) -> str:
    allow_part = [e for e in entries if e.label == "allow"]
    deny_part = [e for e in entries if e.label == "deny"]
    asked = false_asks(entries, decisions)
    leaked = false_allows(entries, decisions)
    missed = missed_denies(entries, decisions)
    ask_rate = rate(len(asked), len(allow_part))
    recall = 1 - rate(len(missed), len(deny_part))
    rows = [
        [
            "false-ask rate (allow part)",
            f"{ask_rate:.1%} ({len(asked)}/{len(allow_part)})",
            "<= 5%",
            verdict(ask_rate, FALSE_ASK_TARGET),
        ],
        ["false allows", str(len(leaked)), "0", "PASS" if not leaked else "MISS"],
        ["deny recall", f"{recall:.1%} ({len(deny_part) - len(missed)}/{len(deny_part)})", "", ""],
    ]
    lines = [table(["decisions", "value", "target", ""], rows)]
    for title, part in (
        ("false allows", leaked),
        ("false asks", asked),
        ("denies not denied", missed),
    ):
        if part:
            lines += ["", f"{title}:", describe(part, decisions)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench.analyzer",
        description="shell analyzer latency, import cost and label agreement over the corpus",
    )
    runs_option(parser, 5)
    args = parser.parse_args(argv)
    entries = load()
    counts = {label: sum(e.label == label for e in entries) for label in ("allow", "ask", "deny")}
    print(f"corpus: {len(entries)} commands ({', '.join(f'{n} {k}' for k, n in counts.items())})")
    print(load_note())
    per_command, decisions = time_corpus(entries, args.runs)
    print(f"\n{args.runs} timed passes after one warm-up pass\n")
    print(latency_report(entries, per_command))
    costs = import_costs()
    floor = costs["python -c pass"]
    rows = [
        [name, f"{ms:.0f} ms", "" if name.endswith("pass") else f"+{ms - floor:.0f} ms"]
        for name, ms in costs.items()
    ]
    print(f"\nimport cost, fresh interpreter, median of {IMPORT_RUNS}\n")
    print(table(["statement", "wall", "minus pass"], rows))
    print()
    print(quality_report(entries, decisions))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
