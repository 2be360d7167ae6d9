"""Reading policy files: presets (`policies/<name>.toml`), the user file and the project
file share one format (documented at the top of policies/default.toml).

A malformed file is a `PolicyError` naming the file and the line of the offending
`[[rule]]` (or the TOML error's own line), never a silently empty policy: a rule that is
quietly dropped is a permission the user believes they have set and have not. Every rule's
`match` / `not_match` examples are run through the real analyzer at load, so a rule that
does not do what its examples say fails loudly at the line that wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from friday.permissions.modes import MODES
from friday.permissions.rules import DECISIONS, SHELL_TOOL, PolicyError, Rule, check_pattern

RULE_KEYS = ("pattern", "tool", "decision", "reason", "exact", "override", "match", "not_match")
PRESET_KEYS = ("name", "description", "mode", "extends")
# A fixed, neutral place to run examples in, so a file's examples mean the same wherever
# Friday runs.
EXAMPLE_ROOT = "/nonexistent/friday-example/project"
EXAMPLE_HOME = "/nonexistent/friday-example/home"
MAX_POLICY_BYTES = 1024 * 1024


@dataclass
class PolicyFile:
    """One parsed file: its rules in order, its [preset] table (presets only)."""

    path: Path
    rules: list[Rule] = field(default_factory=list)
    preset: dict[str, Any] = field(default_factory=dict)
    digest: str = ""


def preset_path(name: str) -> Path:
    """A preset by name (shipped in the package's policies/) or a path to a TOML file."""
    if "/" in name or name.endswith(".toml"):
        return Path(name).expanduser()
    from importlib.resources import files

    return Path(str(files("friday") / "policies" / f"{name}.toml"))


def preset_names() -> list[str]:
    folder = preset_path("default").parent
    return sorted(p.stem for p in folder.glob("*.toml") if p.stem != "programs")


def read_policy_file(
    path: Path,
    shown: str,
    kind: str,
    specs: Any = None,
    *,
    label: str | None = None,
    check: bool = True,
    data: bytes | None = None,
) -> PolicyFile:
    """Parse and check one file. `kind` is "preset", "user" or "project"; it decides
    which tables and keys are allowed. `shown` names the file in errors, `label` in rule
    sources (default: `shown`). `check=False` skips running the examples. `data`: the
    file's bytes as already read, so the digest is of exactly what was parsed."""
    import hashlib

    if data is None:
        data = read_limited(path, shown)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{shown}: not UTF-8 text; save it as UTF-8") from None
    table = _parse_toml(text, shown)
    out = PolicyFile(path=path, digest=hashlib.sha256(data).hexdigest())
    lines = _Lines(text)
    for key in table:
        if key not in ("rule", "preset"):
            raise PolicyError(
                f"{shown}:{lines.key(key)}: unknown table or key '{key}'; "
                "a policy file holds [[rule]] tables"
                + (" and [preset]" if kind == "preset" else "")
            )
    if "preset" in table:
        out.preset = _check_preset(table["preset"], kind, shown, lines)
    raw_rules = table.get("rule", [])
    if not isinstance(raw_rules, list):
        raise PolicyError(f"{shown}:{lines.key('rule')}: 'rule' must be [[rule]] tables")
    for index, raw in enumerate(raw_rules):
        line = lines.rule(index)
        where = f"{shown}:{line}"
        source = f"{_label(kind, path, label or shown)}:{line}"
        rule, examples = _check_rule(raw, where, kind, source)
        if check:
            _check_examples(rule, examples, where, specs)
        out.rules.append(rule)
    return out


def read_limited(path: Path, shown: str) -> bytes:
    """The file's bytes, refusing one larger than any real policy (a cloned repository's
    policy file must not be able to exhaust memory at startup)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(
            f"{shown}: larger than {MAX_POLICY_BYTES // 1024} KiB, too large for a policy "
            "file; keep only [[rule]] tables in it"
        )
    return data


def _label(kind: str, path: Path, shown: str) -> str:
    if kind == "preset":
        return f"preset {path.stem}"
    return f"{kind} {shown}"


def _parse_toml(text: str, shown: str) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\s*\(at line (\d+), column \d+\)\s*$", message)
        line = int(found.group(1)) if found else max(1, len(text.splitlines()))
        if found:
            message = message[: found.start()]
        raise PolicyError(f"{shown}:{line}: invalid TOML: {message}; fix the syntax") from None


class _Lines:
    """Finds the line a rule or a key was written on, for error messages."""

    _HEADER = re.compile(r"^\s*\[\[\s*rule\s*\]\]")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i + 1 for i, s in enumerate(self.lines) if self._HEADER.match(s)]

    def rule(self, index: int) -> int:
        if index < len(self.headers):
            return self.headers[index]
        return self.key("rule")

    def key(self, key: str, start: int = 1) -> int:
        pattern = re.compile(rf"^\s*(\[+\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\]|\.)")
        for i in range(start - 1, len(self.lines)):
            if pattern.match(self.lines[i]):
                return i + 1
        return start


def _check_preset(table: Any, kind: str, shown: str, lines: _Lines) -> dict[str, Any]:
    line = lines.key("preset")
    if kind != "preset":
        raise PolicyError(
            f"{shown}:{line}: a {kind} policy file may not set [preset]; choose the preset "
            "with --preset (or the config file) and keep only [[rule]] tables here"
        )
    if not isinstance(table, dict):
        raise PolicyError(f"{shown}:{line}: [preset] must be a table")
    for key, value in table.items():
        if key not in PRESET_KEYS:
            raise PolicyError(
                f"{shown}:{lines.key(key, line)}: unknown key '{key}' in [preset]; "
                f"valid keys: {', '.join(PRESET_KEYS)}"
            )
        if not isinstance(value, str):
            raise PolicyError(f"{shown}:{lines.key(key, line)}: preset.{key} must be a string")
    if "mode" in table and table["mode"] not in MODES:
        raise PolicyError(
            f"{shown}:{lines.key('mode', line)}: preset.mode must be one of "
            f"{', '.join(MODES)}, got {table['mode']!r}"
        )
    return dict(table)


def _check_rule(raw: Any, where: str, kind: str, source: str) -> tuple[Rule, dict[str, list]]:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: a rule must be a [[rule]] table")
    for key in raw:
        if key not in RULE_KEYS:
            import difflib

            close = difflib.get_close_matches(key, RULE_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise PolicyError(
                f"{where}: unknown key '{key}' in [[rule]]{hint}; valid keys: "
                + ", ".join(RULE_KEYS)
            )
    decision = raw.get("decision")
    if decision not in DECISIONS:
        raise PolicyError(f'{where}: decision must be "allow", "ask" or "deny", got {decision!r}')
    for key in ("reason", "tool"):
        if key in raw and not (isinstance(raw[key], str) and raw[key].strip()):
            raise PolicyError(f"{where}: {key} must be a non-empty string")
    for key in ("exact", "override"):
        if key in raw and not isinstance(raw[key], bool):
            raise PolicyError(f"{where}: {key} must be true or false, got {raw[key]!r}")
    examples = {k: _string_list(raw.get(k, []), k, where) for k in ("match", "not_match")}
    rule = Rule(
        pattern=_pattern(raw, where),
        decision=decision,
        tool=raw.get("tool", SHELL_TOOL).strip(),
        exact=raw.get("exact", False),
        override=raw.get("override", False),
        reason=raw.get("reason", ""),
        source=source,
    )
    _check_shape(rule, raw, examples, where, kind)
    return rule, examples


def _string_list(value: Any, key: str, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where}: {key} must be a list of strings")
    return value


def _pattern(raw: dict[str, Any], where: str) -> tuple[str, ...]:
    if "pattern" not in raw:
        return ()
    value = raw["pattern"]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise PolicyError(
            f"{where}: pattern must be a non-empty list of argument strings, "
            'e.g. ["npm", "run", "test"]'
        )
    return tuple(value)


def _check_shape(
    rule: Rule, raw: dict[str, Any], examples: dict[str, list], where: str, kind: str
) -> None:
    if rule.tool == SHELL_TOOL and not rule.pattern:
        raise PolicyError(
            f"{where}: a shell rule needs pattern = [...] (the command's words); "
            'for another tool write tool = "NAME" instead'
        )
    if rule.pattern and "tool" in raw and rule.tool != SHELL_TOOL:
        raise PolicyError(f"{where}: pattern applies to shell commands only; drop tool or pattern")
    if not rule.pattern and (examples["match"] or examples["not_match"]):
        raise PolicyError(f"{where}: match / not_match examples apply to shell patterns only")
    if rule.override and kind != "user":
        raise PolicyError(
            f"{where}: override = true is only honoured in your user policy file "
            "(~/.config/friday/policy.toml) or an --allow 'override:...' flag; remove it here"
        )
    if rule.override and rule.decision != "allow":
        raise PolicyError(f"{where}: override = true only makes sense on an allow rule")
    check_pattern(rule, where)


def _check_examples(rule: Rule, examples: dict[str, list], where: str, specs: Any) -> None:
    """Each `match` example must be decided by this rule, each `not_match` must not be:
    "decided" means the rule applies to a part of the command and the command's verdict,
    with this rule alone on top of the built-in analysis, is the rule's decision."""
    if not examples["match"] and not examples["not_match"]:
        return
    for command in examples["match"]:
        if not decides(rule, command, specs):
            raise PolicyError(
                f"{where}: match example {command!r} is not decided ({rule.decision}) by this "
                "rule; fix the pattern or the example (try: friday permissions check --explain)"
            )
    for command in examples["not_match"]:
        if decides(rule, command, specs):
            raise PolicyError(
                f"{where}: not_match example {command!r} is decided ({rule.decision}) by this "
                "rule; narrow the pattern (exact = true, more words) or fix the example"
            )


def decides(rule: Rule, command: str, specs: Any = None) -> bool:
    from friday.permissions.rules import apply_rules, rule_matches
    from friday.permissions.shell import analyze_shell
    from friday.permissions.verdict import ShellContext

    ctx = ShellContext(cwd=EXAMPLE_ROOT, root=EXAMPLE_ROOT, home=EXAMPLE_HOME)
    verdict = analyze_shell(command, ctx, specs)
    if not any(rule_matches(rule, s.argv) for s in verdict.subcommands):
        return False
    return apply_rules(verdict, [rule]).decision == rule.decision


def split_policy_choice(value: str | None, cwd: Path) -> tuple[str | None, Path | None]:
    """`--policy NAME|FILE`: a preset name from policies/, or a policy file whose rules
    stand in for the user's policy file (relative paths from the working directory)."""
    if value is None or value in preset_names():
        return value, None
    return None, cwd / Path(value).expanduser()
