"""Judge an argv against its program spec: flags that execute, write, delete or reach the
network; operands that are secrets, written files or catastrophic delete targets.

Flags are parsed the way getopt sees them: stacked short flags (`-rfv`), attached values
(`-oFILE`, `--output=FILE`), `--` ending the options, and long options abbreviated to any
unambiguous prefix (`sort --compress-prog=sh` is `--compress-program`): a prefix of a
dangerous long flag counts as that flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from friday.permissions.shell import paths
from friday.permissions.shell.command import check_read_operand
from friday.permissions.shell.core import Analysis
from friday.permissions.shell.words import Word
from friday.permissions.specs import ProgramSpec, SubSpec
from friday.permissions.verdict import (
    DESTRUCTIVE_TARGET,
    DYNAMIC_EXPANSION,
    EXEC_FLAG,
    FILE_DELETE,
    FILE_WRITE,
    NETWORK,
    PROGRAM_ASK,
    SECRET_READ,
    WRITE_FLAG,
)

WRAPPER_HANDLERS = frozenset({"xargs", "env", "timeout", "nice", "stdbuf", "nohup", "command"})


@dataclass(slots=True)
class Flag:
    name: str
    value: Word | None
    word: Word
    attached: str | None = None  # value given in the same word (`-oFILE`, `--out=F`)


@dataclass(slots=True)
class Parsed:
    flags: list[Flag] = field(default_factory=list)
    positionals: list[Word] = field(default_factory=list)


def long_match(flag: str, names: frozenset[str]) -> str | None:
    """The flag in `names` that `flag` names exactly or abbreviates (long options only)."""
    if flag in names:
        return flag
    if flag.startswith("--") and len(flag) >= 3:
        for name in names:
            if name.startswith(flag):
                return name
    return None


def parse_args(
    sub: SubSpec, args: list[Word], *, extra_value: frozenset[str] = frozenset()
) -> Parsed:
    """Split args into flags (with values) and positionals."""
    value_flags = sub.value_flags | extra_value
    every = sub.exec_flags | sub.write_flags | sub.delete_flags | sub.network_flags | sub.ask_flags
    out = Parsed()
    i, n, end = 0, len(args), False
    while i < n:
        w = args[i]
        t = w.text
        i += 1
        if end or not t.startswith("-") or t == "-" or w.dynamic:
            out.positionals.append(w)
            continue
        if t == "--":
            end = True
            continue
        if t.startswith("--") or t in every or t in value_flags:
            name, eq, val = t.partition("=")
            if eq:
                out.flags.append(Flag(name, None, w, val))
            elif name in value_flags and i < n:
                out.flags.append(Flag(name, args[i], w))
                _value_as_flag(out, args[i])
                i += 1
            else:
                out.flags.append(Flag(name, None, w))
            continue
        i = _short_stack(out, w, args, i, value_flags)
    return out


def _value_as_flag(out: Parsed, value: Word) -> None:
    """A separate value that looks like a flag is also judged as one: if our spec were
    wrong about the flag taking a value, the program would read it as a flag."""
    if value.text.startswith("-") and len(value.text) > 1:
        out.flags.append(Flag(value.text.partition("=")[0], None, value))


def _short_stack(
    out: Parsed, w: Word, args: list[Word], i: int, value_flags: frozenset[str]
) -> int:
    t = w.text
    for j in range(1, len(t)):
        flag = "-" + t[j]
        if flag in value_flags:
            rest = t[j + 1 :]
            if rest:
                out.flags.append(Flag(flag, None, w, rest))
            elif i < len(args):
                out.flags.append(Flag(flag, args[i], w))
                _value_as_flag(out, args[i])
                i += 1
            else:
                out.flags.append(Flag(flag, None, w))
            return i
        out.flags.append(Flag(flag, None, w))
    return i


def judge_program(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> tuple[str, ...]:
    """Judge argv against `spec`; returns the session-approval scope."""
    if spec.handler:
        from friday.permissions.shell.special import HANDLERS

        return HANDLERS[spec.handler](an, idx, spec, argv)
    name = argv[0].text.rsplit("/", 1)[-1]
    judge_sub(an, idx, spec, spec.main, argv[1:], label=name)
    return scope_of(spec, argv)


def scope_of(spec: ProgramSpec, argv: list[Word]) -> tuple[str, ...]:
    name = argv[0].text.rsplit("/", 1)[-1]
    if spec.scope == "subcommand":
        for w in argv[1:]:
            if not w.text.startswith("-") and w.literal:
                return (name, w.text, "*")
    return (name, "*")


def judge_sub(
    an: Analysis, idx: int, spec: ProgramSpec, sub: SubSpec, args: list[Word], *, label: str
) -> Parsed:
    parsed = parse_args(sub, args)
    _base(an, idx, sub, parsed, label)
    recursive = False
    for flag in parsed.flags:
        recursive |= flag.name in spec.recursive_flags
        judge_flag(an, idx, spec, sub, flag, label)
    _verbs(an, idx, sub, parsed, label)
    judge_operands(an, idx, spec, sub, parsed.positionals, recursive=recursive)
    return parsed


def _base(an: Analysis, idx: int, sub: SubSpec, parsed: Parsed, label: str) -> None:
    if sub.decision == "allow":
        return
    if sub.operands in ("write", "delete") and parsed.positionals:
        return  # one reason per operand, with its path (judge_operands)
    an.add(sub.code, sub.decision, f"{label}: {sub.message}", an.subs[idx].span, idx)


def judge_flag(
    an: Analysis, idx: int, spec: ProgramSpec, sub: SubSpec, flag: Flag, label: str
) -> None:
    name, span = flag.name, flag.word.span
    value = flag.value.text if flag.value is not None else flag.attached
    if long_match(name, sub.exec_flags):
        an.add(EXEC_FLAG, "ask", f"{label} {name} runs another program.", span, idx)
    elif long_match(name, sub.write_flags):
        path = an.expand(value) if value else None
        why = paths.system_write(path) if path else None
        if why:
            an.add(DESTRUCTIVE_TARGET, "deny", f"{label} {name}: {why}.", span, idx, path)
        else:
            an.add(WRITE_FLAG, "ask", f"{label} {name} writes a file.", span, idx, path)
    elif long_match(name, sub.delete_flags):
        an.add(FILE_DELETE, "ask", f"{label} {name} deletes files.", span, idx)
    elif long_match(name, sub.network_flags):
        an.add(NETWORK, "ask", f"{label} {name} reaches the network.", span, idx)
    elif long_match(name, sub.ask_flags):
        an.add(PROGRAM_ASK, "ask", f"{label} {name} is not read-only.", span, idx)
    elif long_match(name, sub.secret_flags):
        an.add(SECRET_READ, "ask", f"{label} {name} prints secrets.", span, idx)
    elif (
        sub.allowed_flags is not None
        and name not in sub.allowed_flags
        and (name not in sub.value_flags)
    ):
        code = sub.positional_code if sub.positional_code != "allow" else PROGRAM_ASK
        an.add(code, "ask", f"{label} {name} is not a flag known to be read-only.", span, idx)
    if flag.value is not None:
        check_read_operand(an, flag.value, idx)
    elif flag.attached:
        check_read_operand(an, Word(flag.attached, flag.attached, span), idx)


def _verbs(an: Analysis, idx: int, sub: SubSpec, parsed: Parsed, label: str) -> None:
    """Subcommands of a subcommand (`git stash list`, `git remote add`), and listing forms
    (`git branch` lists, `git branch x` creates)."""
    pos = parsed.positionals
    if sub.verbs:
        verb = pos[0].text if pos else None
        code = sub.verbs.get(verb, "FILE_WRITE") if verb else sub.verb_default
        if code != "allow":
            what = f"{label} {verb}" if verb else label
            an.add(code, "ask", f"{what} is not a read-only form.", an.subs[idx].span, idx)
        if pos:
            parsed.positionals = pos[1:]
        return
    listing = sub.listing and any(f.name in sub.listing for f in parsed.flags)
    limit = sub.max_positionals
    if limit is not None and len(pos) > limit and not listing:
        code = sub.positional_code
        if code != "allow":
            an.add(code, "ask", f"{label} with these arguments changes things.", pos[0].span, idx)


def judge_operands(
    an: Analysis, idx: int, spec: ProgramSpec, sub: SubSpec, pos: list[Word], *, recursive: bool
) -> None:
    mode = sub.operands
    for n, w in enumerate(pos, 1):
        if (w.dynamic or w.glob) and spec.risky_flags and not _home_literal(w):
            an.add(
                DYNAMIC_EXPANSION,
                "ask",
                f"{w.raw} expands at run time, for a program that can write or run code.",
                w.span,
                idx,
            )
        if mode == "text":
            continue
        written = mode == "write" or n == sub.write_operand
        last = n == len(pos)
        if mode == "delete" and not (spec.name == "mv" and last):
            _delete(an, idx, spec, w, recursive)
        elif written or mode == "delete":
            _write(an, idx, spec, sub, w, recursive)
        if mode != "none":
            check_read_operand(an, w, idx)


def _home_literal(w: Word) -> bool:
    return set(w.params) <= {"HOME"} and not (w.subst or w.problems or w.brace or w.glob)


def target_path(an: Analysis, w: Word) -> tuple[str | None, bool]:
    """The absolute path of an operand, and whether its last part is a match-all glob (in
    which case the path is the glob's folder)."""
    if w.subst or w.problems or w.brace:
        return None, False
    if w.params and not _home_literal(w) and not w.glob:
        return None, False
    text = w.text
    head, _, last = text.rstrip("/").rpartition("/") if "/" in text.rstrip("/") else ("", "", text)
    if w.glob and paths.glob_everything(last):
        folder = head if "/" in text.rstrip("/") else "."
        return an.expand(folder or "/"), True
    if w.glob or (w.params and not _home_literal(w)):
        return None, False
    return an.expand(text), False


def _delete(an: Analysis, idx: int, spec: ProgramSpec, w: Word, recursive: bool) -> None:
    path, everything = target_path(an, w)
    check = spec.destructive and (recursive or not spec.recursive_flags)
    if check and path is not None:
        why = paths.destructive(path, an.root, an.home, glob=everything)
        if why:
            an.add(DESTRUCTIVE_TARGET, "deny", f"{spec.name}: {why}.", w.span, idx, path)
            return
    code = FILE_WRITE if spec.name == "mv" else FILE_DELETE
    what = "moves" if spec.name == "mv" else "deletes"
    shown = path or w.raw
    if everything and path:
        shown = f"everything in {path}"
    an.add(code, "ask", f"{spec.name} {what} {shown}.", w.span, idx, None if everything else path)


def _write(
    an: Analysis, idx: int, spec: ProgramSpec, sub: SubSpec, w: Word, recursive: bool
) -> None:
    path, everything = target_path(an, w)
    if path is not None:
        why = paths.system_write(path)
        check = spec.destructive and spec.name != "mv"
        if check and not why and (recursive or not spec.recursive_flags):
            why = paths.destructive(path, an.root, an.home, glob=everything)
        if why:
            an.add(DESTRUCTIVE_TARGET, "deny", f"{spec.name}: {why}.", w.span, idx, path)
            return
    code = sub.code if sub.decision != "allow" and sub.operands == "write" else FILE_WRITE
    if everything and path:
        path = None
    an.add(code, "ask", f"{spec.name} changes {path or w.raw}.", w.span, idx, path)
