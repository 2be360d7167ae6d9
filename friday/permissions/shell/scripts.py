"""Programs whose first argument is a small program of its own: sed, awk, jq.

Each script is accepted only when it matches a read-only form (sed: addresses with
p/d/q/=/l/n/N and `s///` or `y///` without the `e`/`w` flags; awk: no `system`, pipes,
redirected print or getline; jq: no `env`/`$ENV`). Anything else asks: an awk or sed
parser this small cannot prove more than that.
"""

from __future__ import annotations

import re

from friday.permissions.shell.command import check_read_operand
from friday.permissions.shell.core import Analysis
from friday.permissions.shell.programs import _write, judge_flag, parse_args, scope_of
from friday.permissions.shell.words import Word
from friday.permissions.specs import ProgramSpec
from friday.permissions.verdict import DYNAMIC_EXPANSION, EXEC_FLAG, SECRET_READ, WRITE_FLAG

Scope = tuple[str, ...]
# Alternatives inside the repeats are disjoint, so matching stays linear (no backtracking
# blow-up on long runs of backslashes).
_ADDR = r"(?:\d+(?:~\d+)?|\$|/(?:[^/\\]|\\.)*/I?M?|\\([^\\])(?:(?!\1)[^\\]|\\.)*\1)"
SED_ADDRESS = re.compile(rf"\s*(?:{_ADDR}(?:\s*,\s*(?:{_ADDR}|[+~]\d+))?)?\s*!?\s*")
SED_SIMPLE = frozenset("pdqQ=lnNPDhHgGxz{}")


def sed(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    sub = spec.main
    parsed = parse_args(sub, argv[1:])
    scripts: list[Word] = []
    for flag in parsed.flags:
        judge_flag(an, idx, spec, sub, flag, "sed")
        if flag.name in ("-e", "--expression"):
            value = flag.value or (Word(flag.attached, flag.attached, flag.word.span)
                                   if flag.attached else None)  # fmt: skip
            if value is not None:
                scripts.append(value)
        elif flag.name in ("-f", "--file"):
            an.add(EXEC_FLAG, "ask", "sed -f runs a script from a file.", flag.word.span, idx)
    files = parsed.positionals
    if not scripts and files:
        scripts, files = [files[0]], files[1:]
    for w in scripts:
        if w.dynamic:
            an.add(DYNAMIC_EXPANSION, "ask", "the sed script is only known at run time.",
                   w.span, idx)  # fmt: skip
        else:
            problem = sed_problem(w.text)
            if problem:
                code = WRITE_FLAG if "writes" in problem else EXEC_FLAG
                an.add(code, "ask", f"sed: {problem}", w.span, idx)
    in_place = any(f.name in ("-i", "--in-place") for f in parsed.flags)
    for w in files:
        if in_place:
            _write(an, idx, spec, sub, w, False)
        check_read_operand(an, w, idx)
    return scope_of(spec, argv)


def sed_problem(script: str) -> str | None:  # noqa: PLR0911
    """None when every command of the script is read-only, else why not."""
    i, n = 0, len(script)
    while i < n:
        m = SED_ADDRESS.match(script, i)
        i = m.end() if m else i
        if i >= n:
            return None
        c = script[i]
        if c in ";\n":
            i += 1
            continue
        if c in SED_SIMPLE:
            i += 1
            if c in "qQlL" and i < n and script[i].isdigit():
                while i < n and script[i].isdigit():
                    i += 1
            continue
        if c in "sy":
            end = _sed_subst(script, i)
            if end is None:
                return "the s or y command could not be read."
            flags_end = end
            while flags_end < n and script[flags_end] not in ";\n}":
                flags_end += 1
            flags = script[end:flags_end].strip()
            if c == "s" and not re.fullmatch(r"[gpiImM0-9]*", flags):
                if "w" in flags:
                    return "the s///w flag writes a file."
                return "the s///e flag runs the pattern space as a command."
            i = flags_end
            continue
        if c in "wW":
            return "the w command writes a file."
        return f"the {c!r} command is not known to be read-only (e runs commands, r reads files)."
    return None


def _sed_subst(script: str, i: int) -> int | None:
    """Index after `s/re/repl/` (any delimiter, escapes honoured)."""
    if i + 1 >= len(script):
        return None
    delim = script[i + 1]
    if delim in "\\\n":
        return None
    j, seen = i + 2, 0
    while j < len(script):
        ch = script[j]
        if ch == "\\":
            j += 2
            continue
        if ch == delim:
            seen += 1
            if seen == 2:
                return j + 1
        j += 1
    return None


AWK_BAD = re.compile(r"\bsystem\s*\(|\|&?|\bgetline\b|\bENVIRON\b|\bPROCINFO\b|@load|@include")
AWK_PRINT_REDIRECT = re.compile(r"\bprintf?\b[^;}\n]*>")


def awk(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    sub = spec.main
    parsed = parse_args(sub, argv[1:])
    programs: list[Word] = []
    for flag in parsed.flags:
        judge_flag(an, idx, spec, sub, flag, "awk")
        if flag.name in ("-f", "--file", "-i", "--include", "-l", "--load", "-E", "--exec"):
            an.add(EXEC_FLAG, "ask", f"awk {flag.name} loads code the checker cannot see.",
                   flag.word.span, idx)  # fmt: skip
        elif flag.name in ("-e", "--source") and flag.value is not None:
            programs.append(flag.value)
    files = parsed.positionals
    if not programs and files:
        programs, files = [files[0]], files[1:]
    for w in programs:
        _awk_program(an, idx, w)
    for w in files:
        if "=" not in w.text:
            check_read_operand(an, w, idx)
    return scope_of(spec, argv)


def _awk_program(an: Analysis, idx: int, w: Word) -> None:
    if w.dynamic:
        an.add(DYNAMIC_EXPANSION, "ask", "the awk program is only known at run time.", w.span, idx)
        return
    text = _strip_awk_strings(w.text)
    if "ENVIRON" in text:
        an.add(SECRET_READ, "ask", "the awk program reads the environment.", w.span, idx)
        return
    m = AWK_BAD.search(text)
    if m:
        an.add(EXEC_FLAG, "ask", f"awk {m.group().strip()} can run commands or read other files.",
               w.span, idx)  # fmt: skip
    elif AWK_PRINT_REDIRECT.search(text):
        an.add(WRITE_FLAG, "ask", "the awk program prints into a file.", w.span, idx)


def _strip_awk_strings(text: str) -> str:
    """The program with string literals emptied (a `|` inside "a|b" is not a pipe); regex
    literals stay, which can only cause an extra ask."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)


JQ_ENV = re.compile(r"\$ENV\b|\benv\b|\$__loc__|\binput_filename\b")


def jq(an: Analysis, idx: int, spec: ProgramSpec, argv: list[Word]) -> Scope:
    sub = spec.main
    args: list[Word] = []
    rest = iter(argv[1:])
    for w in rest:  # --arg NAME VALUE and friends take two values
        if w.text in ("--arg", "--argjson", "--slurpfile", "--rawfile"):
            _name, value = next(rest, None), next(rest, None)
            if value is not None and w.text in ("--slurpfile", "--rawfile"):
                check_read_operand(an, value, idx)
            continue
        args.append(w)
    parsed = parse_args(sub, args)
    from_file = False
    for flag in parsed.flags:
        judge_flag(an, idx, spec, sub, flag, argv[0].text)
        if flag.name in ("-f", "--from-file"):
            from_file = True
            an.add(EXEC_FLAG, "ask", "jq -f runs a filter from a file the checker cannot see.",
                   flag.word.span, idx)  # fmt: skip
    files = parsed.positionals
    if not from_file and files:
        prog, files = files[0], files[1:]
        if prog.dynamic:
            an.add(DYNAMIC_EXPANSION, "ask", "the jq filter is only known at run time.",
                   prog.span, idx)  # fmt: skip
        elif JQ_ENV.search(prog.text) or "strenv" in prog.text:
            an.add(SECRET_READ, "ask", "the filter reads the environment, which may hold secrets.",
                   prog.span, idx)  # fmt: skip
    for w in files:
        check_read_operand(an, w, idx)
    return scope_of(spec, argv)
