"""Model names to adapters: providers, presets, aliases, keys and the errors that guide."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from friday.config import ConfigError, ProviderConfig, Settings
from friday.models import registry
from friday.models.registry import (
    PLACEHOLDER_KEY,
    default_model,
    describe_providers,
    resolve_model,
    split_model_name,
)
from tests.conftest import REPO


class StandIn:
    """Records what the registry passes to an adapter constructor."""

    def __init__(
        self,
        model_id: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        provider: str = "",
        timeout: float = 600.0,
        default_headers: dict[str, str] | None = None,
        **extra: str,
    ) -> None:
        self.extra = extra
        self.model_id = model_id
        self.api_key = api_key
        self.base_url = base_url
        self.provider = provider
        self.timeout = timeout
        self.default_headers = default_headers
        self.name = f"{provider}:{model_id}"


class FakeAnthropic(StandIn):
    pass


class FakeResponses(StandIn):
    pass


class FakeChat(StandIn):
    pass


class FakeScripted:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def from_file(cls, path: Path) -> FakeScripted:
        return cls(path)


@pytest.fixture
def real_adapters() -> None:
    """Requested by the tests that build the real adapter classes instead of stand-ins."""


@pytest.fixture(autouse=True)
def stand_ins(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Adapter modules replaced by stand-ins, so these tests check the registry alone."""
    if "real_adapters" in request.fixturenames:
        return
    for module_name, attr, cls in [
        ("friday.models.anthropic", "AnthropicModel", FakeAnthropic),
        ("friday.models.openai_responses", "OpenAIResponsesModel", FakeResponses),
        ("friday.models.openai_chat", "OpenAIChatModel", FakeChat),
        ("friday.models.scripted", "ScriptedModel", FakeScripted),
    ]:
        module = types.ModuleType(module_name)
        setattr(module, attr, cls)
        monkeypatch.setitem(sys.modules, module_name, module)


DEEPSEEK = "https://api.deepseek.com"
ANTHROPIC_ENV = {"ANTHROPIC_API_KEY": "test-key"}
OPENAI_ENV = {"OPENAI_API_KEY": "test-key"}


def resolve(spec: str, env: dict[str, str], settings: Settings | None = None) -> Any:
    return resolve_model(spec, settings or Settings(), env)


def got(model: Any) -> tuple[Any, ...]:
    """What the adapter was built with: (class, model_id, provider, base_url, api_key)."""
    return type(model), model.model_id, model.provider, model.base_url, model.api_key


def error_of(spec: str, env: dict[str, str], settings: Settings | None = None) -> str:
    with pytest.raises(ConfigError) as err:
        resolve(spec, env, settings)
    return str(err.value)


# -- the three protocols ----------------------------------------------------------------


def test_anthropic() -> None:
    model = resolve("anthropic:claude-sonnet-4-5", ANTHROPIC_ENV)
    assert type(model) is FakeAnthropic
    assert (model.model_id, model.provider) == ("claude-sonnet-4-5", "anthropic")
    # The SDK reads ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL itself.
    assert (model.api_key, model.base_url, model.default_headers) == (None, None, None)


def test_openai_responses() -> None:
    model = resolve("openai:gpt-5", OPENAI_ENV)
    assert got(model) == (FakeResponses, "gpt-5", "openai", None, None)


def test_openai_chat() -> None:
    model = resolve("openai-chat:gpt-4o", OPENAI_ENV)
    assert got(model) == (FakeChat, "gpt-4o", "openai-chat", None, None)


def test_openai_chat_local_server_without_key() -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1"}
    model = resolve("openai-chat:qwen2.5-coder", env)
    assert type(model) is FakeChat
    assert model.api_key == PLACEHOLDER_KEY == "not-needed"
    assert model.base_url is None  # the SDK reads OPENAI_BASE_URL
    assert model.model_id == "qwen2.5-coder"


def test_openai_responses_needs_a_key_even_with_base_url() -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1"}
    assert error_of("openai:gpt-5", env) == (
        "no API key for openai:gpt-5: set OPENAI_API_KEY, or pick another model with --model"
    )


def test_scripted(tmp_path: Path) -> None:
    script = tmp_path / "demo:script.json"
    model = resolve(f"scripted:{script}", {})
    assert type(model) is FakeScripted
    assert model.path == script


def test_unknown_model_ids_go_to_the_server() -> None:
    model = resolve("anthropic:claude-opus-9", ANTHROPIC_ENV)
    assert model.model_id == "claude-opus-9"
    assert resolve("openai:gpt-4o-2024-08-06", OPENAI_ENV).model_id == "gpt-4o-2024-08-06"


# -- aliases and bare names -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "cls", "provider", "model_id"),
    [
        ("sonnet", FakeAnthropic, "anthropic", "claude-sonnet-4-5"),
        ("opus", FakeAnthropic, "anthropic", "claude-opus-4-5"),
        ("haiku", FakeAnthropic, "anthropic", "claude-haiku-4-5"),
        ("anthropic:sonnet", FakeAnthropic, "anthropic", "claude-sonnet-4-5"),
        ("claude-sonnet-4", FakeAnthropic, "anthropic", "claude-sonnet-4-0"),
        ("claude-3-5-haiku", FakeAnthropic, "anthropic", "claude-3-5-haiku-latest"),
        ("claude-haiku-4-5-20251001", FakeAnthropic, "anthropic", "claude-haiku-4-5-20251001"),
        ("claude-opus-9", FakeAnthropic, "anthropic", "claude-opus-9"),
        ("gpt-5", FakeResponses, "openai", "gpt-5"),
        ("gpt-4o-mini", FakeResponses, "openai", "gpt-4o-mini"),
        ("o3", FakeResponses, "openai", "o3"),
        ("o4-mini", FakeResponses, "openai", "o4-mini"),
        ("gpt-6", FakeResponses, "openai", "gpt-6"),
    ],
)
def test_bare_names(spec: str, cls: type, provider: str, model_id: str) -> None:
    model = resolve(spec, {**ANTHROPIC_ENV, **OPENAI_ENV})
    assert type(model) is cls
    assert (model.provider, model.model_id) == (provider, model_id)


def test_bare_catalog_name_of_a_preset() -> None:
    model = resolve("deepseek-chat", {"DEEPSEEK_API_KEY": "test-key"})
    assert got(model) == (FakeChat, "deepseek-chat", "deepseek", DEEPSEEK, "test-key")


def test_alias_is_not_mapped_for_another_provider() -> None:
    model = resolve("openrouter:sonnet", {"OPENROUTER_API_KEY": "test-key"})
    assert model.model_id == "sonnet"


def test_bare_name_without_a_provider() -> None:
    message = error_of("llama3", {})
    assert message.startswith(
        "model 'llama3' does not say its provider: write provider:model, e.g. "
        "openai-chat:llama3 or ollama:llama3; providers: anthropic, openai, openai-chat,"
    )


def test_split_model_name_keeps_colons_in_the_model() -> None:
    assert split_model_name("ollama:qwen2.5-coder:7b") == ("ollama", "qwen2.5-coder:7b")
    assert split_model_name(" sonnet ") == ("anthropic", "sonnet")


# -- presets and configured providers ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "base_url", "key_env"),
    [
        ("deepseek", "https://api.deepseek.com", "DEEPSEEK_API_KEY"),
        ("openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
        ("moonshot", "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY"),
        ("qwen", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY"),
        ("groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    ],
)
def test_keyed_presets(name: str, base_url: str, key_env: str) -> None:
    model = resolve(f"{name}:some-model", {key_env: "sk-preset"})
    assert got(model) == (FakeChat, "some-model", name, base_url, "sk-preset")
    assert model.extra == {"api_key_env": key_env}  # the adapter's 401 message names it
    assert error_of(f"{name}:some-model", {"OPENAI_API_KEY": "x"}) == (
        f"no API key for {name}:some-model: set {key_env}, or pick another model with --model"
    )


@pytest.mark.parametrize(
    ("name", "base_url"),
    [("ollama", "http://localhost:11434/v1"), ("vllm", "http://localhost:8000/v1")],
)
def test_keyless_presets(name: str, base_url: str) -> None:
    model = resolve(f"{name}:qwen2.5-coder:7b", {})
    assert got(model) == (FakeChat, "qwen2.5-coder:7b", name, base_url, PLACEHOLDER_KEY)


def test_configured_provider() -> None:
    settings = Settings(
        providers={
            "work": ProviderConfig(
                name="work",
                kind="anthropic",
                base_url="https://gateway.example/anthropic",
                api_key_env="WORK_KEY",
                headers={"X-Team": "core"},
            ),
            "local": ProviderConfig(
                name="local", kind="openai-chat", base_url="http://127.0.0.1:1234/v1"
            ),
            "azure": ProviderConfig(
                name="azure", kind="openai", base_url="https://az.example/openai/v1",
                api_key_env="OPENAI_API_KEY",
            ),
        }
    )  # fmt: skip
    work = resolve("work:claude-sonnet-4", {"WORK_KEY": "sk-work"}, settings)
    gateway = "https://gateway.example/anthropic"
    assert got(work) == (FakeAnthropic, "claude-sonnet-4-0", "work", gateway, "sk-work")
    assert work.default_headers == {"X-Team": "core"}
    local = resolve("local:my-model", {}, settings)
    local_url = "http://127.0.0.1:1234/v1"
    assert got(local) == (FakeChat, "my-model", "local", local_url, PLACEHOLDER_KEY)
    azure = resolve("azure:gpt-5", OPENAI_ENV, settings)
    assert type(azure) is FakeResponses
    assert (azure.base_url, azure.api_key) == ("https://az.example/openai/v1", None)
    assert error_of("work:x", {"ANTHROPIC_API_KEY": "k"}, settings) == (
        "no API key for work:x: set WORK_KEY, or pick another model with --model"
    )


def test_configured_provider_overrides_preset_field_by_field() -> None:
    settings = Settings(
        providers={
            "deepseek": ProviderConfig(
                name="deepseek", kind="openai-chat", base_url="https://proxy.example/v1"
            ),
            "anthropic": ProviderConfig(
                name="anthropic", kind="anthropic", headers={"X-Proxy": "1"}
            ),
        }
    )
    model = resolve("deepseek:deepseek-chat", {"DEEPSEEK_API_KEY": "sk-d"}, settings)
    assert (model.base_url, model.api_key) == ("https://proxy.example/v1", "sk-d")
    claude = resolve("sonnet", ANTHROPIC_ENV, settings)
    assert got(claude) == (FakeAnthropic, "claude-sonnet-4-5", "anthropic", None, None)
    assert claude.default_headers == {"X-Proxy": "1"}


def test_scripted_cannot_be_redefined() -> None:
    settings = Settings(providers={"scripted": ProviderConfig(name="scripted", kind="openai")})
    assert "cannot be redefined" in error_of("scripted:x.json", {}, settings)


# -- errors -----------------------------------------------------------------------------


def test_missing_key() -> None:
    assert error_of("anthropic:claude-sonnet-4-5", OPENAI_ENV) == (
        "no API key for anthropic:claude-sonnet-4-5: set ANTHROPIC_API_KEY, "
        "or pick another model with --model"
    )
    assert error_of("sonnet", {"ANTHROPIC_API_KEY": "  "}).startswith(
        "no API key for anthropic:claude-sonnet-4-5: set ANTHROPIC_API_KEY"
    )
    assert error_of("openai-chat:gpt-4o", {}) == (
        "no API key for openai-chat:gpt-4o: set OPENAI_API_KEY, or pick another model with --model"
    )


def test_unknown_provider_suggests() -> None:
    message = error_of("antropic:x", ANTHROPIC_ENV)
    assert message == (
        "unknown provider 'antropic' in model 'antropic:x' (did you mean 'anthropic'?); "
        "known: anthropic, openai, openai-chat, scripted, deepseek, openrouter, moonshot, qwen, "
        "groq, ollama, vllm; or define [providers.antropic] in .friday/config.toml"
    )
    assert "\n" not in message


def test_unknown_provider_lists_configured_ones() -> None:
    settings = Settings(providers={"lmstudio": ProviderConfig(name="lmstudio", kind="openai-chat")})
    message = error_of("lmstdio:x", {}, settings)
    assert "(did you mean 'lmstudio'?)" in message
    assert ", vllm, lmstudio;" in message


def test_unknown_provider_without_close_match() -> None:
    message = error_of("zzz:x", {})
    assert message.startswith("unknown provider 'zzz' in model 'zzz:x'; known: anthropic,")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (":x", "malformed model ':x': the provider is missing; write provider:model, "
               "e.g. anthropic:claude-sonnet-4-5"),
        ("anthropic:", "malformed model 'anthropic:': the model is missing after 'anthropic:'; "
                       "e.g. anthropic:claude-sonnet-4-5"),
        ("scripted:", "malformed model 'scripted:': the model is missing after 'scripted:'; "
                      "e.g. scripted:path/to/script.json"),
        ("", "no model given: write provider:model, e.g. anthropic:claude-sonnet-4-5"),
    ],
)  # fmt: skip
def test_malformed(spec: str, message: str) -> None:
    assert error_of(spec, ANTHROPIC_ENV) == message


# -- default model ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GROQ_API_KEY"], "anthropic:claude-sonnet-4-5"),
        (["OPENAI_API_KEY", "DEEPSEEK_API_KEY"], "openai:gpt-5"),
        (["DEEPSEEK_API_KEY", "OPENROUTER_API_KEY"], "deepseek:deepseek-chat"),
        (["OPENROUTER_API_KEY", "GROQ_API_KEY"], "openrouter:anthropic/claude-sonnet-4.5"),
        (["MOONSHOT_API_KEY", "GROQ_API_KEY"], "moonshot:kimi-k2-0905-preview"),
        (["DASHSCOPE_API_KEY"], "qwen:qwen3-coder-plus"),
        (["GROQ_API_KEY"], "groq:openai/gpt-oss-120b"),
    ],
)  # fmt: skip
def test_default_model_order(keys: list[str], expected: str) -> None:
    env = {key: "test-key" for key in keys}
    assert default_model(Settings(), env) == expected
    # The default it picks must itself resolve with the same environment.
    model = resolve_model(expected, Settings(), env)
    assert model.provider == expected.split(":")[0]


def test_configured_model_wins() -> None:
    settings = Settings(model="ollama:llama3.1")
    assert default_model(settings, {"ANTHROPIC_API_KEY": "test-key"}) == "ollama:llama3.1"


def test_no_key_message() -> None:
    with pytest.raises(ConfigError) as err:
        default_model(Settings(), {"HOME": "/home/u", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"})
    message = str(err.value)
    assert message == (
        "no model configured: set ANTHROPIC_API_KEY or OPENAI_API_KEY, or pass --model "
        'provider:model, or put model = "provider:model" in ~/.config/friday/config.toml; '
        "for a local server use --model openai-chat:NAME with OPENAI_BASE_URL set"
    )
    with pytest.raises(ConfigError) as err:
        default_model(Settings(), {"HOME": "/home/u", "XDG_CONFIG_HOME": "/etc/xdg"})
    assert "/etc/xdg/friday/config.toml" in str(err.value)


# -- describing providers ---------------------------------------------------------------


def test_describe_providers() -> None:
    rows = describe_providers()
    assert [row.name for row in rows] == [
        "anthropic", "openai", "openai-chat", "scripted", "deepseek", "openrouter", "moonshot",
        "qwen", "groq", "ollama", "vllm",
    ]  # fmt: skip
    by_name = {row.name: tuple(row) for row in rows}
    assert by_name["anthropic"] == ("anthropic", "anthropic", None, "ANTHROPIC_API_KEY")
    assert by_name["openai"] == ("openai", "openai", None, "OPENAI_API_KEY")
    assert by_name["ollama"] == ("ollama", "openai-chat", "http://localhost:11434/v1", None)
    assert by_name["qwen"] == (
        "qwen",
        "openai-chat",
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        "DASHSCOPE_API_KEY",
    )
    settings = Settings(
        providers={"mine": ProviderConfig("mine", "anthropic", "https://m.example", "MINE")}
    )
    assert describe_providers(settings)[-1] == ("mine", "anthropic", "https://m.example", "MINE")


def test_adapter_table_names_the_real_modules() -> None:
    assert registry.ADAPTERS == {
        "anthropic": ("friday.models.anthropic", "AnthropicModel"),
        "openai": ("friday.models.openai_responses", "OpenAIResponsesModel"),
        "openai-chat": ("friday.models.openai_chat", "OpenAIChatModel"),
    }


# -- the real adapters -----------------------------------------------------------------


@pytest.mark.usefixtures("real_adapters")
def test_real_adapters_accept_what_the_registry_passes(tmp_path: Path) -> None:
    from friday.models.anthropic import AnthropicModel
    from friday.models.openai_chat import OpenAIChatModel
    from friday.models.openai_responses import OpenAIResponsesModel
    from friday.models.scripted import ScriptedModel

    env = {"ANTHROPIC_API_KEY": "test-key", "OPENAI_API_KEY": "test-key"}
    cases = [
        ("sonnet", AnthropicModel, "anthropic:claude-sonnet-4-5"),
        ("openai:gpt-5", OpenAIResponsesModel, "openai:gpt-5"),
        ("openai-chat:gpt-4o", OpenAIChatModel, "openai-chat:gpt-4o"),
        ("ollama:qwen2.5-coder:7b", OpenAIChatModel, "ollama:qwen2.5-coder:7b"),
    ]
    for spec, cls, name in cases:
        model = resolve_model(spec, Settings(), env)
        assert type(model) is cls
        assert model.name == name
        assert model.provider == name.split(":")[0]
    ollama = resolve_model("ollama:llama3", Settings(), {})
    assert (ollama.base_url, ollama.api_key) == ("http://localhost:11434/v1", PLACEHOLDER_KEY)

    script = tmp_path / "script.json"
    script.write_text('[{"text": "hello"}]', encoding="utf-8")
    scripted = resolve_model(f"scripted:{script}", Settings(), {})
    assert type(scripted) is ScriptedModel
    assert scripted.turns == [{"text": "hello"}]


@pytest.mark.usefixtures("real_adapters")
def test_missing_script_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read script .*nope.json"):
        resolve_model(f"scripted:{tmp_path / 'nope.json'}", Settings(), {})


# -- import cost ------------------------------------------------------------------------


def test_importing_config_and_registry_loads_no_sdk() -> None:
    code = (
        "import sys, friday.config, friday.models.registry, friday.models.catalog\n"
        "heavy = [m for m in ('anthropic', 'openai', 'httpx', 'httpx2', 'friday.models.anthropic',"
        " 'friday.models.openai_chat', 'friday.models.openai_responses') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
