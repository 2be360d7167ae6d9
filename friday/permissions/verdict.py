"""What the permission analyzer says about a command: a decision, and why.

A `Verdict` is the most severe of its reasons (deny > ask > allow). Each reason points at
the part of the command it is about (`span`, character offsets into the command) and, when
it belongs to one simple command, at that sub-command (`sub`, an index into
`Verdict.subcommands`), so policy rules and session approvals can act on one part without
touching the others. Reason codes are a public interface: scripts and user rules rely on
them, so they never change meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

Decision = Literal["allow", "ask", "deny"]
SEVERITY: dict[str, int] = {"allow": 0, "ask": 1, "deny": 2}

# -- reason codes ----------------------------------------------------------------------------
# The command as a whole
PARSE_ERROR = "PARSE_ERROR"  # the parser failed (bashlex raised, or the input is not bash)
UNSUPPORTED_SYNTAX = "UNSUPPORTED_SYNTAX"  # valid bash not judged: [[ ]], case, ...
LIMIT = "LIMIT"  # too long, too many sub-commands, nested too deep
BACKGROUND = "BACKGROUND"  # `&`: a job that outlives the call
FUNCTION_DEF = "FUNCTION_DEF"  # defines a function (may shadow a program)
# Words and expansions
DYNAMIC_EXPANSION = "DYNAMIC_EXPANSION"  # ${..} beyond a name, $'..', ${IFS}
COMMAND_SUBSTITUTION = "COMMAND_SUBSTITUTION"  # $(..), `..`, <(..), >(..)
ENV_ASSIGNMENT = "ENV_ASSIGNMENT"  # VAR=x outside the benign set (LD_PRELOAD=, PATH=, ...)
# Programs and their arguments
UNKNOWN_PROGRAM = "UNKNOWN_PROGRAM"  # not in the program specs
PATH_PROGRAM = "PATH_PROGRAM"  # ./cat, /tmp/x/cat: not the program the spec describes
PROGRAM_ASK = "PROGRAM_ASK"  # a known program that always asks (interpreter, editor, pager,
#                              package manager, test runner, build tool, eval/source/exec)
EXEC_FLAG = "EXEC_FLAG"  # a flag that runs code (find -exec, rg --pre, git -c, sed e, ...)
WRITE_FLAG = "WRITE_FLAG"  # a flag that writes a file (sort -o, sed -i, tree -o, ...)
FILE_WRITE = "FILE_WRITE"  # a program that creates or changes files (mkdir, touch, cp, mv)
FILE_DELETE = "FILE_DELETE"  # a program that deletes files (rm, rmdir, find -delete)
NETWORK = "NETWORK"  # reaches the network (curl, ssh, git push, pip install, ...)
PRIVILEGE = "PRIVILEGE"  # sudo, doas, su
OUTSIDE_WORKSPACE = "OUTSIDE_WORKSPACE"  # cd out of the workspace, or runs from outside it
REDIRECT_WRITE = "REDIRECT_WRITE"  # > >> &> to a file other than /dev/null
SECRET_READ = "SECRET_READ"  # reads .env, ~/.ssh, *.pem, printenv, ...
# Deny-class
DESTRUCTIVE_TARGET = "DESTRUCTIVE_TARGET"  # rm -rf /, ~, .git, the workspace; mkfs; dd to a device;
#                                            writes to a block device or a system file; fork bomb
PIPE_TO_SHELL = "PIPE_TO_SHELL"  # curl .. | sh, bash <(curl ..), sh -c "$(curl ..)"
# Policy layer
RULE_DENY = "RULE_DENY"
RULE_ASK = "RULE_ASK"
RULE_ALLOW = "RULE_ALLOW"
OVERRIDE = "OVERRIDE"  # an explicit user rule silenced a built-in deny or secret-read ask
MODE = "MODE"  # the permission mode decided (plan: nothing that writes or runs)

CODES: tuple[str, ...] = (
    PARSE_ERROR, UNSUPPORTED_SYNTAX, LIMIT, BACKGROUND, FUNCTION_DEF, DYNAMIC_EXPANSION,
    COMMAND_SUBSTITUTION, ENV_ASSIGNMENT, UNKNOWN_PROGRAM, PATH_PROGRAM, PROGRAM_ASK,
    EXEC_FLAG, WRITE_FLAG, FILE_WRITE, FILE_DELETE, NETWORK, PRIVILEGE, OUTSIDE_WORKSPACE,
    REDIRECT_WRITE, SECRET_READ, DESTRUCTIVE_TARGET, PIPE_TO_SHELL, RULE_DENY, RULE_ASK,
    RULE_ALLOW, OVERRIDE, MODE,
)  # fmt: skip

# Reasons an allow rule matching the sub-command's argv may lift: they are about which
# program runs with which arguments, which is exactly what the rule names. Everything else
# (parse trouble, substitutions, redirects, env assignments, background jobs) stays, so a
# rule for `npm run test` never approves `npm run test > ~/.bashrc`.
LIFTABLE: frozenset[str] = frozenset(
    {UNKNOWN_PROGRAM, PATH_PROGRAM, PROGRAM_ASK, EXEC_FLAG, WRITE_FLAG, FILE_WRITE,
     FILE_DELETE, NETWORK}
)  # fmt: skip
# Built-in safety that only an explicit `override = true` user rule may silence (logged).
GUARDED: frozenset[str] = frozenset({SECRET_READ, DESTRUCTIVE_TARGET, PIPE_TO_SHELL})


def most_severe(decisions: Any) -> Decision:
    """The most severe of `decisions` (allow when there are none)."""
    best: Decision = "allow"
    for d in decisions:
        if SEVERITY[d] > SEVERITY[best]:
            best = d
    return best


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str
    decision: Decision
    span: tuple[int, int] | None = None  # [start, end) in the command text
    sub: int | None = None  # index into Verdict.subcommands
    path: str | None = None  # the absolute path a write/read/delete reason is about

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "decision": self.decision,
        }
        if self.span is not None:
            out["span"] = list(self.span)
        if self.sub is not None:
            out["sub"] = self.sub
        if self.path is not None:
            out["path"] = self.path
        return out


@dataclass(frozen=True, slots=True)
class SubCommand:
    """One simple command after normalisation: quotes removed, wrappers (`timeout`,
    `env`, `sudo`, `bash -c '..'`, `find -exec ..`, `xargs ..`) unwrapped into sub-commands
    of their own, `/usr/bin/git` named `git`. `scope` is the argv pattern a "for this
    session" approval of this part would add (program, plus its subcommand when the
    program has them), e.g. ("git", "push", "*")."""

    argv: tuple[str, ...]
    span: tuple[int, int] | None = None
    program: str | None = None  # the spec that judged it, None when unknown
    scope: tuple[str, ...] = ()
    wrapper: str | None = None  # set when this part was found inside a wrapper or -exec

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"argv": list(self.argv), "program": self.program}
        if self.span is not None:
            out["span"] = list(self.span)
        if self.scope:
            out["scope"] = list(self.scope)
        if self.wrapper:
            out["wrapper"] = self.wrapper
        return out


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reasons: tuple[Reason, ...] = ()
    subcommands: tuple[SubCommand, ...] = ()
    matched_rules: tuple[str, ...] = ()  # human-readable rule labels (file:line or flag)

    @classmethod
    def of(
        cls,
        reasons: tuple[Reason, ...] | list[Reason],
        subcommands: tuple[SubCommand, ...] | list[SubCommand] = (),
        matched_rules: tuple[str, ...] | list[str] = (),
    ) -> Verdict:
        """A verdict whose decision is the most severe of its reasons."""
        reasons = tuple(reasons)
        return cls(
            most_severe(r.decision for r in reasons),
            reasons,
            tuple(subcommands),
            tuple(matched_rules),
        )

    def reasons_for(self, sub: int) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.sub == sub)

    def sub_decision(self, sub: int) -> Decision:
        return most_severe(r.decision for r in self.reasons if r.sub == sub)

    def with_reasons(self, reasons: list[Reason] | tuple[Reason, ...], rules: Any = ()) -> Verdict:
        """The same parse with other reasons (decision recomputed), rules appended."""
        return replace(
            self,
            decision=most_severe(r.decision for r in reasons),
            reasons=tuple(reasons),
            matched_rules=(*self.matched_rules, *rules),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reasons": [r.to_dict() for r in self.reasons],
            "subcommands": [s.to_dict() for s in self.subcommands],
            "matched_rules": list(self.matched_rules),
        }

    def explain(self, command: str) -> str:
        """A readable form: the decision, then each reason with the part it points at."""
        lines = [f"{self.decision.upper()}: {command}"]
        for r in self.reasons:
            where = ""
            if r.span is not None:
                part = command[r.span[0] : r.span[1]]
                where = f"  [{part}]" if part else ""
            lines.append(f"  {r.decision:<5} {r.code}: {r.message}{where}")
        for i, s in enumerate(self.subcommands):
            lines.append(f"  part {i}: {' '.join(s.argv)}  ({self.sub_decision(i)})")
        if self.matched_rules:
            lines.append("  rules: " + ", ".join(self.matched_rules))
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ShellContext:
    """Where a command would run. `cwd` is the shell's current directory (it persists
    between calls), `root` the workspace root, `home` the user's home directory."""

    cwd: str
    root: str
    home: str
    env: dict[str, str] = field(default_factory=dict)
