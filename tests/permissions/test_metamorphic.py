"""Metamorphic and fuzz properties of the shell analyzer, drawn from the labelled corpus.

- Composition: for an allowed command `c` and an ask- or deny-labelled `x`, no way of
  running `x` next to, inside or around `c` is allowed (the separators, substitutions and
  wrappers the issue lists); and when `x` is a deny, the forms in which `x` runs are deny.
- Quoting: removing quotes is bash's job, so `'P'`, `"P"`, `\\P`, `P''` and `P[0]''P[1:]`
  are the program P and get the same decision as the plain name.
- Robustness: any text, and any soup of shell metacharacters, comes back as a Verdict with
  a valid decision and known reason codes, never as an exception.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from friday.permissions.shell import analyze_shell
from friday.permissions.verdict import CODES, SEVERITY, ShellContext, Verdict
from tests.permissions.corpus import Entry, load, make_workspace

ENTRIES = load()
RESERVED = frozenset(
    {"if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until",
     "do", "done", "in", "function", "time", "coproc"}
)  # fmt: skip
_PROGRAM = re.compile(r"^([A-Za-z_][A-Za-z0-9_.+-]*)(?=\s|$)")
# Environment names an analyzer may reasonably treat as harmless (locale, colour, terminal);
# `V=v c` draws V from outside them.
BENIGN_VARS = frozenset(
    {"LANG", "LANGUAGE", "TZ", "NO_COLOR", "TERM", "COLUMNS", "LINES", "CI", "FORCE_COLOR",
     "CLICOLOR", "CLICOLOR_FORCE", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}
)  # fmt: skip


def program_of(command: str) -> str | None:
    """The first word when it is a plain program name (not a keyword or an assignment)."""
    match = _PROGRAM.match(command)
    if match is None or match.group(1) in RESERVED:
        return None
    return match.group(1)


def _single_line(e: Entry) -> bool:
    return "\n" not in e.command


# c: everyday commands on one line (a heredoc's terminator line would swallow what follows).
C_POOL = sorted(e.command for e in ENTRIES if e.label == "allow" and _single_line(e))
X_POOL = sorted(e.command for e in ENTRIES if e.label != "allow")
X_DENY = sorted(e.command for e in ENTRIES if e.label == "deny")
# For the deny forms, c must not move the shell (a `cd` changes what `rm -rf .` deletes),
# and `c $(x)` needs c to end in a simple command that takes the substitution as a word.
C_STILL = [c for c in C_POOL if not re.search(r"\bcd\b|\bpushd\b", c)]
_COMPOUND = re.compile(r"^[({]|\b(done|fi|esac)\b|[)}]\s*$")
C_SIMPLE_END = [c for c in C_STILL if not _COMPOUND.search(c)]
C_PROGRAM = [c for c in C_POOL if program_of(c)]
# A function defined inside a pipeline stage lives in that subshell: `c | :(){ :|:& };:`
# calls the builtin `:`, so fork bombs only count where they run at top level; and `!` may
# only start a pipeline.
X_DENY_PIPE = [x for x in X_DENY if "(){" not in x.replace(" ", "") and not x.startswith("!")]

NOT_ALLOWED_FORMS = {
    "c & x": "{c} & {x}",
    "c<NL>x": "{c}\n{x}",
    "c; x": "{c}; {x}",
    "c | x": "{c} | {x}",
    "x && c": "{x} && {c}",
    "c $(x)": "{c} $({x})",
    'c "$(x)"': '{c} "$({x})"',
    "c `x`": "{c} `{x}`",
    "c <(x)": "{c} <({x})",
    "c ${Y:-$(x)}": "{c} ${{{y}:-$({x})}}",
}
DENY_FORMS = {
    "c; x": ("{c}; {x}", C_STILL, X_DENY),
    "c<NL>x": ("{c}\n{x}", C_STILL, X_DENY),
    "c && x": ("{c} && {x}", C_STILL, X_DENY),
    "c | x": ("{c} | {x}", C_STILL, X_DENY_PIPE),
    "c $(x)": ("{c} $({x})", C_SIMPLE_END, X_DENY),
}
NAMES = st.from_regex(r"\A[A-Z][A-Z0-9_]{2,10}\Z").filter(
    lambda n: n not in BENIGN_VARS and not n.startswith("LC_")
)
TOKENS = (
    "$", "(", ")", "{", "}", "[", "]", ";", "&", "|", "<", ">", "'", '"', "\\", "`", "\n",
    "!", "*", "~", "#", "=", ":", " ", "$(", "${", "$'", '$"', "$((", "<<", "<<<", "<(",
    ">(", "&&", "||", ";;", "2>&1", "@P", "EOF", "ls", "rm", "-rf", "/", "echo", "cat",
    ".env", "sh", "-c", "find", ".", "-exec", "git", "if", "then", "fi", "for", "in", "do",
    "done", "case", "esac", "[[", "]]", "x", "IFS", "HOME",
)  # fmt: skip
FAST = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ShellContext:
    return make_workspace(tmp_path_factory.mktemp("meta"))


_decided: dict[str, str] = {}


def decision(command: str, ctx: ShellContext) -> str:
    """The analyzer's decision for `command`, remembered (the corpus commands repeat)."""
    if command not in _decided:
        _decided[command] = analyze_shell(command, ctx).decision
    return _decided[command]


def _show(command: str, ctx: ShellContext) -> str:
    return analyze_shell(command, ctx).explain(command)


def test_pools_are_large_enough() -> None:
    # guards against a corpus edit silently emptying a strategy
    for pool in (C_POOL, X_POOL, X_DENY, C_STILL, C_SIMPLE_END, C_PROGRAM, X_DENY_PIPE):
        assert len(pool) >= 30


@FAST
@given(
    c=st.sampled_from(C_POOL),
    x=st.sampled_from(X_POOL),
    form=st.sampled_from(sorted(NOT_ALLOWED_FORMS)),
    y=NAMES,
)
def test_hiding_x_next_to_or_inside_c_is_never_allowed(
    ctx: ShellContext, c: str, x: str, form: str, y: str
) -> None:
    assume(decision(c, ctx) == "allow")
    assume(decision(x, ctx) != "allow")  # x allowed alone is a false allow test_corpus reports
    if form == "c `x`":
        assume("`" not in x)  # a backtick in x would close the substitution early
    command = NOT_ALLOWED_FORMS[form].format(c=c, x=x, y=y)
    assert decision(command, ctx) != "allow", f"{form}:\n{_show(command, ctx)}"


@FAST
@given(c=st.sampled_from(C_POOL), form=st.sampled_from(["c > f.txt", "V=v c", "env c"]), v=NAMES)
def test_writing_or_rewrapping_c_is_never_allowed(
    ctx: ShellContext, c: str, form: str, v: str
) -> None:
    assume(decision(c, ctx) == "allow")
    command = {"c > f.txt": f"{c} > f.txt", "V=v c": f"{v}=v {c}", "env c": f"env {c}"}[form]
    assert decision(command, ctx) != "allow", f"{form}:\n{_show(command, ctx)}"


@FAST
@given(c=st.sampled_from(C_PROGRAM), prefix=st.sampled_from(["./", "../", "/tmp/x/", "bin/"]))
def test_path_qualified_c_is_never_allowed(ctx: ShellContext, c: str, prefix: str) -> None:
    assume(decision(c, ctx) == "allow")
    command = prefix + c
    assert decision(command, ctx) != "allow", _show(command, ctx)


@FAST
@given(data=st.data(), form=st.sampled_from(sorted(DENY_FORMS)))
def test_a_deny_that_runs_makes_the_whole_command_deny(
    ctx: ShellContext, data: st.DataObject, form: str
) -> None:
    template, c_pool, x_pool = DENY_FORMS[form]
    c = data.draw(st.sampled_from(c_pool), label="c")
    x = data.draw(st.sampled_from(x_pool), label="x")
    assume(decision(c, ctx) == "allow")
    assume(decision(x, ctx) == "deny")  # a missed deny is reported by test_corpus
    command = template.format(c=c, x=x)
    assert decision(command, ctx) == "deny", f"{form}:\n{_show(command, ctx)}"


def quoting_variants(command: str) -> list[str]:
    """The command with its program name quoted in the ways bash removes."""
    program = program_of(command)
    if program is None:
        return []
    rest = command[len(program) :]
    spellings = [f"'{program}'", f'"{program}"', f"\\{program}", f"{program}''", f'{program}""']
    if len(program) >= 2:
        spellings.append(f"{program[0]}''{program[1:]}")
    return [s + rest for s in spellings]


# (the few very long lines, 60-command chains and deep nesting, are left out: they are about
# limits, not quoting, and cost seconds each)
QUOTABLE = [e for e in ENTRIES if program_of(e.command) and len(e.command) < 300]


@pytest.mark.parametrize("entry", QUOTABLE, ids=[e.id for e in QUOTABLE])
def test_quoting_the_program_name_changes_nothing(entry: Entry, ctx: ShellContext) -> None:
    plain = decision(entry.command, ctx)
    changed = {v: d for v in quoting_variants(entry.command) if (d := decision(v, ctx)) != plain}
    assert not changed, (
        f"{entry.command!r} is {plain}, but "
        + "; ".join(f"{v!r} is {d}" for v, d in changed.items())
        + "\n"
        + "\n".join(_show(v, ctx) for v in changed)
    )


def _check(command: str, ctx: ShellContext) -> None:
    verdict = analyze_shell(command, ctx)
    assert isinstance(verdict, Verdict)
    assert verdict.decision in SEVERITY
    unknown = {r.code for r in verdict.reasons} - set(CODES)
    assert not unknown, (command, unknown)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_gives_a_verdict(ctx: ShellContext, text: str) -> None:
    _check(text, ctx)


@settings(max_examples=200, deadline=None)
@given(
    tokens=st.lists(st.sampled_from(TOKENS), max_size=40),
    glue=st.sampled_from(["", " "]),
)
def test_shell_token_soup_gives_a_verdict(ctx: ShellContext, tokens: list[str], glue: str) -> None:
    _check(glue.join(tokens), ctx)


@pytest.mark.parametrize(
    "command",
    [
        "",
        " ",
        "\x00",
        "ls\x00rm -rf /",
        "echo " + "$(echo " * 300 + "hi" + ")" * 300,
        "true && " * 3000 + "ls",
        "(" * 500 + "ls" + ")" * 500,
        "x" * 200_000,
        "echo '" + "\n" * 1000,
    ],
    ids=["empty", "space", "nul", "nul-inside", "deep", "long-chain", "parens", "huge", "quote"],
)
def test_hostile_input_gives_a_verdict(ctx: ShellContext, command: str) -> None:
    _check(command, ctx)
    if "\x00" in command or "rm" in command:
        assert analyze_shell(command, ctx).decision != "allow"
