"""`python -m tools.fakellm --script FILE`: serve a script until SIGINT/SIGTERM, for e2e tests
of the installed `friday` binary and for benchmarks that need a model without a network."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from tools.fakellm.server import FakeLLM, is_loopback


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.fakellm",
        description="Scripted fake LLM server (Anthropic Messages, OpenAI Chat and Responses).",
    )
    parser.add_argument("--script", required=True, help="JSON file: a list of turns or {turns}")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    parser.add_argument("--port-file", type=Path, help="write the chosen port to this file")
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        parser.error(f"--host must be a loopback address, not {args.host!r}")
    return args


def write_port(path: Path, port: int) -> None:
    """Write through a rename so a reader polling the file never sees half a number."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{port}\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        server = FakeLLM.from_file(args.script, port=args.port, host=args.host)
    except (OSError, ValueError) as exc:
        print(f"fakellm: cannot load {args.script}: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with server:
        if args.port_file:
            write_port(args.port_file, server.port)
        print(f"fakellm listening on {server.base_url}", flush=True)
        while not done.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
