"""The `friday` command: argument parsing, mode selection and exit codes.

This module imports only the standard library, so `friday --version` and `--help`
answer without loading an SDK; each mode imports what it needs when it runs.

Exit codes (a public interface):
    0    success
    1    the run failed (an error during execution, a bad request)
    2    usage or configuration error (bad flags, no API key, bad key, unknown model)
    3    --max-turns reached
    4    --max-budget-usd reached
    75   gave up on a retryable error (rate limit, overload, server, network)
    130  interrupted (SIGINT)
    141  stdout was closed by its reader (a broken pipe); the run was stopped
    143  terminated (SIGTERM)
"""

from __future__ import annotations

import argparse
import sys

from friday import __version__
from friday.exit_codes import EXIT_USAGE

EPILOG = """\
models are named provider:model, e.g. anthropic:claude-sonnet-4-5 (Messages API),
openai:gpt-5 (Responses API), openai-chat:gpt-4o (Chat Completions; any compatible
server via OPENAI_BASE_URL), deepseek:deepseek-chat, ollama:qwen3, scripted:FILE.
With no --model, Friday picks from the API keys in the environment.

exit codes: 0 success, 1 run failed, 2 usage or configuration error, 3 --max-turns
reached, 4 budget exceeded, 75 gave up on a retryable error, 130 SIGINT, 141 stdout
closed by its reader, 143 SIGTERM.

commands:
  friday permissions check -- COMMAND   how the permission policy judges COMMAND
  friday permissions trust [DIR]        trust DIR's .friday/policy.toml as it is now

examples:
  friday -p "explain the failing test"
  git diff | friday -p "write the commit message"
  cat log | friday -p "explain" --output-format json | jq .result
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]  # never returns; no `typing` import
        self.exit(EXIT_USAGE, f"friday: error: {message} (see friday --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="friday",
        description="Friday, a transparent, model-agnostic coding agent for the terminal.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("prompt", nargs="?", help="the task (with -p); read from stdin when absent")
    p.add_argument(
        "-p",
        "--print",
        action="store_true",
        help="run one task without the interactive UI and print the result",
    )
    p.add_argument(
        "--output-format",
        choices=("text", "json", "stream-json"),
        default="text",
        help="text: the final answer; json: one result object; stream-json: one event a line",
    )
    p.add_argument(
        "--include-partial-messages",
        action="store_true",
        help="with stream-json: also print text and tool-output deltas as they arrive",
    )
    p.add_argument("-m", "--model", help="the model, as provider:model")
    p.add_argument(
        "--fallback-model",
        action="append",
        default=[],
        metavar="MODEL",
        help="a model to use when the main one keeps failing (repeatable, or comma-separated)",
    )
    p.add_argument("--max-turns", type=_positive_int, help="stop after this many model turns")
    p.add_argument(
        "--max-budget-usd", type=_positive_float, help="stop once the run has cost this much"
    )
    p.add_argument(
        "--permission-mode",
        choices=("default", "accept-edits", "plan", "bypass"),
        help="default: read-only commands and workspace edits run, the rest asks; "
        "accept-edits: file-writing commands inside the workspace run too; plan: nothing "
        "that writes or runs; bypass: everything runs except what the policy denies",
    )
    p.add_argument(
        "--policy",
        metavar="PRESET|FILE",
        help="the permission preset (default, strict, trusted) or a policy file",
    )
    p.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="RULE",
        help="allow commands matching RULE, the words of a command with * wildcards "
        "(e.g. 'npm run test', 'git push *'), or tool:NAME (repeatable)",
    )
    p.add_argument(
        "--deny",
        action="append",
        default=[],
        metavar="RULE",
        help="deny commands matching RULE (same form as --allow; repeatable)",
    )
    p.add_argument("-C", "--cwd", help="work in this directory instead of the current one")
    p.add_argument("--append-system-prompt", help="text added to the end of the system prompt")
    p.add_argument("--verbose", action="store_true", help="show progress on stderr")
    p.add_argument("--version", action="version", version=f"friday {__version__}")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["permissions"]:
        from friday.ui.permissions_cmd import main as permissions_main

        return permissions_main(argv[1:])
    args = build_parser().parse_args(argv)
    if not args.print and sys.stdin.isatty() and args.prompt is None:
        print(
            "friday: the interactive mode is not in this version yet; "
            'run a task with: friday -p "your task"',
            file=sys.stderr,
        )
        return EXIT_USAGE
    from friday.ui.headless import run_headless

    return run_headless(args)


if __name__ == "__main__":
    sys.exit(main())
