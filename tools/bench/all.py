"""Every benchmark in sequence: `python -m tools.bench.all`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from tools.bench import oneshot, request_size, startup, turn_overhead

BENCHMARKS: list[Callable[[list[str] | None], int]] = [
    startup.main,
    oneshot.main,
    request_size.main,
    turn_overhead.main,
]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m tools.bench.all",
        description="startup, oneshot, request_size and turn_overhead with their defaults",
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
