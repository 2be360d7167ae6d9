"""`friday permissions ...`: try the permission policy from the command line.

`check` prints the verdict on a command as one JSON line (for scripts, and for users
testing their rules); `check --stdin` judges one command per input line and never stops
on a bad one, which is also how the analyzer is measured. `trust` trusts a project's
`.friday/policy.toml` as it is now, so its allow rules take effect.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

EXIT_OK = 0
EXIT_USAGE = 2

CHECK_EPILOG = """\
The command is the words after --: one argument is taken as the command text as it is
(`-- 'ls | wc -l'`); several are joined with single spaces.

--stdin reads one command per line and prints exactly one JSON object per line, in
order. Inside a line, \\n stands for a newline (for multi-line commands) and \\\\ for one
backslash; every other character, other backslashes included, is taken literally. A
blank line gets an object too. A line the analyzer cannot handle is judged "ask" with a
PARSE_ERROR reason; the run goes on.

The working directory is --cwd (default: the current directory) and the workspace root
is that same directory; its .friday/policy.toml applies (allow rules once trusted).

exit status: 0 once the verdicts are printed, 2 for a bad policy file or bad usage.

examples:
  friday permissions check -- git status
  friday permissions check --explain -- 'find . -name "*.py" -exec rm {} +'
  printf 'ls\\ncat .env\\n' | friday permissions check --stdin
"""


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise _UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def _parser() -> _Parser:
    parser = _Parser(
        prog="friday permissions",
        description="Check commands against the permission policy, or trust a project.",
    )
    subs = parser.add_subparsers(dest="action", required=True, parser_class=_Parser)
    check = subs.add_parser(
        "check",
        help="print the verdict on a command as JSON",
        description="Print the permission verdict on a command as one JSON line.",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "--policy",
        metavar="P",
        help="a preset name (default, strict, trusted), or a policy file used instead of "
        "your user policy file",
    )
    check.add_argument("--preset", metavar="NAME", help="preset name or file (default: default)")
    check.add_argument("--cwd", metavar="D", help="directory the command runs in")
    check.add_argument(
        "--mode", metavar="M", help="permission mode: default, accept-edits, plan, bypass"
    )
    check.add_argument("--allow", action="append", default=[], metavar="RULE")
    check.add_argument("--deny", action="append", default=[], metavar="RULE")
    check.add_argument("--explain", action="store_true", help="readable output, not JSON")
    check.add_argument("--stdin", action="store_true", help="one command per input line")
    check.add_argument("command", nargs="*", help="the command (after --)")
    trust = subs.add_parser(
        "trust",
        help="trust a project's .friday/policy.toml as it is now",
        description="Trust DIR/.friday/policy.toml as it is now, so its allow rules apply. "
        "Any later change to the file needs trust again.",
    )
    trust.add_argument("dir", nargs="?", default=".", metavar="DIR")
    return parser


def main(argv: list[str], stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    from friday.permissions.rules import PolicyError

    try:
        if args.action == "trust":
            return _trust(Path(args.dir), out)
        return _check(args, stdin or _raw_stdin(), out)
    except PolicyError as exc:
        print(f"friday permissions: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the reader went away (`... | head -1`): not an error of ours
        _silence(out)
        return EXIT_OK


def _silence(out: TextIO) -> None:
    """Point a closed stdout at /dev/null so the interpreter's last flush stays quiet."""
    import contextlib

    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())


# -- check -----------------------------------------------------------------------------


def _check(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    if args.stdin and args.command:
        raise_usage = "give the command after -- or use --stdin, not both"
        print(f"friday permissions check: error: {raise_usage}", file=sys.stderr)
        return EXIT_USAGE
    if not args.stdin and not args.command:
        print(
            "friday permissions check: error: give a command after --, or use --stdin "
            "(see friday permissions check --help)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    cwd = Path(os.path.abspath(args.cwd or os.getcwd()))
    if not cwd.is_dir():
        print(
            f"friday permissions check: error: --cwd {args.cwd}: no such directory", file=sys.stderr
        )
        return EXIT_USAGE
    from friday.permissions.policy import load_policy
    from friday.permissions.presets import split_policy_choice
    from friday.permissions.verdict import ShellContext

    preset, policy_file = split_policy_choice(args.policy, Path.cwd())
    policy = load_policy(
        cwd,
        os.environ,
        preset=args.preset or preset,
        mode=args.mode,
        allow=args.allow,
        deny=args.deny,
        policy_file=policy_file,
    )
    for notice in policy.notices:
        print(f"friday permissions: {notice}", file=sys.stderr)
    home = os.environ.get("HOME", "")
    ctx = ShellContext(cwd=str(cwd), root=str(cwd), home=home, env=dict(os.environ))
    if not args.stdin:
        command = args.command[0] if len(args.command) == 1 else " ".join(args.command)
        _emit(command, _judge(policy, command, ctx), args.explain, out)
        return EXIT_OK
    for line in stdin:
        command = decode_line(line.removesuffix("\n").removesuffix("\r"))
        _emit(command, _judge(policy, command, ctx), args.explain, out)
    return EXIT_OK


def _raw_stdin() -> TextIO:
    """Lines end at `\n` only (a stray `\r` stays inside its command), and bytes that are
    not UTF-8 reach the analyzer as they are rather than ending the run."""
    import io

    return io.TextIOWrapper(
        sys.stdin.buffer, encoding="utf-8", errors="surrogateescape", newline="\n"
    )


def decode_line(line: str) -> str:
    """`\\n` is a newline, `\\\\` a backslash; everything else is literal."""
    out: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        nxt = line[i + 1] if i + 1 < len(line) else ""
        if ch == "\\" and nxt in ("n", "\\"):
            out.append("\n" if nxt == "n" else "\\")
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _judge(policy: Any, command: str, ctx: Any) -> Any:
    """Never raises: an internal error is a verdict of its own (ask, PARSE_ERROR)."""
    from friday.permissions.verdict import PARSE_ERROR, Reason, Verdict

    try:
        return policy.judge_shell(command, ctx)
    except Exception as exc:
        message = f"internal error while judging ({type(exc).__name__}: {exc}); judged as ask"
        return Verdict.of([Reason(PARSE_ERROR, message, "ask")])


def _emit(command: str, verdict: Any, explain: bool, out: TextIO) -> None:
    import json

    if explain:
        text = verdict.explain(command).encode("utf-8", "backslashreplace").decode("utf-8")
        out.write(text + "\n")
    else:
        out.write(json.dumps({"command": command, **verdict.to_dict()}) + "\n")
    out.flush()


# -- trust -----------------------------------------------------------------------------


def _trust(folder: Path, out: TextIO) -> int:
    from friday.permissions.policy import project_policy_path
    from friday.permissions.presets import read_policy_file
    from friday.permissions.trust import TrustStore

    root = Path(os.path.abspath(folder))
    path = project_policy_path(root)
    if not path.is_file():
        print(
            f"friday permissions trust: error: {path}: no project policy file to trust",
            file=sys.stderr,
        )
        return EXIT_USAGE
    parsed = read_policy_file(path, str(path), "project", label=".friday/policy.toml")
    TrustStore.from_env(os.environ).trust(root, parsed.digest)
    loosening = [r for r in parsed.rules if r.decision == "allow"]
    out.write(f"trusted {path} as it is now (sha256 {parsed.digest[:12]})\n")
    if not loosening:
        out.write("it allows nothing beyond the preset; its deny and ask rules always apply\n")
    else:
        out.write(f"its {len(loosening)} allow rule(s) now apply:\n")
        for rule in loosening:
            out.write(f"  {rule.label()}\n")
    out.flush()
    return EXIT_OK
