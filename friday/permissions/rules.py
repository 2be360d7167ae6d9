"""Policy rules: an argv pattern (or a tool name) and a decision, matched per sub-command.

Rules never look at the raw command string: the analyzer splits a command into normalised
sub-commands (quotes removed, wrappers unwrapped, `/usr/bin/git` named `git`) and a rule
is tried on each one's argv, so `git:*`-style rules cannot approve `git status; curl x | sh`.

Allow rules match strictly: the pattern is a literal prefix of argv (each token an
fnmatch glob on one argument), and the program is named exactly. Deny and ask rules are
matched loosely, because their job is to catch every spelling of a command: the program
also matches by basename (`/opt/x/rm`), clustered short flags are split (`-rf` = `-r -f` =
`-fr`), long flags match by abbreviation and in `--flag=value` form, the pattern's flags
may appear anywhere among the arguments (deny `rm -r -f` catches `rm x -fr`), and options
with their values may stand before the subcommand words (`git -C dir push -f`). In both
modes a trailing `*` also matches nothing, so the session scope `git push *` covers a bare
`git push` too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from friday.permissions.verdict import (
    GUARDED,
    LIFTABLE,
    OVERRIDE,
    RULE_ALLOW,
    RULE_ASK,
    RULE_DENY,
    Decision,
    Reason,
    Verdict,
)

DECISIONS: tuple[str, ...] = ("allow", "ask", "deny")
SHELL_TOOL = "bash"
_GLOB = re.compile(r"[*?\[]")
# Spellings that mean the same flag for the destructive verbs deny rules are written for
# (rm, cp, chmod, chown): loose matching treats them as one.
_FLAG_ALIASES = {"--recursive": "-r", "-R": "-r", "--force": "-f"}


class PolicyError(Exception):
    """A policy problem, phrased as one line: `file:line: what is wrong, and what to do`."""


@dataclass(frozen=True)
class Rule:
    pattern: tuple[str, ...]
    decision: Decision
    tool: str = SHELL_TOOL
    exact: bool = False
    override: bool = False
    reason: str = ""
    source: str = ""

    @property
    def is_shell(self) -> bool:
        return bool(self.pattern)

    def label(self) -> str:
        """What the rule is and where it came from, e.g.
        `allow npm run test (user ~/.config/friday/policy.toml:12)`."""
        what = _pattern_text(self.pattern) if self.pattern else f"tool:{self.tool}"
        if self.exact:
            what += " (exact)"
        if self.override:
            what += " (override)"
        where = f" ({self.source})" if self.source else ""
        return f"{self.decision} {what}{where}"


def _pattern_text(pattern: Sequence[str]) -> str:
    import shlex

    return " ".join(t if t == "*" else shlex.quote(t) for t in pattern)


def parse_rule_text(text: str, decision: Decision, source: str) -> Rule:
    """A rule from a `--allow`/`--deny` flag: the shell words of an argv pattern
    (`"npm run test"`, `"git push *"`), or `tool:NAME` for a non-shell tool. An allow
    pattern may start with `override:` to silence built-in guards (secret reads,
    destructive targets) for the commands it matches; that is shown on every use."""
    import shlex

    flag = source or f"--{decision}"
    body = text.strip()
    if decision not in DECISIONS:
        raise PolicyError(f"{flag}: decision must be one of allow, ask, deny, got {decision!r}")
    if body.startswith("tool:"):
        name = body[5:].strip()
        if not name or name == SHELL_TOOL:
            raise PolicyError(
                f"{flag} {text!r}: name a non-shell tool after 'tool:', e.g. tool:write_file; "
                "for shell commands give the command words, e.g. 'npm run test'"
            )
        return Rule((), decision, tool=name, source=source)
    override = body.startswith("override:")
    if override:
        if decision != "allow":
            raise PolicyError(f"{flag} {text!r}: 'override:' only makes sense on --allow")
        body = body[len("override:") :]
    try:
        words = tuple(shlex.split(body))
    except ValueError as exc:
        raise PolicyError(f"{flag} {text!r}: {exc}; quote the pattern as shell words") from None
    if not words:
        raise PolicyError(
            f"{flag} needs a command pattern such as 'npm run test' or 'git push *', "
            "or tool:NAME for another tool"
        )
    rule = Rule(words, decision, override=override, source=source)
    check_pattern(rule, flag)
    return rule


def check_pattern(rule: Rule, where: str) -> None:
    """Refuse patterns that cannot mean what their author wants."""
    if not rule.pattern:
        return
    if any(not isinstance(t, str) or not t for t in rule.pattern):
        raise PolicyError(f"{where}: pattern tokens must be non-empty strings")
    if rule.decision == "allow" and _GLOB.search(rule.pattern[0]):
        raise PolicyError(
            f"{where}: an allow rule must name its program literally, got "
            f"{rule.pattern[0]!r}; write the program name, e.g. ['npm', 'run', 'test']"
        )


# -- matching --------------------------------------------------------------------------


def rule_matches(rule: Rule, argv: Sequence[str]) -> bool:
    """Does this shell rule apply to one sub-command's argv? Allow rules match strictly,
    deny and ask rules loosely (see the module docstring)."""
    if not rule.pattern or not argv:
        return False
    if rule.decision == "allow":
        return _strict_match(rule.pattern, argv, rule.exact)
    return _loose_match(rule.pattern, argv, rule.exact)


def _strict_match(pattern: Sequence[str], argv: Sequence[str], exact: bool) -> bool:
    if pattern[-1] == "*" and len(argv) == len(pattern) - 1:
        pattern = pattern[:-1]  # a trailing `*` also matches nothing
    if len(argv) < len(pattern) or (exact and len(argv) != len(pattern)):
        return False
    return all(fnmatchcase(a, p) for a, p in zip(argv, pattern, strict=False))


def _is_flag(token: str) -> bool:
    return len(token) > 1 and token.startswith("-")


def _alias(flag: str) -> str:
    """One spelling per flag: `-R`, `--recursive` and its unambiguous abbreviations
    (`--recur`; getopt and git accept them) are `-r`; `--force`, `--forc`, `--fo` are `-f`."""
    if flag in _FLAG_ALIASES:
        return _FLAG_ALIASES[flag]
    if flag.startswith("--") and len(flag) >= 4:
        for long, short in (("--recursive", "-r"), ("--force", "-f")):
            if long.startswith(flag):
                return short
    return flag


def _expand_flags(tokens: Sequence[str]) -> list[str]:
    """`-rf` -> `-r -f`; `--force` -> `-f`; other tokens unchanged."""
    out: list[str] = []
    for token in tokens:
        if (
            _is_flag(token)
            and not token.startswith("--")
            and len(token) > 2
            and token[1:].isalpha()
        ):
            out.extend(_alias("-" + c) for c in token[1:])
            continue
        out.append(_alias(token))
    return out


def _program_matches(program: str, pattern: str) -> bool:
    base = program.rsplit("/", 1)[-1]
    return fnmatchcase(program, pattern) or fnmatchcase(base, pattern)


def _loose_match(pattern: Sequence[str], argv: Sequence[str], exact: bool) -> bool:
    if not _program_matches(argv[0], pattern[0]):
        return False
    lead = 1
    while lead < len(pattern) and not _is_flag(pattern[lead]):
        lead += 1
    words = list(pattern[1:lead])
    args = list(argv[1:])
    wanted = list(pattern[lead:])
    positions = _find_words(words, args)
    if positions is None and words and words[-1] == "*" and not wanted:
        words.pop()  # a trailing `*` also matches nothing
        positions = _find_words(words, args)
    if positions is None:
        return False
    # The pattern's flags are looked for among every other argument, before or after
    # the subcommand words (`git -f push` is as much a force push as `git push -f`).
    last = positions[-1] if positions else -1
    pool = [(i, t) for i, t in enumerate(args) if i not in positions]
    # Each argument as written and split (`-exec` is also `-e -x -e -c`), so both
    # glob patterns (`-*exec`) and clustered ones (`-rf`) find it.
    have = [(i, t) for i, token in pool for t in dict.fromkeys([token, *_expand_flags([token])])]
    return _all_present(wanted, have, exact, last)


def _find_words(words: Sequence[str], args: Sequence[str]) -> list[int] | None:
    """Where the pattern's program/subcommand words are in `args`, in order. Only flags
    and the values that may follow a flag are skipped to reach a word (`git -C dir
    --no-pager push`), so `git commit -m push` is not a push."""
    failed: set[tuple[int, int]] = set()

    def walk(w: int, start: int) -> list[int] | None:
        if w == len(words):
            return []
        if (w, start) in failed:
            return None
        for j in range(start, len(args)):
            token = args[j]
            if not _is_flag(token) and fnmatchcase(token, words[w]):
                rest = walk(w + 1, j + 1)
                if rest is not None:
                    return [j, *rest]
            if not (_is_flag(token) or (j > 0 and _is_flag(args[j - 1]))):
                break
        failed.add((w, start))
        return None

    return walk(0, 0)


def _all_present(wanted: list[str], have: list[tuple[int, str]], exact: bool, last: int) -> bool:
    """Each wanted token matches a distinct argument, in any order: as written (a flag
    also matches its `--flag=value` / `-flag=value` form), or else split like a cluster
    (`-rf` is found as `-f` and `-r`). `exact`: nothing is left after the last word."""
    pool = list(have)

    def take(want: str) -> bool:
        for k, (_, token) in enumerate(pool):
            if _same_flag(token, want):
                del pool[k]
                return True
        return False

    for want in wanted:
        if take(want):
            continue
        pieces = _expand_flags([want])
        if pieces == [want] or not all(take(p) for p in pieces):
            return False
    return not (exact and any(i > last for i, _ in pool))


def _same_flag(token: str, want: str) -> bool:
    if fnmatchcase(token, want):
        return True
    if "=" in want or not _is_flag(token) or "=" not in token:
        return False
    name = token.split("=", 1)[0]
    return fnmatchcase(_alias(name), want)


def tool_rule_matches(rule: Rule, tool: str) -> bool:
    """A non-shell rule names a tool, or `*` for every tool."""
    return not rule.pattern and fnmatchcase(tool, rule.tool)


# -- applying rules to a verdict -------------------------------------------------------


def apply_rules(verdict: Verdict, rules: Sequence[Rule], *, lift: bool = True) -> Verdict:
    """The analyzer's verdict with the rules on top. Per sub-command, the matching rules
    combine deny > ask > allow: a deny or ask rule adds its reason; otherwise an allow
    rule lifts the sub-command's LIFTABLE reasons (and, with override, its GUARDED ones,
    visibly). Reasons no rule may lift (parse trouble, substitutions, redirects, env
    assignments, background jobs) always stay. `lift=False` applies only deny and ask."""
    reasons = list(verdict.reasons)
    labels: list[str] = []
    for rule in rules:  # tool = "*": every tool, the shell included, as a whole
        if not rule.pattern and rule.decision != "allow" and tool_rule_matches(rule, SHELL_TOOL):
            reasons.append(_rule_reason(rule, None, None))
            labels.append(rule.label())
    shell = [r for r in rules if r.pattern]
    for i, sub in enumerate(verdict.subcommands):
        matched = [r for r in shell if rule_matches(r, sub.argv)]
        strict = [r for r in matched if r.decision == "deny"] or [
            r for r in matched if r.decision == "ask"
        ]
        if strict:
            reasons.extend(_rule_reason(r, i, sub.span) for r in strict)
            labels.extend(r.label() for r in strict)
        elif matched and lift:
            reasons = _lift(reasons, i, matched, sub.span)
            labels.extend(r.label() for r in matched)
    return verdict.with_reasons(reasons, labels)


def _rule_reason(rule: Rule, sub: int | None, span: tuple[int, int] | None) -> Reason:
    code = {"deny": RULE_DENY, "ask": RULE_ASK, "allow": RULE_ALLOW}[rule.decision]
    verb = {"deny": "denied", "ask": "asks", "allow": "allowed"}[rule.decision]
    why = f": {rule.reason}" if rule.reason else ""
    return Reason(code, f"{verb} by rule {rule.label()}{why}", rule.decision, span, sub)


def _lift(
    reasons: list[Reason], sub: int, rules: list[Rule], span: tuple[int, int] | None
) -> list[Reason]:
    override = next((r for r in rules if r.override), None)
    kept: list[Reason] = []
    silenced: list[Reason] = []
    for reason in reasons:
        if reason.sub == sub and reason.code in LIFTABLE:
            continue
        if reason.sub == sub and reason.code in GUARDED and override is not None:
            silenced.append(reason)
            continue
        kept.append(reason)
    kept.append(_rule_reason(override or rules[0], sub, span))
    if silenced and override is not None:
        what = "; ".join(f"{r.code} ({r.message})" for r in silenced)
        message = f"override rule {override.label()} silenced built-in safety: {what}"
        kept.append(Reason(OVERRIDE, message, "allow", span, sub))
    return kept
