"""`friday -p "hello"` against tools/fakellm (no latency, ~200 tokens in 50 deltas) beside
the floor: a bare script that streams the same reply with the anthropic SDK.

    python -m tools.bench.oneshot [--runs 7] [--imports]

Targets: Friday minus floor <= +0.3 s wall time and <= +30 MiB peak RSS (medians).
Also shown, no target: the time from process start to the first request reaching the
server, the child's CPU time (user + system: far steadier than wall time on a loaded
machine), the same Friday task over OpenAI Chat Completions, and with --imports where
Friday's start-up goes (one `-X importtime` run).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tools.bench.common import (
    Run,
    Stats,
    check,
    clean_env,
    friday_command,
    import_times,
    load_note,
    mib,
    ms,
    noise_note,
    rotated,
    run_child,
    runs_option,
    scratch,
    script_args,
    shim_note,
    table,
    verdict,
)
from tools.fakellm import FakeLLM

TARGET_WALL_S = 0.3
TARGET_RSS_KIB = 30 * 1024
CHUNK = 16
SENTENCE = (
    "The failing test reads the config before the fixture writes it, so the loader "
    "falls back to defaults and the assertion on the timeout sees 30 instead of 5. "
)
REPLY = (SENTENCE * 8)[:800]
FLOOR = "floor: anthropic SDK stream"
FRIDAY = "friday -p (anthropic)"
FRIDAY_CHAT = "friday -p (openai-chat)"

FLOOR_SCRIPT = """\
import anthropic

client = anthropic.Anthropic()  # ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from the env
with client.messages.stream(
    model="claude-sonnet-4-5",
    max_tokens=1024,
    messages=[{"role": "user", "content": "hello"}],
) as stream:
    for text in stream.text_stream:
        print(text, end="", flush=True)
print()
"""


# metric -> (label, formatter, target for Friday minus floor or None)
METRICS = {
    "wall": ("wall", ms, TARGET_WALL_S),
    "first": ("start -> first request", ms, None),
    "cpu": ("CPU (user+sys)", ms, None),
    "rss": ("peak RSS", mib, TARGET_RSS_KIB),
}


@dataclass
class Series:
    """One command's runs: what to run, the server path it must hit, and the figures."""

    cmd: list[str]
    env: dict[str, str]
    path: str
    values: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in METRICS})

    def median(self, metric: str) -> float:
        return Stats.of(self.values[metric]).median


def build_series(root: Path, srv: FakeLLM, friday: list[str]) -> dict[str, Series]:
    script = root / "floor.py"
    script.write_text(FLOOR_SCRIPT, encoding="utf-8")
    home = root / "home"
    anthropic_env = clean_env(home, ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=srv.base_url)
    chat_env = clean_env(home, OPENAI_API_KEY="test-key", OPENAI_BASE_URL=srv.openai_base_url)
    task = [*friday, "-p", "hello", "--model"]
    return {
        FLOOR: Series([sys.executable, str(script)], anthropic_env, "/v1/messages"),
        FRIDAY: Series([*task, "anthropic:claude-sonnet-4-5"], anthropic_env, "/v1/messages"),
        FRIDAY_CHAT: Series([*task, "openai-chat:gpt-4o"], chat_env, "/v1/chat/completions"),
    }


def run_once(name: str, series: Series, srv: FakeLLM, cwd: Path) -> tuple[Run, float]:
    """One run; returns it with the seconds from process start to its request."""
    before = len(srv.requests)
    srv.add_turns([{"text": REPLY, "chunk_size": CHUNK}])
    run = check(run_child(series.cmd, series.env, cwd), name)
    new = srv.requests[before:]
    if [r.path for r in new] != [series.path]:
        raise SystemExit(f"bench: {name} sent {[r.path for r in new]}, expected {series.path}")
    if run.stdout.strip() != REPLY.strip():
        raise SystemExit(f"bench: {name} printed {run.stdout[:200]!r}, not the reply")
    return run, new[0].received_at - run.started_at


def measure(all_series: dict[str, Series], srv: FakeLLM, cwd: Path, runs: int) -> None:
    for i in range(runs + 1):
        for name in rotated(list(all_series), i):
            series = all_series[name]
            run, first = run_once(name, series, srv, cwd)
            if i:  # the first round warms the page cache
                for metric, value in zip(
                    METRICS, (run.wall, first, run.cpu, run.maxrss_kib), strict=True
                ):
                    series.values[metric].append(value)


def report(all_series: dict[str, Series]) -> None:
    rows, stats = [], {}
    for name, series in all_series.items():
        for number, (metric, (label, fmt, _target)) in enumerate(METRICS.items()):
            st = stats[f"{name} {label}"] = Stats.of(series.values[metric])
            first_col = name if number == 0 else ""
            rows.append([first_col, label, fmt(st.min), fmt(st.median), fmt(st.max)])
    print(table(["command", "metric", "min", "median", "max"], rows, left=2))
    print()
    header = ["minus floor (medians)", "friday anthropic", "target", "", "friday openai-chat"]
    print(table(header, delta_rows(all_series)))
    if note := noise_note({k: v for k, v in stats.items() if "RSS" not in k}):
        print(note)


def delta_rows(all_series: dict[str, Series]) -> list[list[str]]:
    floor, friday, chat = (all_series[n] for n in (FLOOR, FRIDAY, FRIDAY_CHAT))
    rows = []
    for metric, (label, fmt, target) in METRICS.items():
        delta = friday.median(metric) - floor.median(metric)
        chat_delta = chat.median(metric) - floor.median(metric)
        rows.append(
            [
                label,
                signed(delta, fmt),
                f"<= +{fmt(target)}" if target is not None else "",
                verdict(delta, target) if target is not None else "",
                signed(chat_delta, fmt),
            ]
        )
    return rows


def signed(value: float, fmt: Callable[[float], str]) -> str:
    return ("-" if value < 0 else "+") + fmt(abs(value))


def print_imports(
    all_series: dict[str, Series], srv: FakeLLM, cwd: Path, friday: list[str]
) -> None:
    """Where Friday's start-up goes before its first request: one -X importtime run."""
    series = all_series[FRIDAY]
    srv.add_turns([{"text": REPLY, "chunk_size": CHUNK}])
    args = [*script_args(friday), *series.cmd[len(friday) :]]
    rows = [[name, f"{us / 1000:.0f} ms"] for name, us in import_times(args, series.env, cwd, 5000)]
    print()
    print(f"imports on the {FRIDAY} path (one -X importtime run, cumulative, >= 5 ms):")
    print(table(["import", "time"], rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.oneshot")
    runs_option(parser, 7)
    parser.add_argument(
        "--imports", action="store_true", help="also show Friday's imports (-X importtime)"
    )
    args = parser.parse_args(argv)
    friday, label = friday_command()
    print(f"== oneshot: {args.runs} interleaved runs each (after 1 warm-up round)")
    print(f"reply: {len(REPLY)} characters in {-(-len(REPLY) // CHUNK)} deltas, no server delay")
    print(f"measured: {label}")
    print(shim_note())
    print(load_note())
    with scratch() as root, FakeLLM([]) as srv:
        all_series = build_series(root, srv, friday)
        measure(all_series, srv, root / "work", args.runs)
        report(all_series)
        if args.imports:
            print_imports(all_series, srv, root / "work", friday)
    print(load_note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
