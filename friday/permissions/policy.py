"""The effective permission policy: a preset, the user's and the project's rule files,
`--allow`/`--deny` flags and the session's approvals, plus the permission mode.

Layers, lowest first: preset (`policies/<name>.toml`) < user
(`$XDG_CONFIG_HOME/friday/policy.toml`, else `~/.config/friday/policy.toml`) < project
(`<root>/.friday/policy.toml`) < flags < session. Every layer's rules are collected and
combined per sub-command deny > ask > allow, so a deny anywhere wins and a later layer
never quietly undoes an earlier deny. A project's deny and ask rules always apply; its allow
rules only once the user trusts that file as it is (see trust.py).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from friday.permissions.modes import MODES, apply_mode
from friday.permissions.presets import PolicyFile, preset_path, read_limited, read_policy_file
from friday.permissions.rules import (
    SHELL_TOOL,
    PolicyError,
    Rule,
    apply_rules,
    parse_rule_text,
    tool_rule_matches,
)
from friday.permissions.trust import TrustStore, write_atomic
from friday.permissions.verdict import (
    MODE,
    PARSE_ERROR,
    RULE_ALLOW,
    RULE_ASK,
    RULE_DENY,
    Reason,
    ShellContext,
    Verdict,
)

__all__ = [
    "MODES",
    "Policy",
    "PolicyError",
    "append_project_rule",
    "load_policy",
    "project_policy_path",
    "user_policy_path",
]

PROJECT_POLICY = Path(".friday") / "policy.toml"


@dataclass
class Policy:
    preset: str
    mode: str
    rules: list[Rule]
    specs: Any  # friday.permissions.specs.Specs, from load_specs()
    notices: list[str] = field(default_factory=list)
    untrusted_project: Path | None = None
    # The project's allow rules waiting for trust (shown when asking the user to trust).
    untrusted_rules: list[Rule] = field(default_factory=list)
    root: Path | None = None
    trust_store: TrustStore | None = None
    untrusted_digest: str = ""

    def judge_shell(self, command: str, ctx: ShellContext) -> Verdict:
        """The analyzer's verdict, then the rules, then the mode. In plan mode allow rules
        lift nothing: plan means nothing that writes or runs, whatever a rule allows."""
        verdict = safe_analyze(command, ctx, self.specs)
        verdict = apply_rules(verdict, self.rules, lift=self.mode != "plan")
        return apply_mode(verdict, self.mode, ctx.root)

    def judge_tool(self, tool: str, *, writes: bool) -> Verdict:
        """A non-shell tool: allowed unless a tool rule says otherwise (deny > ask >
        allow); in plan mode a tool that writes is refused."""
        matched = [r for r in self.rules if tool_rule_matches(r, tool)]
        strict = [r for r in matched if r.decision == "deny"] or [
            r for r in matched if r.decision == "ask"
        ]
        used = strict or matched
        codes = {"deny": RULE_DENY, "ask": RULE_ASK, "allow": RULE_ALLOW}
        reasons = [
            Reason(codes[r.decision], f"{r.decision} by rule {r.label()}", r.decision) for r in used
        ]
        if writes and self.mode == "plan":
            reasons.append(Reason(MODE, f"plan mode: {tool} changes files; not run", "deny"))
        verdict = Verdict.of(reasons, matched_rules=[r.label() for r in used])
        return apply_mode(verdict, self.mode, str(self.root or "/"))

    def rules_needing_trust(self) -> list[Rule]:
        """The project's allow rules that wait for the user to trust its policy file."""
        return list(self.untrusted_rules)

    def append_project_rule(self, rule: Rule) -> Path:
        """ "Always for this project": `append_project_rule` with this policy's root and
        trust store."""
        if self.root is None:
            raise PolicyError("this policy has no project to write a rule into")
        return append_project_rule(self.root, rule, trust=self.trust_store)

    def add_session_rule(self, rule: Rule) -> None:
        """An approval "for this session". Session rules never override built-in safety."""
        if rule.override:
            raise PolicyError("a session rule cannot override built-in safety")
        if not rule.source:
            from dataclasses import replace

            rule = replace(rule, source="session")
        if rule not in self.rules:
            self.rules.append(rule)

    def trust_project(self) -> None:
        """Trust the project policy file as it was read, and activate its allow rules.
        Should the file have changed since, the next load asks again."""
        if self.untrusted_project is None or self.root is None:
            return
        store = self.trust_store or TrustStore.from_env(os.environ)
        store.trust(self.root, self.untrusted_digest)
        self.rules.extend(self.untrusted_rules)
        self.notices = [n for n in self.notices if "friday permissions trust" not in n]
        self.untrusted_project = None
        self.untrusted_rules = []


def safe_analyze(command: str, ctx: ShellContext, specs: Any = None) -> Verdict:
    """The analyzer never raises by contract; should it ever, the command asks."""
    try:
        from friday.permissions.shell import analyze_shell

        return analyze_shell(command, ctx, specs)
    except Exception as exc:  # fail closed
        message = f"internal analyzer error ({type(exc).__name__}: {exc}); judged as ask"
        return Verdict.of([Reason(PARSE_ERROR, message, "ask")])


# -- loading ---------------------------------------------------------------------------


def user_policy_path(env: Mapping[str, str]) -> Path | None:
    from friday.config import user_config_path

    config = user_config_path(env)
    return config.with_name("policy.toml") if config is not None else None


def project_policy_path(root: Path) -> Path:
    """The project's policy file: the nearest `.friday/policy.toml` from `root` up to the
    git root (the same search as `.friday/config.toml`, so running in a subfolder keeps
    the project's deny and ask rules), else `<root>/.friday/policy.toml`, where an
    "always for this project" answer creates it."""
    start = Path(os.path.abspath(root))
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_POLICY
        if candidate.is_file() or candidate.is_symlink():
            return candidate
        if (folder / ".git").exists():
            break
    return start / PROJECT_POLICY


def load_policy(
    root: Path,
    env: Mapping[str, str],
    *,
    preset: str | None = None,
    mode: str | None = None,
    allow: Sequence[str] = (),
    deny: Sequence[str] = (),
    policy_file: Path | None = None,
    trust: TrustStore | None = None,
) -> Policy:
    """Read every layer. `policy_file` stands in for the user policy file (to try rules
    out); `preset` is a name in policies/ or a path. Raises PolicyError."""
    specs = _specs()
    name = preset or "default"
    rules, preset_mode = load_preset(name, specs)
    store = trust or TrustStore.from_env(env)
    policy = Policy(
        preset=name, mode="default", rules=rules, specs=specs, root=Path(root), trust_store=store
    )
    user = Path(policy_file).expanduser() if policy_file else user_policy_path(env)
    if policy_file and not user.is_file():
        raise PolicyError(f"{policy_file}: no such policy file; check the --policy path")
    if user is not None and user.is_file():
        shown = _home_relative(user, env)
        policy.rules += read_policy_file(user, shown, "user", specs).rules
    _add_project(policy, Path(root), specs, store)
    policy.rules += [parse_rule_text(t, "allow", "flag --allow") for t in allow]
    policy.rules += [parse_rule_text(t, "deny", "flag --deny") for t in deny]
    chosen = mode or preset_mode or "default"
    if chosen not in MODES:
        raise PolicyError(f"permission mode must be one of {', '.join(MODES)}, got {chosen!r}")
    policy.mode = chosen
    return policy


def _add_project(policy: Policy, root: Path, specs: Any, store: TrustStore) -> None:
    path = project_policy_path(root)
    if not path.is_file():
        return
    parsed = read_policy_file(path, str(path), "project", specs, label=str(PROJECT_POLICY))
    loosening = [r for r in parsed.rules if r.decision == "allow"]
    policy.rules += [r for r in parsed.rules if r.decision != "allow"]
    if not loosening:
        return
    if store.is_trusted(root, parsed.digest):
        policy.rules += loosening
        return
    policy.untrusted_project = path
    policy.untrusted_rules = loosening
    policy.untrusted_digest = parsed.digest
    count = f"{len(loosening)} allow rule" + ("s" if len(loosening) != 1 else "")
    policy.notices.append(
        f"{path}: ignoring {count} until you trust this project's policy "
        f"(run: friday permissions trust {root}); its deny and ask rules apply"
    )


# Parsed preset files by (real path, sha256 of the bytes parsed): content-addressed, so
# an edited preset is parsed (and its examples checked) again.
_PRESETS: dict[tuple[str, str], PolicyFile] = {}


def load_preset(name: str, specs: Any = None, _seen: tuple[str, ...] = ()) -> tuple[list, Any]:
    """A preset's rules (its `extends` chain first) and its mode. Parsed files are
    cached per content, so their examples are checked once per process."""
    path = preset_path(name)
    if not path.is_file():
        from friday.permissions.presets import preset_names

        raise PolicyError(
            f"unknown preset {name!r}; choose one of {', '.join(preset_names())} "
            "or give the path of a .toml file"
        )
    key = os.path.realpath(path)
    if key in _seen:
        raise PolicyError(f"{path}: preset 'extends' loops back to itself; break the cycle")
    data = read_limited(path, str(path))
    parsed = _PRESETS.get((key, hashlib.sha256(data).hexdigest()))
    if parsed is None:
        parsed = read_policy_file(path, str(path), "preset", specs, data=data)
        _PRESETS[(key, parsed.digest)] = parsed
    rules: list[Rule] = []
    mode = parsed.preset.get("mode")
    base = parsed.preset.get("extends")
    if base:
        if "/" in base and not os.path.isabs(base):
            base = str(path.parent / base)
        rules, base_mode = load_preset(base, specs, (*_seen, key))
        mode = mode or base_mode
    return [*rules, *parsed.rules], mode


def preset_policy(name: str = "default") -> Policy:
    """A preset alone: no user or project files, no flags."""
    specs = _specs()
    rules, mode = load_preset(name, specs)
    return Policy(preset=name, mode=mode or "default", rules=rules, specs=specs)


def _specs() -> Any:
    from friday.permissions.specs import SpecError, load_specs

    try:
        return load_specs()
    except SpecError as exc:
        raise PolicyError(str(exc)) from None


def _home_relative(path: Path, env: Mapping[str, str]) -> str:
    home = env.get("HOME")
    if home:
        try:
            return "~/" + str(path.relative_to(home))
        except ValueError:
            pass
    return str(path)


# -- "always for this project" -----------------------------------------------------------

_HEADER = (
    "# Friday permission rules for this project (format: policies/default.toml in Friday).\n"
    "# Deny and ask rules always apply; allow rules only after `friday permissions trust`.\n"
)


def append_project_rule(root: Path, rule: Rule, *, trust: TrustStore | None = None) -> Path:
    """Append `rule` as a [[rule]] to `<root>/.friday/policy.toml` (created if absent),
    keeping the existing text byte for byte, written atomically. A file that was trusted
    (or absent, or held nothing to trust) stays trusted with its new digest; a file with
    untrusted allow rules stays untrusted, so this answer never trusts them on the side.
    `trust` defaults to the store the environment names (`Policy.append_project_rule`
    passes the one the policy was loaded with)."""
    if rule.override:
        raise PolicyError("a project policy rule cannot override built-in safety")
    root = Path(root)
    path = project_policy_path(root)
    _refuse_links(path)
    store = trust or TrustStore.from_env(os.environ)
    old = read_limited(path, str(path)) if path.exists() else b""
    was_trusted = True
    before = 0
    if old:  # parsed from the very bytes the new file starts with
        parsed = read_policy_file(path, str(path), "project", None, check=False, data=old)
        before = len(parsed.rules)
        if any(r.decision == "allow" for r in parsed.rules):
            was_trusted = store.is_trusted(root, parsed.digest)
    sep = b"" if not old else (b"\n" if old.endswith(b"\n") else b"\n\n")
    new = old + sep + (b"" if old else _HEADER.encode()) + rule_toml(rule).encode()
    _check_appended(new, path, before)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, new)
    except OSError as exc:
        raise PolicyError(f"{path}: cannot write: {exc.strerror or exc}") from None
    if was_trusted and store.path is not None:
        store.trust(root, hashlib.sha256(new).hexdigest())
    return path


def _refuse_links(path: Path) -> None:
    """A cloned repository may ship `.friday` (or its policy.toml) as a link to a file of
    the user's, such as their own policy file: never write a project answer through it."""
    for part in (path.parent, path):
        if part.is_symlink():
            raise PolicyError(
                f"{part}: is a symbolic link; Friday writes project rules only into a "
                "regular .friday/policy.toml inside the project (replace the link)"
            )
    if path.exists() and not path.is_file():
        raise PolicyError(f"{path}: not a regular file; remove it or make it one")


def _check_appended(data: bytes, path: Path, before: int) -> None:
    import tomllib

    try:
        rules = tomllib.loads(data.decode("utf-8")).get("rule", [])
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot append a rule: {exc}; fix the file first") from None
    if not isinstance(rules, list) or len(rules) != before + 1:
        raise PolicyError(f"{path}: cannot append a [[rule]] to this file; fix it first")


def rule_toml(rule: Rule) -> str:
    """A rule as a [[rule]] table."""
    lines = ["[[rule]]"]
    if rule.pattern:
        lines.append("pattern = [" + ", ".join(_toml_str(t) for t in rule.pattern) + "]")
    if rule.tool != SHELL_TOOL or not rule.pattern:
        lines.append(f"tool = {_toml_str(rule.tool)}")
    lines.append(f"decision = {_toml_str(rule.decision)}")
    if rule.reason:
        lines.append(f"reason = {_toml_str(rule.reason)}")
    if rule.exact:
        lines.append("exact = true")
    return "\n".join(lines) + "\n"


def _toml_str(text: str) -> str:
    out = ['"']
    for ch in text:
        if 0xD800 <= ord(ch) <= 0xDFFF:  # undecodable bytes of the command line
            raise PolicyError(
                f"cannot write the rule word {text!r} to a policy file: it is not valid "
                "UTF-8 text; approve it for this session instead"
            )
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
