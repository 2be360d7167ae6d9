"""Programs that run another program: the inner command becomes a sub-command of its own
and is judged like any other, so a deny inside a wrapper still denies.

`timeout`, `nice`, `stdbuf` and `command` are transparent (their verdict is the inner
one). `env CMD` and `nohup CMD` always ask; `sudo`/`doas` ask for privilege; `xargs` adds
arguments at run time, so its inner program is judged with one unknown extra argument.
"""

from __future__ import annotations

from friday.permissions.shell.command import benign_assignment, judge_argv
from friday.permissions.shell.core import MAX_DEPTH, Analysis
from friday.permissions.shell.programs import judge_flag, scope_of
from friday.permissions.shell.words import Word
from friday.permissions.specs import ProgramSpec, SubSpec
from friday.permissions.verdict import (
    DYNAMIC_EXPANSION,
    ENV_ASSIGNMENT,
    EXEC_FLAG,
    LIMIT,
    PRIVILEGE,
    PROGRAM_ASK,
    SECRET_READ,
)

Scope = tuple[str, ...]


def judge_inner(an: Analysis, words: list[Word], wrapper: str) -> None:
    """Judge `words` (a slice of the outer argv) as a command of its own."""
    if not words:
        return
    if an.depth >= MAX_DEPTH:
        an.add(LIMIT, "ask", "wrappers are nested too deeply to check.", words[0].span)
        return
    idx = an.new_sub((words[0].span[0], words[-1].span[1]), wrapper=wrapper)
    an.depth += 1
    try:
        judge_argv(an, idx, words)
    finally:
        an.depth -= 1


def judge_text(an: Analysis, w: Word, wrapper: str, sub: int | None) -> None:
    """A literal script given to `bash -c`, `eval` or `su -c`: parse and judge it."""
    from friday.permissions.shell.walk import analyze_text

    if w.dynamic or w.glob:
        an.add(
            DYNAMIC_EXPANSION,
            "ask",
            f"{wrapper} runs a script that is only known at run time.",
            w.span,
            sub,
        )
        return
    if an.depth >= MAX_DEPTH:
        an.add(LIMIT, "ask", "scripts are nested too deeply to check.", w.span, sub)
        return
    exact = w.raw[1:-1] == w.text and w.raw[:1] in ("'", '"') and w.raw[-1:] == w.raw[:1]
    offset = w.span[0] + 1 if exact else w.span[0]
    first = len(an.subs)
    saved = an.cwd
    an.depth += 1
    try:
        analyze_text(an, w.text, w.span, offset)
    finally:
        an.depth -= 1
        an.cwd = saved
    for s in an.subs[first:]:
        s.wrapper = s.wrapper or wrapper


def _options_then_command(
    an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word], positional_opts: int = 0
) -> list[Word]:
    """Skip the wrapper's own options (values included); the rest is the inner command.
    `positional_opts`: leading operands that belong to the wrapper (timeout's DURATION)."""
    sub = spec.main
    i, n = 1, len(argv)
    while i < n:
        t = argv[i].text
        if t == "--":
            i += 1
            break
        if not t.startswith("-") or t == "-":
            break
        name = t.partition("=")[0]
        flagged = name in sub.value_flags and "=" not in t
        if (
            not flagged
            and not t.startswith("--")
            and len(t) > 2
            and ("-" + t[1]) in sub.value_flags
        ):
            name = "-" + t[1]  # value attached: -n5
        value = argv[i + 1] if flagged and i + 1 < n else None
        judge_flag(an, idx, spec, sub, _flag(name, argv[i], value), spec.name)
        i += 2 if flagged else 1
    return argv[i + positional_opts :]


def _flag(name: str, w: Word, value: Word | None = None) -> object:
    from friday.permissions.shell.programs import Flag

    return Flag(name, value, w)


def transparent(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """timeout / nice / stdbuf / command / builtin: judged as the inner command."""
    skip = 1 if spec.handler == "timeout" else 0
    inner = _options_then_command(an, idx, spec, argv, skip)
    if spec.name == "command" and any(w.text in ("-v", "-V") for w in argv[1:2]):
        return ("command", "*")  # a lookup, like `which`
    if not inner and spec.name != "command":
        return scope_of(spec, argv)
    judge_inner(an, inner, spec.name)
    return ()


def nohup(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    an.add(
        PROGRAM_ASK,
        "ask",
        "nohup keeps a command running after the call ends.",
        an.subs[idx].span,
        idx,
    )
    judge_inner(an, argv[1:], "nohup")
    return ()


def env(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """`env` alone prints the environment (secrets); `env CMD` runs CMD with a changed
    environment, which always asks; `env -S 'cmd'` splits a string into a command."""
    i, n = 1, len(argv)
    while i < n:
        t = argv[i].text
        if t in ("-S", "--split-string") or t.startswith(("-S", "--split-string=")):
            an.add(
                EXEC_FLAG, "ask", "env -S runs a command given as one string.", argv[i].span, idx
            )
            value = argv[i + 1] if t in ("-S", "--split-string") and i + 1 < n else None
            if value is not None:
                judge_text(an, value, "env", idx)
            return ()
        if t in ("-u", "--unset", "-C", "--chdir"):
            i += 2
        elif t.startswith("-") and t != "-":
            i += 1
        elif "=" in t and not t.startswith("="):
            name, _, value = t.partition("=")
            if not benign_assignment(name, value, argv[i]):
                an.add(
                    ENV_ASSIGNMENT, "ask", f"env sets {name} for the command.", argv[i].span, idx
                )
            i += 1
        else:
            break
    inner = argv[i:]
    if not inner:
        an.add(SECRET_READ, "ask", "env prints the environment, which may hold secrets.",
               an.subs[idx].span, idx)  # fmt: skip
        return ("env", "*")
    an.add(PROGRAM_ASK, "ask", "env runs a command with a changed environment.",
           an.subs[idx].span, idx)  # fmt: skip
    judge_inner(an, inner, "env")
    return ()


def sudo(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    name = argv[0].text.rsplit("/", 1)[-1]
    an.add(PRIVILEGE, "ask", f"{name} runs a command with other privileges.",
           an.subs[idx].span, idx)  # fmt: skip
    if name == "su":
        for j, w in enumerate(argv[1:-1], 1):
            if w.text in ("-c", "--command"):
                judge_text(an, argv[j + 1], "su", idx)
        return ()
    inner = _options_then_command(an, idx, spec, argv)
    if inner:
        judge_inner(an, inner, name)
    return ()


def xargs(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """The inner command gets input words as extra arguments (or in place of the -I
    string): judged with an unknown argument, and it must be a program that is safe with
    any argument (file names from the input may be secrets)."""
    inner = _options_then_command(an, idx, spec, argv)
    if not inner:
        inner = [Word("echo", "echo", argv[0].span)]
    replace = _replace_string(argv)
    if replace:
        inner = [
            Word(w.text, w.raw, w.span, [*w.params, "_xargs_input"], w.subst, w.problems, w.glob)
            if replace in w.text
            else w
            for w in inner
        ]
    unknown = Word("{input}", "$_xargs_input", argv[-1].span, params=["_xargs_input"])
    first = len(an.subs)
    judge_inner(an, [*inner, unknown], "xargs")
    if first < len(an.subs):
        spec_in = an.specs.get(an.subs[first].argv[0]) if an.subs[first].argv else None
        if spec_in is not None and not spec_in.any_args and spec_in.main.operands == "read":
            an.add(DYNAMIC_EXPANSION, "ask", "xargs passes file names only known at run time "
                   "to a program that reads them.", an.subs[idx].span, idx)  # fmt: skip
    return ()


def _replace_string(argv: list[Word]) -> str | None:
    for j, w in enumerate(argv[1:], 1):
        t = w.text
        if t in ("-I", "--replace") and j + 1 < len(argv):
            return argv[j + 1].text
        if t.startswith("-I") and len(t) > 2:
            return t[2:]
        if t.startswith("--replace="):
            return t.split("=", 1)[1] or "{}"
        if t == "-i":
            return "{}"
        if not t.startswith("-"):
            break
    return None


def shell(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """`bash -c 'literal'` is judged as its script; any other use of a shell asks."""
    name = argv[0].text.rsplit("/", 1)[-1]
    i, n = 1, len(argv)
    while i < n:
        t = argv[i].text
        if t in ("-o", "+o") and i + 1 < n:
            i += 2
            continue
        if t.startswith("-") and len(t) > 1 and set(t[1:]) <= set("celux") and "c" in t:
            if i + 1 < n:
                _script(an, idx, name, argv[i + 1], argv[i + 2 :])
                return () if name in BASH_LIKE else (name, "*")
            break
        if t.startswith(("-", "+")) and len(t) > 1 and set(t[1:]) <= set("elux"):
            i += 1
            continue
        break
    an.add(PROGRAM_ASK, "ask", f"{name} runs a script the checker cannot see.",
           an.subs[idx].span, idx)  # fmt: skip
    return (name, "*")


BASH_LIKE = frozenset({"bash", "sh", "dash"})


def _script(an: Analysis, idx: int, name: str, script: Word, extra: list[Word]) -> None:
    """bash/sh/dash scripts are judged as bash; other shells' syntax differs (zsh glob
    qualifiers run code), so they ask, though a deny inside still denies."""
    if name not in BASH_LIKE:
        an.add(PROGRAM_ASK, "ask", f"{name} syntax differs from bash, so its script is not "
               "fully checked.", an.subs[idx].span, idx)  # fmt: skip
    judge_text(an, script, name, idx)
    if extra:
        from friday.permissions.shell.command import check_read_operand

        an.add(DYNAMIC_EXPANSION, "ask", f"arguments passed to the {name} script are only "
               "used at run time.", extra[0].span, idx)  # fmt: skip
        for w in extra:
            check_read_operand(an, w, idx)


def eval_(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """eval/source/./exec/trap/alias always ask; eval's literal text is also judged so a
    deny inside still denies."""
    name = argv[0].text
    an.add(PROGRAM_ASK, "ask", f"{name}: {spec.main.message or 'runs code'}",
           an.subs[idx].span, idx)  # fmt: skip
    if name == "eval" and len(argv) > 1:
        if all(w.literal for w in argv[1:]):
            joined = " ".join(w.text for w in argv[1:])
            span = (argv[1].span[0], argv[-1].span[1])
            judge_text(an, Word(joined, joined, span), "eval", idx)
        else:
            an.add(DYNAMIC_EXPANSION, "ask", "eval runs text only known at run time.",
                   argv[1].span, idx)  # fmt: skip
    elif name == "exec" and len(argv) > 1:
        inner = _options_then_command(an, idx, spec, argv)
        judge_inner(an, inner, "exec")
    return (name, "*")


SUB_ALLOW = SubSpec()
