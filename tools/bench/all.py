"""Every benchmark in sequence: `python -m tools.bench.all`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from tools.bench import (
    analyzer,
    edit_latency,
    oneshot,
    read_cache,
    request_size,
    search,
    shell_overhead,
    startup,
    tokens,
    turn_overhead,
)

BENCHMARKS: list[Callable[[list[str] | None], int]] = [
    startup.main,
    oneshot.main,
    request_size.main,
    turn_overhead.main,
    read_cache.main,
    edit_latency.main,
    analyzer.main,
    shell_overhead.main,
    tokens.main,
    search.main,  # builds a 50,000-file tree first (about 20 s)
]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m tools.bench.all",
        description="every benchmark in tools/bench with its defaults",
    ).parse_args(argv)
    status = 0
    for number, bench in enumerate(BENCHMARKS):
        if number:
            print(flush=True)
        status = max(status, bench([]))
        sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
