"""Token counting: how long the offline cl100k encoder takes to load, how fast it counts,
and how far the characters-per-token estimate it falls back to is from it.

    python -m tools.bench.tokens [--runs 5]

- load: a fresh interpreter per run (clean environment, an empty TIKTOKEN_CACHE_DIR, so
  nothing cached helps) timing `build_counter()`: import tiktoken, find and verify the
  file, parse the ranks, build the encoding. Min / median / max of `--runs`.
- throughput: `TokenCounter.count` over the text of every message of
  ../shared/trajectories/*.traj.json (UTF-8 MB per second, median of 3 passes), and over
  1 MB of one repeated character, the tokenizer's slow case, whole and in chunks.
- calibration: cl100k characters per token per message (median, p10, p90, and the total)
  beside the estimate's CHARS_PER_TOKEN, and the estimate's error against cl100k per
  message, |estimate - actual| / actual (median, p90), with the share it under-counts.

No target: the figures back the constants in friday/context/tokens.py. Without
../shared/trajectories (or FRIDAY_SHARED_DIR) the trajectory parts are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from friday.context.tokens import (
    CHARS_PER_TOKEN,
    CHUNK_CHARS,
    TokenCounter,
    build_counter,
    estimate_chars,
)
from tools.bench.common import (
    REPO,
    Stats,
    check,
    clean_env,
    load_note,
    ms,
    noise_note,
    run_child,
    runs_option,
    scratch,
    table,
)

PROBE = """\
import json, time
t0 = time.perf_counter()
import tiktoken
t1 = time.perf_counter()
from friday.context.tokens import build_counter
counter = build_counter()
t2 = time.perf_counter()
assert counter.count("hello world") == 2, counter.note
print(json.dumps({"import": t1 - t0, "build": t2 - t1, "name": counter.name}))
"""


def shared_dir() -> Path:
    return Path(os.environ.get("FRIDAY_SHARED_DIR", REPO.parent / "shared"))


def trajectory_texts(folder: Path) -> dict[str, list[str]]:
    """The text of each message, per trajectory file (mini-swe-agent format)."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.traj.json")):
        texts = []
        for message in json.loads(path.read_text(encoding="utf-8")).get("messages", []):
            content = message.get("content")
            if isinstance(content, list):  # content parts: keep their text
                content = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            if isinstance(content, str) and content:
                texts.append(content)
        found[path.name.removesuffix(".traj.json")] = texts
    return found


def load_times(runs: int) -> tuple[dict[str, Stats], str]:
    imports: list[float] = []
    builds: list[float] = []
    name = ""
    with scratch() as root:
        cache = root / "tiktoken-cache"
        cache.mkdir()
        env = clean_env(root / "home", TIKTOKEN_CACHE_DIR=str(cache), PYTHONPATH=str(REPO))
        for _ in range(runs):
            run = check(run_child([sys.executable, "-c", PROBE], env, root / "work"), "load")
            got = json.loads(run.stdout.strip().splitlines()[-1])
            imports.append(got["import"])
            builds.append(got["build"])
            name = got["name"]
        leftover = sorted(os.listdir(cache))
    if leftover:
        name += f" (wrote to the cache dir: {leftover})"
    stats = {"import tiktoken": Stats.of(imports), "build_counter()": Stats.of(builds)}
    return stats, name


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median seconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def throughput_rows(counter: TokenCounter, texts: list[str]) -> list[list[object]]:
    rows: list[list[object]] = []
    if texts:
        mb = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) / 1e6
        seconds = timed(lambda: [counter.count(t) for t in texts])
        rows.append(["trajectory messages", f"{mb:.2f} MB", ms(seconds), f"{mb / seconds:.1f}"])
    one_char = "a" * 1_000_000
    encoding = counter._encoding
    if encoding is not None:
        whole = timed(lambda: encoding.encode_ordinary(one_char))
        rows.append(["1 MB of 'a', one encode call", "1.00 MB", ms(whole), f"{1 / whole:.1f}"])
    chunked = timed(lambda: counter.count(one_char))
    label = f"1 MB of 'a', count() ({CHUNK_CHARS:,}-char chunks)"
    rows.append([label, "1.00 MB", ms(chunked), f"{1 / chunked:.1f}"])
    return rows


def quantile(values: list[float], q: int) -> float:
    """The q-th percentile (statistics' default, exclusive method)."""
    return statistics.quantiles(values, n=100)[q - 1]


def calibration_rows(
    counter: TokenCounter, per_file: dict[str, list[str]]
) -> tuple[list[list[object]], list[float], list[float]]:
    rows: list[list[object]] = []
    all_ratios: list[float] = []
    errors: list[float] = []
    total_chars = total_tokens = 0
    for name, texts in per_file.items():
        counts = [counter.count(t) for t in texts]
        pairs = [(len(t), n) for t, n in zip(texts, counts, strict=True) if n]
        ratios = [size / n for size, n in pairs]
        errors += [abs(estimate_chars(size) - n) / n for size, n in pairs]
        chars, tokens = sum(map(len, texts)), sum(counts)
        total_chars += chars
        total_tokens += tokens
        all_ratios += ratios
        rows.append(ratio_row(name, ratios, chars, tokens))
    rows.append(ratio_row("all", all_ratios, total_chars, total_tokens))
    return rows, all_ratios, errors


def ratio_row(name: str, ratios: list[float], chars: int, tokens: int) -> list[object]:
    return [
        name,
        len(ratios),
        f"{chars:,}",
        f"{tokens:,}",
        f"{statistics.median(ratios):.2f}",
        f"{quantile(ratios, 10):.2f}",
        f"{quantile(ratios, 90):.2f}",
        f"{chars / tokens:.2f}",
    ]


def report_trajectories(counter: TokenCounter, texts: dict[str, list[str]]) -> None:
    rows, ratios, errors = calibration_rows(counter, texts)
    print(f"\ncl100k characters per token, per message (the estimate uses {CHARS_PER_TOKEN}):")
    header = ["trajectory", "messages", "chars", "tokens", "median", "p10", "p90", "total"]
    print(table(header, rows))
    under = sum(r < CHARS_PER_TOKEN for r in ratios) / len(ratios)
    print(
        f"\nestimate vs cl100k, |est - actual| / actual per message: "
        f"median {statistics.median(errors):.1%}, p90 {quantile(errors, 90):.1%}; "
        f"under-counts {under:.1%} of messages"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench.tokens", description=__doc__.split("\n\n")[0]
    )
    runs_option(parser, 5)
    args = parser.parse_args(argv)

    print("bench: token counting (friday/context/tokens.py)")
    print(load_note())
    stats, name = load_times(args.runs)
    print(f"\nencoder load in a fresh interpreter, {args.runs} runs: {name}")
    rows = [[k, ms(s.min), ms(s.median), ms(s.max)] for k, s in stats.items()]
    print(table(["step", "min", "median", "max"], rows))
    if note := noise_note(stats):
        print(note)

    counter = build_counter()
    if counter.note:
        print(f"counter: {counter.name}: {counter.note}")
    folder = shared_dir() / "trajectories"
    texts = trajectory_texts(folder) if folder.is_dir() else {}
    flat = [t for group in texts.values() for t in group]
    print(f"\ncounting throughput ({counter.name}, median of 3):")
    header = ["text", "size", "time", "MB/s"]
    print(table(header, throughput_rows(counter, flat)))

    if not flat:
        print(f"\nskipped the calibration: no trajectories in {folder} (../shared beside the repo)")
        return 0
    if counter._encoding is None:
        print("\nskipped the calibration: it needs the cl100k encoding")
        return 0
    report_trajectories(counter, texts)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
