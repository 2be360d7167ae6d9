"""Model names to adapter instances.

A model is named `provider:model`. The provider says which wire protocol to speak, where
the server is and which environment variable holds the key: the three built-in protocols
(`anthropic`, `openai` = Responses API, `openai-chat` = Chat Completions), the in-process
`scripted` model, presets for OpenAI-compatible services, and `[providers.NAME]` tables
from the settings, which override a preset or built-in of the same name field by field.

Adapter modules (and so the SDKs) are imported only by `resolve_model`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

from friday.config import USER_CONFIG_HINT, ConfigError, Settings, user_config_path
from friday.models import catalog
from friday.models.base import Model, ModelError

# Sent where a server needs no key: the SDKs refuse to start without one.
PLACEHOLDER_KEY = "not-needed"


@dataclass(frozen=True)
class Provider:
    """One way to reach models. `key_env` None means the server needs no key;
    `default_model` is what `default_model()` picks when only this provider's key is set."""

    name: str
    kind: str  # anthropic | openai | openai-chat | scripted
    base_url: str | None = None
    key_env: str | None = None
    default_model: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


BUILTIN_PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "anthropic", "anthropic", key_env="ANTHROPIC_API_KEY", default_model="claude-sonnet-4-5"
    ),
    Provider("openai", "openai", key_env="OPENAI_API_KEY", default_model="gpt-5"),
    Provider("openai-chat", "openai-chat", key_env="OPENAI_API_KEY"),
    Provider("scripted", "scripted"),
)

# OpenAI-compatible services: name, base URL, key variable (None: no key), default model.
# `default_model` tries their keys in this order.
_PRESET_TABLE: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("deepseek", "https://api.deepseek.com", "DEEPSEEK_API_KEY", "deepseek-chat"),
    ("openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY",
     "anthropic/claude-sonnet-4.5"),
    ("moonshot", "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY", "kimi-k2-0905-preview"),
    ("qwen", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY",
     "qwen3-coder-plus"),
    ("groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY", "openai/gpt-oss-120b"),
    ("ollama", "http://localhost:11434/v1", None, None),
    ("vllm", "http://localhost:8000/v1", None, None),
)  # fmt: skip
PRESETS: tuple[Provider, ...] = tuple(
    Provider(name, "openai-chat", url, key_env, model)
    for name, url, key_env, model in _PRESET_TABLE
)

# The adapter class for each wire protocol, imported on first use.
ADAPTERS: dict[str, tuple[str, str]] = {
    "anthropic": ("friday.models.anthropic", "AnthropicModel"),
    "openai": ("friday.models.openai_responses", "OpenAIResponsesModel"),
    "openai-chat": ("friday.models.openai_chat", "OpenAIChatModel"),
}

# The variables each SDK reads by itself when given no key or base URL.
_SDK_KEY_ENV = {
    "anthropic": "ANTHROPIC_API_KEY",
    "openai": "OPENAI_API_KEY",
    "openai-chat": "OPENAI_API_KEY",
}
_SDK_BASE_URL_ENV = {
    "anthropic": "ANTHROPIC_BASE_URL",
    "openai": "OPENAI_BASE_URL",
    "openai-chat": "OPENAI_BASE_URL",
}

# Bare model names outside the catalog that still say their provider.
_BARE_PREFIXES = (
    (re.compile(r"^claude-"), "anthropic"),
    (re.compile(r"^(gpt-|chatgpt-|o\d+(-|$))"), "openai"),
)

_EXAMPLE = "anthropic:claude-sonnet-4-5"
_NO_MODEL = (
    "no model configured: set ANTHROPIC_API_KEY or OPENAI_API_KEY, or pass --model "
    'provider:model, or put model = "provider:model" in {user_file}; for a local server use '
    "--model openai-chat:NAME with OPENAI_BASE_URL set"
)


class ProviderRow(NamedTuple):
    name: str
    kind: str
    base_url: str | None  # None: the SDK default (or its *_BASE_URL variable)
    key_env: str | None  # None: no key needed


def providers(settings: Settings | None = None) -> dict[str, Provider]:
    """Built-ins, then presets, then the configured providers over them."""
    table = {p.name: p for p in (*BUILTIN_PROVIDERS, *PRESETS)}
    for name, cfg in (settings.providers if settings else {}).items():
        if name == "scripted":
            raise ConfigError(
                "[providers.scripted]: 'scripted' is the built-in scripted model and cannot be "
                "redefined; give the provider another name"
            )
        base = table.get(name) or Provider(name, cfg.kind)
        table[name] = replace(
            base,
            kind=cfg.kind,
            base_url=cfg.base_url or base.base_url,
            key_env=cfg.api_key_env or base.key_env,
            headers={**base.headers, **cfg.headers},
        )
    return table


def describe_providers(settings: Settings | None = None) -> list[ProviderRow]:
    """(name, kind, base_url, key env) for every provider, for `--help` and the docs."""
    return [
        ProviderRow(p.name, p.kind, p.base_url, p.key_env) for p in providers(settings).values()
    ]


def split_model_name(spec: str, settings: Settings | None = None) -> tuple[str, str]:
    """`provider:model` -> (provider, model), checking the provider exists. A bare name is
    accepted when the catalog or its prefix names the provider (`sonnet`, `gpt-4o`)."""
    spec = spec.strip()
    known = providers(settings)
    if ":" not in spec:
        return _bare_provider(spec, known), spec
    provider, model = spec.split(":", 1)
    if not provider:
        raise ConfigError(
            f"malformed model '{spec}': the provider is missing; write provider:model, "
            f"e.g. {_EXAMPLE}"
        )
    if provider not in known:
        raise ConfigError(_unknown_provider(provider, spec, known))
    if not model.strip():
        example = "scripted:path/to/script.json" if provider == "scripted" else _EXAMPLE
        raise ConfigError(
            f"malformed model '{spec}': the model is missing after '{provider}:'; e.g. {example}"
        )
    return provider, model.strip()


def _bare_provider(spec: str, known: dict[str, Provider]) -> str:
    if not spec:
        raise ConfigError(f"no model given: write provider:model, e.g. {_EXAMPLE}")
    info = catalog.lookup(spec)
    if info is not None and info.provider in known:
        return info.provider
    for pattern, provider in _BARE_PREFIXES:
        if pattern.match(spec.lower()):
            return provider
    raise ConfigError(
        f"model '{spec}' does not say its provider: write provider:model, e.g. "
        f"openai-chat:{spec} or ollama:{spec}; providers: {', '.join(known)}"
    )


def _unknown_provider(provider: str, spec: str, known: dict[str, Provider]) -> str:
    import difflib

    close = difflib.get_close_matches(provider, list(known), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (
        f"unknown provider '{provider}' in model '{spec}'{hint}; known: {', '.join(known)}; "
        f"or define [providers.{provider}] in .friday/config.toml"
    )


def _catalog_family(provider: Provider) -> str:
    """Which catalog provider's ids and aliases this provider understands."""
    if any(provider.name == p.name for p in PRESETS):
        return provider.name
    return "anthropic" if provider.kind == "anthropic" else "openai"


def _wire_model_id(provider: Provider, model: str) -> str:
    """An alias or catalog id becomes the name the API expects (`sonnet` ->
    `claude-sonnet-4-5`); dated snapshots and unknown ids go to the server as written."""
    info = catalog.lookup(model)
    if info is None or info.provider != _catalog_family(provider):
        return model
    if model.lower() in (name.lower() for name in info.names):
        return info.wire_id
    return model


def _credentials(
    provider: Provider, name: str, env: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """(api_key, base_url) for the adapter. A key kept in the SDK's own variable
    (ANTHROPIC_API_KEY, OPENAI_API_KEY) is passed as None so the SDK reads it, as it reads
    *_BASE_URL; it is still checked here so a missing key fails before any request, naming
    the variable. Servers that need no key get a placeholder the SDK accepts."""
    base_url = provider.base_url
    if provider.key_env is None:
        return PLACEHOLDER_KEY, base_url
    key = env.get(provider.key_env, "").strip()
    sdk_key_env = _SDK_KEY_ENV.get(provider.kind)
    if key:
        return (None if provider.key_env == sdk_key_env else key), base_url
    local_server = base_url or env.get(_SDK_BASE_URL_ENV.get(provider.kind, ""), "").strip()
    if provider.kind == "openai-chat" and provider.key_env == sdk_key_env and local_server:
        return PLACEHOLDER_KEY, base_url
    raise ConfigError(
        f"no API key for {name}: set {provider.key_env}, or pick another model with --model"
    )


def _adapter_class(kind: str) -> Any:
    module_name, class_name = ADAPTERS[kind]
    return getattr(importlib.import_module(module_name), class_name)


def resolve_model(spec: str, settings: Settings, env: Mapping[str, str]) -> Model:
    """The adapter for `spec`, ready to stream. Raises ConfigError saying what to fix."""
    provider_name, model = split_model_name(spec, settings)
    provider = providers(settings)[provider_name]
    if provider.kind == "scripted":
        from friday.models.scripted import ScriptedModel

        try:
            return ScriptedModel.from_file(Path(model).expanduser())
        except ModelError as exc:
            raise ConfigError(str(exc)) from None
    model_id = _wire_model_id(provider, model)
    api_key, base_url = _credentials(provider, f"{provider_name}:{model_id}", env)
    cls = _adapter_class(provider.kind)
    extra: dict[str, Any] = {}
    if provider.kind != "anthropic" and provider.key_env:
        extra["api_key_env"] = provider.key_env  # named in the adapter's 401 message
    return cls(
        model_id,
        api_key=api_key,
        base_url=base_url,
        provider=provider_name,
        default_headers=dict(provider.headers) or None,
        **extra,
    )


def default_model(settings: Settings, env: Mapping[str, str]) -> str:
    """The configured model, else the default of the first provider whose key is set
    (Anthropic, OpenAI, then the presets in order)."""
    if settings.model:
        return settings.model
    table = providers(settings)
    for name in (*(p.name for p in BUILTIN_PROVIDERS), *(p.name for p in PRESETS)):
        provider = table[name]
        if provider.key_env and provider.default_model and env.get(provider.key_env, "").strip():
            return f"{name}:{provider.default_model}"
    raise ConfigError(_NO_MODEL.format(user_file=_user_file_hint(env)))


def _user_file_hint(env: Mapping[str, str]) -> str:
    path = user_config_path(env)
    home = env.get("HOME")
    if path is None:
        return USER_CONFIG_HINT
    if home and path.is_relative_to(home):
        return str(Path("~") / path.relative_to(home))
    return str(path)
