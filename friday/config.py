"""Settings: defaults < user TOML < project TOML < environment < command-line flags.

The user file is `$XDG_CONFIG_HOME/friday/config.toml` (default `~/.config/...`); the
project file is the nearest `.friday/config.toml` from the working directory up to the git
root. Every key Friday accepts is listed once, in `SCHEMA` below, with its type and its
environment variable: validation, suggestions for misspelt keys and the env layer all read
that table, so a new section is one entry there plus one field on `Settings`.

Every problem is a `ConfigError` whose message is one line naming the file (or variable),
the key and what would be valid, so the CLI can print it without a traceback.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ProviderKind = Literal["anthropic", "openai", "openai-chat"]
PROVIDER_KINDS: tuple[str, ...] = ("anthropic", "openai", "openai-chat")

USER_CONFIG_HINT = "~/.config/friday/config.toml"
PROJECT_CONFIG = Path(".friday") / "config.toml"


class ConfigError(Exception):
    """A configuration problem, phrased as one line that says what to change."""


@dataclass(frozen=True)
class RetryConfig:
    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0


@dataclass(frozen=True)
class ContextConfig:
    """`[context]`: a rewrite comes when the next request would pass `compact_at` of the
    window; masking old outputs is taken instead of a summary when it alone brings the
    context under `mask_at`. `window` overrides the model's known context window (needed
    for a model Friday does not know)."""

    window: int | None = None
    compact_at: float = 0.80
    mask_at: float = 0.40
    tool_result_max_tokens: int = 25_000


@dataclass(frozen=True)
class UiConfig:
    """`[ui]`: the interactive front end. `plain` picks the line mode over the full-screen
    app; `transcript_on_exit` prints the session as plain text to the terminal's
    scrollback when the full-screen app closes, so terminal history keeps it."""

    plain: bool = False
    transcript_on_exit: bool = True


@dataclass(frozen=True)
class ProviderConfig:
    """A `[providers.NAME]` table: a named endpoint speaking one of the wire protocols.
    A table named like a built-in provider or preset overrides that one's fields."""

    name: str
    kind: ProviderKind
    base_url: str | None = None
    api_key_env: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    model: str | None = None
    fallback_models: tuple[str, ...] = ()
    max_turns: int | None = None
    max_budget_usd: float | None = None
    max_tokens: int = 16000
    thinking_budget: int | None = None
    append_system_prompt: str | None = None
    retry: RetryConfig = field(default_factory=RetryConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    # None: the preset's mode (plan for strict, else default).
    permission_mode: str | None = None
    # A preset in policies/ (default, strict, trusted) or a path to a policy file.
    permission_policy: str = "default"
    # A re-read of unchanged lines the model already saw answers "unchanged since step N".
    dedupe_reads: bool = True
    # The config files that were read, lowest precedence first.
    sources: tuple[str, ...] = ()


# -- value types ------------------------------------------------------------------------


class _Invalid(ValueError):
    """Raised by a value check; the caller adds where the value came from."""


@dataclass(frozen=True)
class ValueType:
    """What a key accepts: `expected` completes "must be ...", `check` normalizes a
    TOML/flag value or raises `_Invalid`, `parse` turns an environment string into one."""

    expected: str
    check: Callable[[Any], Any]
    parse: Callable[[str], Any] = str


def _check_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _Invalid


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise _Invalid


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _check_positive_int(value: Any) -> int:
    if _is_int(value) and value > 0:
        return value
    raise _Invalid


def _check_thinking_budget(value: Any) -> int | None:
    if _is_int(value) and value >= 0:
        return value or None
    raise _Invalid


def _check_positive_number(value: Any) -> float:
    if _is_number(value) and value > 0:
        return float(value)
    raise _Invalid


def _check_non_negative_number(value: Any) -> float:
    if _is_number(value) and value >= 0:
        return float(value)
    raise _Invalid


def _check_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid


def _check_name(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise _Invalid


def _check_names(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(_check_name(v) for v in value)
    raise _Invalid


def _parse_names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


PERMISSION_MODES = ("default", "accept-edits", "plan", "bypass")


def _check_mode(value: Any) -> str:
    if value in PERMISSION_MODES:
        return value
    raise _Invalid


def _check_kind(value: Any) -> str:
    if value in PROVIDER_KINDS:
        return value
    raise _Invalid


def _check_headers(value: Any) -> dict[str, str]:
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return dict(value)
    raise _Invalid


def _check_fraction(value: Any) -> float:
    if _is_number(value) and 0 < value < 1:
        return float(value)
    raise _Invalid


def _check_url(value: Any) -> str:
    if isinstance(value, str) and re.match(r"^https?://\S+$", value.strip()):
        return value.strip()
    raise _Invalid


def _check_env_name(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        return value
    raise _Invalid


POSITIVE_INT = ValueType("a positive integer", _check_positive_int, int)
POSITIVE_NUMBER = ValueType("a positive number", _check_positive_number, float)
NON_NEGATIVE_NUMBER = ValueType("a non-negative number", _check_non_negative_number, float)
TEXT = ValueType("a string", _check_text)
NAME = ValueType("a non-empty string", _check_name)
NAMES = ValueType("a list of model names", _check_names, _parse_names)
THINKING_BUDGET = ValueType(
    "a non-negative integer (0 turns thinking off)", _check_thinking_budget, int
)
MODE = ValueType("one of " + ", ".join(PERMISSION_MODES), _check_mode)
KIND = ValueType("one of " + ", ".join(PROVIDER_KINDS), _check_kind)
FRACTION = ValueType("a number between 0 and 1 (0.8 is 80%)", _check_fraction, float)
URL = ValueType("an http:// or https:// URL", _check_url)
ENV_NAME = ValueType("an environment variable name", _check_env_name)
HEADERS = ValueType("a table of strings", _check_headers)
BOOL = ValueType("true or false", _check_bool, _parse_bool)


@dataclass(frozen=True)
class Key:
    """One scalar key. `env` names the environment variable that sets it, if any."""

    type: ValueType
    env: str | None = None


@dataclass(frozen=True)
class TableOf:
    """A table of named sub-tables that all share one schema, like `[providers.NAME]`."""

    schema: dict[str, Key]


# -- the schema: every key Friday reads, in one place -----------------------------------

SCHEMA: dict[str, Key | dict[str, Key] | TableOf] = {
    "model": Key(NAME, env="FRIDAY_MODEL"),
    "fallback_models": Key(NAMES, env="FRIDAY_FALLBACK_MODEL"),
    "max_turns": Key(POSITIVE_INT, env="FRIDAY_MAX_TURNS"),
    "max_budget_usd": Key(POSITIVE_NUMBER, env="FRIDAY_MAX_BUDGET_USD"),
    "max_tokens": Key(POSITIVE_INT),
    "thinking_budget": Key(THINKING_BUDGET),
    "append_system_prompt": Key(TEXT),
    "permission_mode": Key(MODE, env="FRIDAY_PERMISSION_MODE"),
    "permission_policy": Key(NAME, env="FRIDAY_PERMISSION_POLICY"),
    "dedupe_reads": Key(BOOL, env="FRIDAY_DEDUPE_READS"),
    "retry": {
        "max_attempts": Key(POSITIVE_INT),
        "base_delay": Key(NON_NEGATIVE_NUMBER),
        "max_delay": Key(NON_NEGATIVE_NUMBER),
    },
    "context": {
        "window": Key(POSITIVE_INT, env="FRIDAY_CONTEXT_WINDOW"),
        "compact_at": Key(FRACTION),
        "mask_at": Key(FRACTION),
        "tool_result_max_tokens": Key(POSITIVE_INT),
    },
    "ui": {
        "plain": Key(BOOL, env="FRIDAY_PLAIN"),
        "transcript_on_exit": Key(BOOL),
    },
    "providers": TableOf(
        {
            "kind": Key(KIND),
            "base_url": Key(URL),
            "api_key_env": Key(ENV_NAME),
            "headers": Key(HEADERS),
        }
    ),
}


def _default_kind(name: str) -> ProviderKind:
    """A provider table without `kind`: a built-in protocol name keeps its own kind,
    anything else is an OpenAI-compatible Chat Completions server (as every preset is)."""
    return name if name in PROVIDER_KINDS else "openai-chat"  # type: ignore[return-value]


def _build_providers(tables: dict[str, dict[str, Any]]) -> dict[str, ProviderConfig]:
    return {
        name: ProviderConfig(
            name=name,
            kind=table.get("kind") or _default_kind(name),
            base_url=table.get("base_url"),
            api_key_env=table.get("api_key_env"),
            headers=table.get("headers", {}),
        )
        for name, table in tables.items()
    }


# How each table in SCHEMA becomes its Settings field.
SECTION_BUILDERS: dict[str, Callable[[Any], Any]] = {
    "retry": lambda table: RetryConfig(**table),
    "context": lambda table: ContextConfig(**table),
    "ui": lambda table: UiConfig(**table),
    "providers": _build_providers,
}


# -- loading ----------------------------------------------------------------------------


def user_config_path(env: Mapping[str, str]) -> Path | None:
    """`$XDG_CONFIG_HOME/friday/config.toml`, else `$HOME/.config/friday/config.toml`."""
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "friday" / "config.toml"
    home = env.get("HOME") or env.get("USERPROFILE")
    if not home:
        return None
    return Path(home) / ".config" / "friday" / "config.toml"


def project_config_path(cwd: Path) -> Path | None:
    """The nearest `.friday/config.toml` from `cwd` up to the git root (the first folder
    holding `.git`), or up to the filesystem root outside a repository."""
    start = Path(os.path.abspath(cwd))
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_CONFIG
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def load_settings(
    cwd: Path, env: Mapping[str, str], flags: Mapping[str, Any] | None = None
) -> Settings:
    """Read and merge every layer. `flags` uses `Settings` field names; None means unset."""
    merged: dict[str, Any] = {}
    sources: list[str] = []
    cwd = Path(os.path.abspath(cwd))
    user = user_config_path(env)
    for path in _config_files(cwd, env):
        shown = _display_path(path, cwd)
        layer = _validate(_read_toml(path, shown), SCHEMA, "", shown)
        if user is None or not _same_file(path, user):
            _refuse_user_only(layer, shown, user)
        merged = _merge(merged, layer)
        sources.append(str(path))
    merged = _merge(merged, _env_layer(env))
    merged = _merge(merged, _flag_layer(flags or {}))
    return _build(merged, tuple(sources))


# Keys a project file may not set: a cloned repository must not be able to send the
# user's API keys elsewhere, or to loosen the permission boundary it runs inside.
USER_ONLY = {
    "providers": "could send your API keys to a server of its choosing",
    "permission_mode": "could turn off the approval questions for its own commands",
    "permission_policy": "could choose a policy that allows its own commands",
}


def _refuse_user_only(layer: dict[str, Any], shown: str, user: Path | None) -> None:
    for key, why in USER_ONLY.items():
        if key in layer:
            name = "[providers]" if key == "providers" else key
            raise ConfigError(
                f"{shown}: {name} may only be set in your user config "
                f"({user or '~/.config/friday/config.toml'}), not in a project file, which "
                f"{why}"
            )


def _config_files(cwd: Path, env: Mapping[str, str]) -> list[Path]:
    files: list[Path] = []
    user = user_config_path(env)
    if user is not None and user.is_file():
        files.append(user)
    project = project_config_path(cwd)
    if project is not None and all(not _same_file(project, f) for f in files):
        files.append(project)
    return files


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _display_path(path: Path, cwd: Path) -> str:
    """Relative to the working directory when the file is inside it, else absolute."""
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    import tomllib

    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line = _split_toml_error(str(exc), text)
        raise ConfigError(f"{shown}:{line}: invalid TOML: {message}") from None


def _split_toml_error(message: str, text: str) -> tuple[str, int]:
    """tomllib ends its message with "(at line L, column C)" or "(at end of document)"."""
    found = re.search(r"\s*\(at line (\d+), column \d+\)\s*$", message)
    if found:
        return message[: found.start()], int(found.group(1))
    found = re.search(r"\s*\(at end of document\)\s*$", message)
    if found:
        message = message[: found.start()] + " at end of file"
    return message, max(1, len(text.splitlines()))


def _suggestion(key: str, valid: list[str], prefix: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{prefix}{close[0]}'?)"
    return f"; valid keys: {', '.join(prefix + k for k in valid)}" if valid else ""


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    shown = json.dumps(value, default=str, ensure_ascii=False)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _check(key: Key, value: Any, label: str) -> Any:
    try:
        return key.type.check(value)
    except _Invalid:
        raise ConfigError(f"{label} must be {key.type.expected}, got {_show(value)}") from None


def _validate(data: dict[str, Any], schema: dict[str, Any], prefix: str, where: str) -> dict:
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = prefix + key
        spec = schema.get(key)
        if spec is None:
            raise ConfigError(
                f"{where}: unknown key '{dotted}'{_suggestion(key, list(schema), prefix)}"
            )
        if isinstance(spec, Key):
            out[key] = _check(spec, value, f"{where}: {dotted}")
            continue
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {dotted} must be a table, got {_show(value)}")
        if isinstance(spec, TableOf):
            out[key] = {}
            for name, table in value.items():
                if not isinstance(table, dict):
                    raise ConfigError(
                        f"{where}: {dotted}.{name} must be a table, got {_show(table)}"
                    )
                out[key][name] = _validate(table, spec.schema, f"{dotted}.{name}.", where)
        else:
            out[key] = _validate(value, spec, dotted + ".", where)
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key (recursively); any other value replaces the one below."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _env_value(env: Mapping[str, str], spec: Key, name: str, into: dict[str, Any]) -> None:
    text = env.get(spec.env, "").strip() if spec.env else ""
    if not text:
        return
    try:
        into[name] = spec.type.check(spec.type.parse(text))
    except (_Invalid, ValueError):
        raise ConfigError(f"{spec.env} must be {spec.type.expected}, got {_show(text)}") from None


def _env_layer(env: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for name, spec in SCHEMA.items():
        if isinstance(spec, Key):
            _env_value(env, spec, name, layer)
        elif isinstance(spec, dict):
            section: dict[str, Any] = {}
            for key, sub in spec.items():
                _env_value(env, sub, key, section)
            if section:
                layer[name] = section
    return layer


def _flag_layer(flags: Mapping[str, Any]) -> dict[str, Any]:
    scalars = [name for name, spec in SCHEMA.items() if isinstance(spec, Key)]
    layer: dict[str, Any] = {}
    for name, value in flags.items():
        if value is None:
            continue
        spec = SCHEMA.get(name)
        if not isinstance(spec, Key):
            raise ConfigError(f"unknown setting '{name}'{_suggestion(name, scalars, '')}")
        layer[name] = _check(spec, value, "--" + name.replace("_", "-"))
    return layer


def _build(merged: dict[str, Any], sources: tuple[str, ...]) -> Settings:
    kwargs: dict[str, Any] = {}
    for name, value in merged.items():
        builder = SECTION_BUILDERS.get(name)
        kwargs[name] = builder(value) if builder is not None else value
    return Settings(**kwargs, sources=sources)
