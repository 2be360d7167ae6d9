"""Programs judged by code rather than flags alone: find, fd, git, tar, dd, cd and the
shell builtins that change or print the environment. HANDLERS maps the spec's `handler`
name to its function."""

from __future__ import annotations

from collections.abc import Callable

from friday.permissions.shell import paths, scripts, wrappers
from friday.permissions.shell.command import benign_assignment, check_read_operand
from friday.permissions.shell.core import Analysis
from friday.permissions.shell.programs import (
    _delete,
    judge_flag,
    judge_sub,
    parse_args,
    scope_of,
    target_path,
)
from friday.permissions.shell.words import Word
from friday.permissions.specs import ProgramSpec
from friday.permissions.verdict import (
    DESTRUCTIVE_TARGET,
    DYNAMIC_EXPANSION,
    ENV_ASSIGNMENT,
    EXEC_FLAG,
    FILE_WRITE,
    OUTSIDE_WORKSPACE,
    PROGRAM_ASK,
    SECRET_READ,
)

Scope = tuple[str, ...]
FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
FIND_WRITE = frozenset({"-fprint", "-fprint0", "-fprintf", "-fls"})
# Options that do not narrow what -delete removes.
FIND_UNFILTERED = frozenset(
    {"-delete", "-depth", "-xdev", "-mount", "-maxdepth", "-mindepth", "-d", "-L", "-H", "-P",
     "-ignore_readdir_race", "-noleaf", "-print", "-print0", "-true", "-o", "-or", "-a", "-and",
     "(", ")", "!"} | {str(n) for n in range(0, 100)}
)  # fmt: skip
FIND_PATTERN = frozenset({"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename"})


def find(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """Every -exec/-execdir/-ok/-okdir is an exec flag and its command is judged; -delete
    deletes (each starting point is a target); -fprint* write."""
    args = argv[1:]
    i, n = 0, len(args)
    starts: list[Word] = []
    while i < n and (not args[i].text.startswith(("-", "(", "!")) or args[i].text == "-"):
        starts.append(args[i])
        i += 1
    deleting = filtered = False
    while i < n:
        w = args[i]
        t = w.text
        i += 1
        match_all = t in FIND_PATTERN and i < n and args[i].text in ("*", "*.*")
        filtered |= t not in FIND_UNFILTERED and not match_all
        if t in FIND_EXEC:
            j = i
            while j < n and args[j].text not in (";", "+"):
                j += 1
            an.add(EXEC_FLAG, "ask", f"find {t} runs a command on each file.", w.span, idx)
            wrappers.judge_inner(an, args[i:j], "find")
            i = j + 1
        elif t == "-delete":
            deleting = True
        elif t in FIND_WRITE:
            path = an.expand(args[i].text) if i < n and args[i].literal else None
            from friday.permissions.verdict import WRITE_FLAG

            an.add(WRITE_FLAG, "ask", f"find {t} writes a file.", w.span, idx, path)
            i += 1
        elif t in FIND_PATTERN and i < n:
            check_read_operand(an, args[i], idx)
            i += 1
    for w in starts:
        check_read_operand(an, w, idx)
    if deleting:
        for w in starts or [Word(".", ".", argv[0].span)]:
            _delete(an, idx, spec, w, not filtered)
    return scope_of(spec, argv)


def fd(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """fd -x/-X run a command for the results: exec flag, and the command is judged."""
    for j, w in enumerate(argv[1:], 1):
        name = w.text.partition("=")[0]
        if name in ("--exec", "--exec-batch") or (
            w.text[:1] == "-" and w.text[1:2] != "-" and ({"x", "X"} & set(w.text[1:]))
        ):
            judge_sub(an, idx, spec, spec.main, argv[1:j], label="fd")
            an.add(EXEC_FLAG, "ask", f"fd {w.text} runs a command on each result.", w.span, idx)
            end = next((k for k in range(j + 1, len(argv)) if argv[k].text == ";"), len(argv))
            wrappers.judge_inner(an, argv[j + 1 : end], "fd")
            return scope_of(spec, argv)
    judge_sub(an, idx, spec, spec.main, argv[1:], label="fd")
    return scope_of(spec, argv)


def git(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """Global options first (`-C DIR` inside the workspace only; `-c`, `-p`, `--git-dir`
    ... ask), then the subcommand judged by its own spec."""
    i, n = 1, len(argv)
    while i < n and argv[i].text.startswith("-"):
        w = argv[i]
        name = w.text.partition("=")[0]
        takes = name in spec.global_value_flags and "=" not in w.text
        value = argv[i + 1] if takes and i + 1 < n else None
        if name in spec.global_ask_flags or (
            name.startswith("--") and any(f.startswith(name) for f in spec.global_ask_flags)
        ):
            an.add(EXEC_FLAG, "ask", f"git {name} can run other programs or change which "
                   "repository and config git uses.", w.span, idx)  # fmt: skip
        elif name == "-C":
            _git_dir(an, idx, value or Word(w.text[2:], w.text[2:], w.span))
        elif name not in spec.global_value_flags and name not in (spec.main.allowed_flags or ()):
            an.add(PROGRAM_ASK, "ask", f"git {name} is not a global option known to be safe.",
                   w.span, idx)  # fmt: skip
        i += 2 if takes else 1
    if i >= n:
        return ("git", "*")
    sub_word = argv[i]
    name = sub_word.text
    sub = spec.subcommands.get(name) if sub_word.literal else None
    if sub is None:
        default = spec.subcommand_default
        message = default.message if default else "is not a read-only git command."
        an.add(PROGRAM_ASK, "ask", f"git {name} {message}", sub_word.span, idx)
        return ("git", name, "*") if sub_word.literal else ()
    parsed = judge_sub(an, idx, spec, sub, argv[i + 1 :], label=f"git {name}")
    if name == "grep":
        from friday.permissions.shell.words import secret_param

        wide = any(f.name in RECURSIVE_SEARCH["git"] for f in parsed.flags)
        if wide and any(secret_param(p.text) for p in parsed.positionals[:1]):
            an.add(SECRET_READ, "ask", "searching untracked files for a secret-looking name "
                   "can read secret files.", sub_word.span, idx)  # fmt: skip
    return ("git", name, "*")


def _git_dir(an: Analysis, idx: int, w: Word) -> None:
    path = an.expand(w.text) if w.literal else None
    if path is None or not paths.inside(path, an.root):
        an.add(OUTSIDE_WORKSPACE, "ask", "git -C points outside the workspace.", w.span, idx)


TAR_WRITE_MODES = frozenset("xcruA")


def tar(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """Listing (`tar -tf`, `tar tzf`) is read-only; creating or extracting writes."""
    args = list(argv[1:])
    if args and not args[0].text.startswith("-") and args[0].literal:
        args[0] = Word("-" + args[0].text, args[0].raw, args[0].span)  # old-style `tar xzf`
    parsed = parse_args(spec.main, args)
    listing = False
    for flag in parsed.flags:
        judge_flag(an, idx, spec, spec.main, flag, "tar")
        short = flag.name[1:] if not flag.name.startswith("--") else ""
        if flag.name in ("--list",) or short == "t":
            listing = True
        elif (short and short in TAR_WRITE_MODES) or flag.name in (
            "--extract", "--get", "--create", "--append", "--update", "--delete", "--concatenate",
        ):  # fmt: skip
            listing = False
            an.add(FILE_WRITE, "ask", "tar creates or extracts files.", flag.word.span, idx)
            return scope_of(spec, argv)
    if not listing:
        an.add(FILE_WRITE, "ask", "tar without -t may create or extract files.",
               an.subs[idx].span, idx)  # fmt: skip
    for w in parsed.positionals:
        check_read_operand(an, w, idx)
    return scope_of(spec, argv)


def dd(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    for w in argv[1:]:
        key, eq, value = w.text.partition("=")
        if not eq:
            continue
        vw = Word(value, value, w.span)
        if key == "if":
            check_read_operand(an, vw, idx)
        elif key == "of":
            path = an.expand(value) if w.literal else None
            why = paths.system_write(path) if path else None
            if why:
                an.add(DESTRUCTIVE_TARGET, "deny", f"dd: {why}.", w.span, idx, path)
            else:
                an.add(FILE_WRITE, "ask", f"dd writes {path or value}.", w.span, idx, path)
    return scope_of(spec, argv)


def cd(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """Follow literal `cd`s so later parts are judged where they run; leaving the
    workspace, or a target only known at run time, asks."""
    name = argv[0].text
    args = [w for w in argv[1:] if not (w.text.startswith("-") and len(w.text) > 1)]
    if name == "popd":
        an.cwd = an.dirstack.pop() if an.dirstack else None
        target = an.cwd
    else:
        if name == "pushd":
            an.dirstack.append(an.cwd)
        word = args[0] if args else Word("~", "~", argv[0].span)
        if word.text == "-" or word.dynamic or word.glob:
            an.cwd = None
            target = None
        else:
            target = an.expand(word.text)
            an.cwd = target
    if target is None or not paths.inside(target, an.root):
        shown = target or "a directory only known at run time"
        an.add(OUTSIDE_WORKSPACE, "ask", f"{name} leaves the workspace ({shown}).",
               argv[0].span if not args else args[0].span, idx, target)  # fmt: skip
    return (name, "*")


def export(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """export/declare/typeset/readonly/local/unset: printing the environment is a secret
    read; setting anything but a benign name asks."""
    name = argv[0].text
    args = argv[1:]
    flags = [w.text for w in args if w.text.startswith("-")]
    names = [w for w in args if not w.text.startswith("-")]
    if not names and name != "unset" and (not flags or {"-p", "-x"} & set(flags)):
        an.add(SECRET_READ, "ask", f"{name} prints the environment, which may hold secrets.",
               an.subs[idx].span, idx)  # fmt: skip
        return (name, "*")
    if {"-f", "-F"} & set(flags) and name in ("declare", "typeset") and not names:
        return (name, "*")
    for w in names:
        var, _, value = w.text.partition("=")
        if not benign_assignment(var, value, w):
            an.add(ENV_ASSIGNMENT, "ask", f"{name} {var} changes the shell's variables.",
                   w.span, idx)  # fmt: skip
    return (name, "*")


SAFE_SET = frozenset({"-e", "+e", "-u", "+u", "-x", "+x", "-v", "+v", "-o", "+o", "pipefail",
                      "errexit", "nounset", "xtrace", "-eu", "-ex", "-euo", "-eo", "-eux",
                      "-euxo", "-ux", "-uo", "-xe", "-ue"})  # fmt: skip


def set_(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    if len(argv) == 1:
        an.add(SECRET_READ, "ask", "set prints every variable, which may hold secrets.",
               an.subs[idx].span, idx)  # fmt: skip
    for w in argv[1:]:
        if w.text not in SAFE_SET:
            an.add(PROGRAM_ASK, "ask", f"set {w.text} changes how the shell runs.", w.span, idx)
    return ("set", "*")


def ps(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """BSD-style `ps e` / `ps auxe` prints every process's environment."""
    parsed = judge_sub(an, idx, spec, spec.main, argv[1:], label="ps")
    for w in parsed.positionals:
        if "e" in w.text and w.text.isalpha():
            an.add(SECRET_READ, "ask", "ps e prints the environment of processes.", w.span, idx)
    return scope_of(spec, argv)


RECURSIVE_SEARCH = {
    "grep": frozenset({"-r", "-R", "--recursive", "--dereference-recursive"}),
    "rg": frozenset({"-u", "-uu", "-uuu", "--hidden", "--no-ignore", "--unrestricted", "-."}),
    "git": frozenset({"--untracked", "--no-index"}),
}


def search(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    """grep/rg: a search through hidden or ignored files for a secret-looking name
    (`grep -r API_KEY .`) is a way to read .env files without naming them."""
    from friday.permissions.shell.words import secret_param

    parsed = judge_sub(an, idx, spec, spec.main, argv[1:], label=spec.name)
    key = "rg" if spec.name == "rg" else "grep"
    flags = {f.name for f in parsed.flags} | {"-" + f.name[1:] for f in parsed.flags}
    stacked = {w.text for w in argv[1:] if w.text.startswith("-")}
    recursive = bool((flags | stacked) & RECURSIVE_SEARCH[key]) or (
        key == "grep" and any(f.name in ("-r", "-R") for f in parsed.flags)
    )
    patterns = [f.value for f in parsed.flags if f.name in ("-e", "--regexp") and f.value]
    if not patterns and parsed.positionals:
        patterns = [parsed.positionals[0]]
    if recursive and any(secret_param(p.text.strip("^$")) for p in patterns):
        an.add(SECRET_READ, "ask", "a recursive search for a secret-looking name can read "
               "secret files (.env ...).", an.subs[idx].span, idx)  # fmt: skip
    return scope_of(spec, argv)


def generic(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    judge_sub(an, idx, spec, spec.main, argv[1:], label=spec.name)
    return scope_of(spec, argv)


def _dynamic_guard(an: Analysis, idx: int, w: Word) -> None:
    an.add(DYNAMIC_EXPANSION, "ask", "the argument is only known at run time.", w.span, idx)


HANDLERS: dict[str, Callable[[Analysis, int, ProgramSpec, list[Word]], Scope]] = {
    "find": find,
    "fd": fd,
    "git": git,
    "tar": tar,
    "dd": dd,
    "cd": cd,
    "pushd": cd,
    "popd": cd,
    "export": export,
    "assign_builtin": export,
    "set": set_,
    "sed": scripts.sed,
    "awk": scripts.awk,
    "jq": scripts.jq,
    "xargs": wrappers.xargs,
    "env": wrappers.env,
    "timeout": wrappers.transparent,
    "nice": wrappers.transparent,
    "stdbuf": wrappers.transparent,
    "command": wrappers.transparent,
    "nohup": wrappers.nohup,
    "sudo": wrappers.sudo,
    "shell": wrappers.shell,
    "eval": wrappers.eval_,
    "rm": generic,
    "ps": ps,
    "search": search,
}
__all__ = ["HANDLERS", "target_path"]
