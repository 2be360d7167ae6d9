"""Program specs: what each program may be given before the shell analyzer stops allowing it.

The specs are data (`policies/programs.toml`, shipped as `friday/policies/programs.toml`) so
that the list of programs, their exec/write flags and git's read-only subcommands can be
reviewed and extended without touching the analyzer. The file is validated strictly when
it is loaded: a typo must fail loudly with the file and line, never silently make a
program unknown (which would only ask) or, worse, drop a flag that executes code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from friday.permissions.verdict import CODES

DECISIONS = ("allow", "ask", "deny")
OPERANDS = ("read", "text", "write", "delete", "none")
FLAG_KEYS = (
    "value_flags",
    "exec_flags",
    "write_flags",
    "delete_flags",
    "network_flags",
    "ask_flags",
    "secret_flags",
    "allowed_flags",
    "listing",
)
SUB_KEYS = frozenset(
    {"decision", "code", "message", "operands", "write_operand", "verbs", "verb_default"}
    | set(FLAG_KEYS)
    | {"max_positionals", "positional_code", "allow", "ask", "deny"}
)
PROGRAM_KEYS = SUB_KEYS | {
    "any_args",
    "aliases",
    "handler",
    "recursive_flags",
    "destructive",
    "subcommands",
    "subcommand_default",
    "global_value_flags",
    "global_ask_flags",
    "scope",
}
GROUP_KEYS = frozenset({"decision", "code", "message", "programs", "scope", "allow", "ask", "deny"})
# Handlers implemented in code (friday/permissions/shell/special.py and wrappers.py).
HANDLERS = frozenset(
    {
        "find", "fd", "sed", "awk", "git", "tar", "dd", "xargs", "env", "timeout", "nice",
        "stdbuf", "nohup", "command", "sudo", "shell", "eval", "cd", "pushd", "popd",
        "export", "set", "jq", "assign_builtin", "rm", "ps", "search",
    }
)  # fmt: skip


# Handlers that only read: a glob or variable argument cannot make them run or write.
READ_ONLY_HANDLERS = frozenset({"search", "ps"})


class SpecError(Exception):
    """A program spec file is malformed: `file:line: what is wrong`."""


@dataclass(frozen=True, slots=True)
class SubSpec:
    """How one program (or one of its subcommands, like `git log`) is judged."""

    decision: str = "allow"
    code: str = "PROGRAM_ASK"
    message: str = ""
    operands: str = "read"
    write_operand: int = 0
    value_flags: frozenset[str] = frozenset()
    exec_flags: frozenset[str] = frozenset()
    write_flags: frozenset[str] = frozenset()
    delete_flags: frozenset[str] = frozenset()
    network_flags: frozenset[str] = frozenset()
    ask_flags: frozenset[str] = frozenset()
    secret_flags: frozenset[str] = frozenset()
    allowed_flags: frozenset[str] | None = None
    listing: frozenset[str] = frozenset()
    max_positionals: int | None = None
    positional_code: str = "FILE_WRITE"
    verbs: Mapping[str, str] = field(default_factory=dict)
    verb_default: str = "allow"


@dataclass(frozen=True, slots=True)
class ProgramSpec:
    name: str
    main: SubSpec
    any_args: bool = False
    handler: str | None = None
    recursive_flags: frozenset[str] = frozenset()
    destructive: bool = False
    subcommands: Mapping[str, SubSpec] = field(default_factory=dict)
    subcommand_default: SubSpec | None = None
    global_value_flags: frozenset[str] = frozenset()
    global_ask_flags: frozenset[str] = frozenset()
    scope: str = "program"  # or "subcommand": session approvals name the subcommand
    category: str | None = None  # the group an always-ask program belongs to

    @property
    def risky_flags(self) -> bool:
        """Whether any argument could make this program run code or write (so dynamic or
        globbed arguments are not trusted)."""
        m = self.main
        handler = self.handler is not None and self.handler not in READ_ONLY_HANDLERS
        return bool(
            m.exec_flags or m.write_flags or m.delete_flags or handler or self.subcommands
        ) or (m.operands in ("write", "delete") or bool(m.write_operand))


@dataclass(frozen=True, slots=True)
class Example:
    command: str
    decision: str
    source: _Locator = field(compare=False, repr=False)

    @property
    def where(self) -> str:
        """file:line of the example (found only when needed: it is a text search)."""
        return self.source.at(self.command)


@dataclass(frozen=True, slots=True)
class Specs:
    programs: Mapping[str, ProgramSpec]
    examples: tuple[Example, ...] = ()

    def get(self, name: str) -> ProgramSpec | None:
        spec = self.programs.get(name)
        if spec is not None:
            return spec
        for family in ("python", "pip", "pypy", "ruby", "perl", "php", "node", "lua"):
            rest = name[len(family) :]
            if name.startswith(family) and rest and rest.replace(".", "").isdigit():
                return self.programs.get(family)
        if name.startswith("mkfs."):
            return self.programs.get("mkfs")
        return None


def default_path() -> Any:
    from importlib.resources import files

    return files("friday").joinpath("policies/programs.toml")


def load_specs(extra: Sequence[Path] = ()) -> Specs:
    """The built-in specs plus `extra` files (later files replace earlier programs).
    Raises SpecError naming the file and line on bad data."""
    if not extra:
        return _default_specs()
    programs = dict(_default_specs().programs)
    examples = list(_default_specs().examples)
    added: list[Example] = []
    for path in extra:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"{path}: cannot read the program specs ({exc.strerror}).") from exc
        more = parse_specs(text, str(path))
        programs.update(more.programs)
        examples.extend(more.examples)
        added.extend(more.examples)
    specs = Specs(programs, tuple(examples))
    _check_added(specs, added)
    return specs


def _check_added(specs: Specs, added: list[Example]) -> None:
    """An extra file's examples must hold against the merged specs (the built-in ones
    are checked by the test suite)."""
    if not added:
        return
    from friday.permissions.shell import analyze_shell
    from friday.permissions.verdict import ShellContext

    ctx = ShellContext(cwd="/workspace", root="/workspace", home="/home/user")
    check_examples(Specs(specs.programs, tuple(added)), lambda c: analyze_shell(c, ctx, specs))


@lru_cache(maxsize=1)
def _default_specs() -> Specs:
    res = default_path()
    return parse_specs(res.read_text(encoding="utf-8"), "policies/programs.toml")


def parse_specs(text: str, where: str) -> Specs:
    """Parse and validate one spec file's text; `where` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: not valid TOML ({exc}). Fix the syntax.") from None
    unknown = set(data) - {"program", "group"}
    if unknown:
        raise SpecError(f"{where}:1: unknown top-level key {sorted(unknown)[0]!r}.")
    loc = _Locator(text, where)
    programs: dict[str, ProgramSpec] = {}
    examples: list[Example] = []
    for name, table in _table(data.get("program", {}), loc, "program").items():
        spec = _program(name, table, loc)
        for alias in [name, *_strings(table.get("aliases", []), loc, name, "aliases")]:
            programs[alias] = ProgramSpec(**{**_fields(spec), "name": alias})
        examples.extend(_examples(table, loc, f"program.{name}"))
    for gname, table in _table(data.get("group", {}), loc, "group").items():
        _check_keys(table, GROUP_KEYS, loc, f"group.{gname}")
        main = _sub(table, loc, f"group.{gname}", keys=GROUP_KEYS)
        if main.decision == "allow":
            raise SpecError(f"{loc.at(f'[group.{gname}]')}: a group is for programs that ask.")
        scope = table.get("scope", "program")
        if scope not in ("program", "subcommand"):
            raise SpecError(f"{loc.at(f'[group.{gname}]')}: scope must be program or subcommand.")
        for prog in _strings(table.get("programs", []), loc, gname, "programs"):
            programs[prog] = ProgramSpec(prog, main, scope=scope, category=gname)
        examples.extend(_examples(table, loc, f"group.{gname}"))
    return Specs(programs, tuple(examples))


def _fields(spec: ProgramSpec) -> dict[str, Any]:
    return {k: getattr(spec, k) for k in ProgramSpec.__slots__}


class _Locator:
    """Finds the line of a table header or a value, for error messages."""

    def __init__(self, text: str, where: str) -> None:
        self.lines = text.splitlines()
        self.where = where

    def at(self, needle: str, after: str | None = None) -> str:
        """The first line containing `needle` (below the first line containing `after`)."""
        start = 0
        if after is not None:
            start = next((i for i, line in enumerate(self.lines) if after in line), 0)
        for i, line in enumerate(self.lines[start:], start + 1):
            if needle in line:
                return f"{self.where}:{i}"
        return f"{self.where}:{start + 1}"


def _table(value: Any, loc: _Locator, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpecError(f"{loc.at(what)}: [{what}] must be a table of tables.")
    for name, table in value.items():
        if not isinstance(table, dict):
            raise SpecError(f"{loc.at(f'{what}.{name}')}: {what}.{name} must be a table.")
    return value


def _check_keys(table: dict[str, Any], allowed: frozenset[str], loc: _Locator, name: str) -> None:
    for key in table:
        if key not in allowed:
            raise SpecError(
                f"{loc.at(key, after=f'[{name}]')}: unknown key {key!r} in [{name}] "
                f"(known: {', '.join(sorted(allowed))})."
            )


def _strings(value: Any, loc: _Locator, name: str, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SpecError(f"{loc.at(name)}: {name}.{key} must be a list of non-empty strings.")
    return value


def _program(name: str, table: dict[str, Any], loc: _Locator) -> ProgramSpec:
    where = f"program.{name}"
    _check_keys(table, PROGRAM_KEYS, loc, where)
    main = _sub(table, loc, where, keys=PROGRAM_KEYS)
    handler = table.get("handler")
    if handler is not None and handler not in HANDLERS:
        raise SpecError(f"{loc.at(f'[{where}]')}: unknown handler {handler!r}.")
    subs = {}
    for sname, stable in _table(table.get("subcommands", {}), loc, f"{where}.subcommands").items():
        _check_keys(stable, SUB_KEYS, loc, f"{where}.subcommands.{sname}")
        subs[sname] = _sub(stable, loc, f"{where}.subcommands.{sname}", keys=SUB_KEYS)
    default = table.get("subcommand_default")
    if default is not None:
        _check_keys(default, SUB_KEYS, loc, f"{where}.subcommand_default")
        default = _sub(default, loc, f"{where}.subcommand_default", keys=SUB_KEYS)
    any_args = table.get("any_args", False)
    if not isinstance(any_args, bool):
        raise SpecError(f"{loc.at(f'[{where}]')}: any_args must be true or false.")
    scope = table.get("scope", "subcommand" if subs else "program")
    if scope not in ("program", "subcommand"):
        raise SpecError(f"{loc.at(f'[{where}]')}: scope must be 'program' or 'subcommand'.")
    spec = ProgramSpec(
        name=name,
        main=main,
        any_args=any_args,
        handler=handler,
        recursive_flags=frozenset(_strings(table.get("recursive_flags", []), loc, name, "rf")),
        destructive=bool(table.get("destructive", False)),
        subcommands=subs,
        subcommand_default=default,
        global_value_flags=frozenset(
            _strings(table.get("global_value_flags", []), loc, name, "global_value_flags")
        ),
        global_ask_flags=frozenset(
            _strings(table.get("global_ask_flags", []), loc, name, "global_ask_flags")
        ),
        scope=scope,
    )
    if any_args and spec.risky_flags:
        raise SpecError(
            f"{loc.at(f'[{where}]')}: any_args = true is only for programs with no exec, "
            "write or delete behaviour."
        )
    return spec


def _sub(table: dict[str, Any], loc: _Locator, where: str, keys: frozenset[str]) -> SubSpec:
    here = loc.at(f"[{where}]")
    decision = table.get("decision", "allow")
    if decision not in DECISIONS:
        raise SpecError(f"{here}: decision must be one of {', '.join(DECISIONS)}.")
    code = table.get("code", "PROGRAM_ASK")
    if code not in CODES:
        raise SpecError(f"{here}: unknown reason code {code!r}.")
    message = table.get("message", "")
    if decision != "allow" and not (isinstance(message, str) and message):
        raise SpecError(f"{here}: a program that does not allow needs a message saying why.")
    operands = table.get("operands", "read")
    if operands not in OPERANDS:
        raise SpecError(f"{here}: operands must be one of {', '.join(OPERANDS)}.")
    flags = {
        key: frozenset(_strings(table.get(key, []), loc, where, key))
        for key in FLAG_KEYS
        if key != "allowed_flags"
    }
    allowed = table.get("allowed_flags")
    verbs = table.get("verbs", {})
    if not isinstance(verbs, dict) or any(v != "allow" and v not in CODES for v in verbs.values()):
        raise SpecError(f"{here}: verbs maps a word to 'allow' or a reason code.")
    verb_default = table.get("verb_default", "allow")
    positional_code = table.get("positional_code", "FILE_WRITE")
    for value in (verb_default, positional_code):
        if value != "allow" and value not in CODES:
            raise SpecError(f"{here}: {value!r} is not 'allow' or a reason code.")
    ints = {}
    for key in ("write_operand", "max_positionals"):
        value = table.get(key)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise SpecError(f"{here}: {key} must be a whole number.")
        ints[key] = value
    return SubSpec(
        decision=decision,
        code=code,
        message=message,
        operands=operands,
        write_operand=ints["write_operand"] or 0,
        allowed_flags=None
        if allowed is None
        else frozenset(_strings(allowed, loc, where, "allowed_flags")),
        max_positionals=ints["max_positionals"],
        positional_code=positional_code,
        verbs=verbs,
        verb_default=verb_default,
        **flags,
    )


def _examples(table: dict[str, Any], loc: _Locator, where: str) -> list[Example]:
    out = []
    for decision in DECISIONS:
        for command in _strings(table.get(decision, []), loc, where, decision):
            out.append(Example(command, decision, loc))
    if not out:
        raise SpecError(f"{loc.at(f'[{where}]')}: [{where}] needs at least one example.")
    return out


def check_examples(specs: Specs, analyze: Any) -> None:
    """Run every example through `analyze(command) -> Verdict`; raise SpecError at the
    first that contradicts its decision."""
    for ex in specs.examples:
        got = analyze(ex.command).decision
        if got != ex.decision:
            raise SpecError(
                f"{ex.where}: example {ex.command!r} is listed as {ex.decision} "
                f"but the analyzer says {got}."
            )
