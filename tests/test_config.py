"""Settings layers, merging and the one-line errors of friday.config."""

from __future__ import annotations

from pathlib import Path

import pytest

from friday.config import (
    SCHEMA,
    ConfigError,
    ProviderConfig,
    RetryConfig,
    Settings,
    UiConfig,
    load_settings,
    project_config_path,
    user_config_path,
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    (path / ".git").mkdir(parents=True)
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def user_file(home: Path, text: str) -> Path:
    return write(home / ".config" / "friday" / "config.toml", text)


def project_file(folder: Path, text: str) -> Path:
    return write(folder / ".friday" / "config.toml", text)


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), **extra}


# -- defaults and layers -----------------------------------------------------------------


def test_defaults_without_files(home: Path, repo: Path) -> None:
    settings = load_settings(repo, env_for(home))
    assert settings == Settings()
    assert settings.max_tokens == 16000
    assert settings.retry == RetryConfig(max_attempts=4, base_delay=1.0, max_delay=30.0)
    assert settings.permission_mode is None  # the preset decides
    assert settings.permission_policy == "default"
    assert settings.sources == ()


def test_user_file_is_read_from_home(home: Path, repo: Path) -> None:
    path = user_file(home, 'model = "openai:gpt-5"\nmax_turns = 7\n')
    settings = load_settings(repo, env_for(home))
    assert settings.model == "openai:gpt-5"
    assert settings.max_turns == 7
    assert settings.sources == (str(path),)


def test_xdg_config_home_wins_over_home(home: Path, repo: Path, tmp_path: Path) -> None:
    user_file(home, 'model = "from-home:x"\n')
    xdg = tmp_path / "xdg"
    write(xdg / "friday" / "config.toml", 'model = "from-xdg:x"\n')
    settings = load_settings(repo, env_for(home, XDG_CONFIG_HOME=str(xdg)))
    assert settings.model == "from-xdg:x"
    assert user_config_path({"XDG_CONFIG_HOME": str(xdg)}) == xdg / "friday" / "config.toml"
    assert user_config_path({"HOME": "/h"}) == Path("/h/.config/friday/config.toml")
    assert user_config_path({}) is None


def test_precedence_user_project_env_flags(home: Path, repo: Path) -> None:
    user = user_file(
        home,
        'model = "anthropic:claude-opus-4-1"\nmax_turns = 1\nmax_budget_usd = 1.0\n'
        "max_tokens = 1000\nthinking_budget = 2000\n",
    )
    project = project_file(
        repo, 'model = "openai:gpt-5"\nmax_turns = 2\nmax_budget_usd = 2.0\nmax_tokens = 2000\n'
    )
    env = env_for(
        home, FRIDAY_MAX_TURNS="3", FRIDAY_MAX_BUDGET_USD="3.5", FRIDAY_MODEL="deepseek:x"
    )
    flags = {"max_turns": 4, "model": None, "append_system_prompt": "be brief"}
    settings = load_settings(repo, env, flags)
    assert settings.max_turns == 4  # flag over env
    assert settings.model == "deepseek:x"  # env over project (the None flag is ignored)
    assert settings.max_budget_usd == 3.5  # env over project
    assert settings.max_tokens == 2000  # project over user
    assert settings.thinking_budget == 2000  # user over defaults
    assert settings.append_system_prompt == "be brief"
    assert settings.sources == (str(user), str(project))


def test_fallback_models_from_file_env_and_flags(home: Path, repo: Path) -> None:
    project_file(repo, 'fallback_models = ["openai:gpt-5", "deepseek:deepseek-chat"]\n')
    settings = load_settings(repo, env_for(home))
    assert settings.fallback_models == ("openai:gpt-5", "deepseek:deepseek-chat")
    env = env_for(home, FRIDAY_FALLBACK_MODEL=" openai:gpt-5-mini , ,anthropic:haiku")
    assert load_settings(repo, env).fallback_models == ("openai:gpt-5-mini", "anthropic:haiku")
    flags = {"fallback_models": ["openai:o3"]}
    assert load_settings(repo, env, flags).fallback_models == ("openai:o3",)


def test_empty_env_values_are_unset(home: Path, repo: Path) -> None:
    project_file(repo, 'model = "openai:gpt-5"\nmax_turns = 9\n')
    settings = load_settings(repo, env_for(home, FRIDAY_MODEL="", FRIDAY_MAX_TURNS="  "))
    assert settings.model == "openai:gpt-5"
    assert settings.max_turns == 9


def test_thinking_budget_zero_turns_it_off(home: Path, repo: Path) -> None:
    user_file(home, "thinking_budget = 4096\n")
    assert load_settings(repo, env_for(home)).thinking_budget == 4096
    project_file(repo, "thinking_budget = 0\n")
    assert load_settings(repo, env_for(home)).thinking_budget is None


# -- finding the project file -----------------------------------------------------------


def test_nearest_project_file_wins(repo: Path, home: Path) -> None:
    project_file(repo, 'model = "outer:x"\n')
    inner = repo / "pkg"
    nearest = project_file(inner, 'model = "inner:x"\n')
    deep = inner / "src" / "deeper"
    deep.mkdir(parents=True)
    assert project_config_path(deep) == nearest
    assert load_settings(deep, env_for(home)).model == "inner:x"
    assert load_settings(repo, env_for(home)).model == "outer:x"


def test_project_search_stops_at_git_root(tmp_path: Path, home: Path) -> None:
    project_file(tmp_path, 'model = "above-the-repo:x"\n')
    repo = tmp_path / "work" / "repo"
    (repo / ".git").mkdir(parents=True)
    sub = repo / "sub"
    sub.mkdir()
    assert project_config_path(sub) is None
    assert load_settings(sub, env_for(home)).model is None
    # Outside a repository the search goes on up to the filesystem root.
    loose = tmp_path / "loose" / "dir"
    loose.mkdir(parents=True)
    assert project_config_path(loose) == tmp_path / ".friday" / "config.toml"


def test_git_file_marks_a_root_too(tmp_path: Path) -> None:
    project_file(tmp_path, 'model = "outside:x"\n')
    worktree = tmp_path / "wt"
    write(worktree / ".git", "gitdir: /elsewhere\n")
    assert project_config_path(worktree) is None


# -- tables -----------------------------------------------------------------------------


def test_tables_merge_key_by_key(home: Path, repo: Path) -> None:
    user_file(
        home,
        "[retry]\nmax_attempts = 6\nbase_delay = 2\n"
        '[providers.local]\nkind = "openai-chat"\nbase_url = "http://127.0.0.1:9000/v1"\n'
        'api_key_env = "LOCAL_KEY"\nheaders = { "X-A" = "1", "X-B" = "2" }\n'
        '[providers.work]\nkind = "anthropic"\nbase_url = "https://gw.example/v1"\n',
    )
    project_file(repo, "[retry]\nmax_delay = 5.5\n")
    settings = load_settings(repo, env_for(home))
    assert settings.retry == RetryConfig(max_attempts=6, base_delay=2.0, max_delay=5.5)
    assert settings.providers["local"] == ProviderConfig(
        name="local",
        kind="openai-chat",
        base_url="http://127.0.0.1:9000/v1",
        api_key_env="LOCAL_KEY",
        headers={"X-A": "1", "X-B": "2"},
    )
    assert settings.providers["work"] == ProviderConfig(
        name="work", kind="anthropic", base_url="https://gw.example/v1"
    )


def test_provider_kind_defaults(home: Path, repo: Path) -> None:
    user_file(
        home,
        '[providers.anthropic]\nbase_url = "https://proxy.example"\n'
        '[providers.lmstudio]\nbase_url = "http://127.0.0.1:1234/v1"\n',
    )
    providers = load_settings(repo, env_for(home)).providers
    assert providers["anthropic"].kind == "anthropic"
    assert providers["lmstudio"].kind == "openai-chat"


def test_schema_is_one_table() -> None:
    assert {"model", "retry", "providers", "permission_mode"} <= set(SCHEMA)
    top_level_fields = set(Settings.__dataclass_fields__) - {"sources"}
    assert set(SCHEMA) == top_level_fields


# -- errors -----------------------------------------------------------------------------


def test_syntax_error_names_file_and_line(home: Path, repo: Path) -> None:
    path = user_file(home, 'model = "a:b"\n\nmax_turns 3\n')
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home))
    assert str(err.value) == (
        f"{path}:3: invalid TOML: Expected '=' after a key in a key/value pair"
    )


def test_syntax_error_at_end_of_file(home: Path, repo: Path) -> None:
    project_file(repo, 'model = "a:b"\nfallback_models = [\n')
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home))
    message = str(err.value)
    assert message.startswith(".friday/config.toml:2: invalid TOML: ")
    assert "\n" not in message


def test_unknown_top_level_key_suggests(home: Path, repo: Path) -> None:
    project_file(repo, 'modle = "anthropic:claude-sonnet-4-5"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home))
    assert str(err.value) == ".friday/config.toml: unknown key 'modle' (did you mean 'model'?)"


@pytest.mark.parametrize(
    "table",
    [
        '[providers.anthropic]\nbase_url = "http://127.0.0.1:9/"',
        '[providers.mine]\nbase_url = "http://evil.example/v1"\napi_key_env = "GITHUB_TOKEN"',
        '[providers.openai-chat]\napi_key_env = "AWS_SECRET_ACCESS_KEY"',
    ],
)
def test_a_project_file_cannot_redirect_credentials(home: Path, repo: Path, table: str) -> None:
    """A cloned repository must not be able to send the user's keys to its own server."""
    project_file(repo, 'model = "mine:x"\n' + table + "\n")
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home))
    assert "[providers] may only be set in your user config" in str(err.value)
    assert str(err.value).startswith(".friday/config.toml: ")


@pytest.mark.parametrize("line", ['permission_mode = "bypass"', 'permission_policy = "trusted"'])
def test_a_project_file_cannot_loosen_its_own_permissions(
    home: Path, repo: Path, line: str
) -> None:
    project_file(repo, line + "\n")
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home))
    key = line.split()[0]
    assert f"{key} may only be set in your user config" in str(err.value)


def test_permission_settings_from_user_file_env_and_flags(home: Path, repo: Path) -> None:
    user_file(home, 'permission_mode = "plan"\npermission_policy = "strict"\n')
    assert load_settings(repo, env_for(home)).permission_mode == "plan"
    env = env_for(home, FRIDAY_PERMISSION_MODE="accept-edits")
    assert load_settings(repo, env).permission_mode == "accept-edits"
    flags = {"permission_mode": "bypass", "permission_policy": "trusted"}
    got = load_settings(repo, env, flags)
    assert (got.permission_mode, got.permission_policy) == ("bypass", "trusted")


def test_an_unknown_permission_mode_is_refused(home: Path, repo: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home, FRIDAY_PERMISSION_MODE="yolo"))
    assert "FRIDAY_PERMISSION_MODE must be one of default, accept-edits, plan, bypass" in str(
        err.value
    )


def test_unknown_nested_key_suggests(home: Path, repo: Path) -> None:
    project_file(repo, '[providers.local]\nbase_ur = "http://127.0.0.1:8000/v1"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home))
    assert str(err.value) == (
        ".friday/config.toml: unknown key 'providers.local.base_ur' "
        "(did you mean 'providers.local.base_url'?)"
    )
    project_file(repo, "[retry]\nmax_attempt = 3\n")
    with pytest.raises(
        ConfigError, match=r"'retry\.max_attempt' \(did you mean 'retry\.max_attempts'"
    ):
        load_settings(repo, env_for(home))


def test_unknown_key_without_close_match_lists_valid_ones(home: Path, repo: Path) -> None:
    project_file(repo, "[retry]\nzzz = 1\n")
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home))
    assert str(err.value) == (
        ".friday/config.toml: unknown key 'retry.zzz'; valid keys: retry.max_attempts, "
        "retry.base_delay, retry.max_delay"
    )


def test_unknown_table_suggests(home: Path, repo: Path) -> None:
    project_file(repo, '[provider.local]\nkind = "openai-chat"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'provider' \(did you mean 'providers'\?\)"):
        load_settings(repo, env_for(home))


def test_user_file_errors_name_the_absolute_path(home: Path, repo: Path) -> None:
    path = user_file(home, "max_tokens = -5\n")
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home))
    assert str(err.value) == f"{path}: max_tokens must be a positive integer, got -5"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('max_turns = "ten"', 'max_turns must be a positive integer, got "ten"'),
        ("max_turns = 0", "max_turns must be a positive integer, got 0"),
        ("max_turns = true", "max_turns must be a positive integer, got true"),
        ("max_turns = 2.5", "max_turns must be a positive integer, got 2.5"),
        ("max_budget_usd = -1", "max_budget_usd must be a positive number, got -1"),
        ("model = 3", "model must be a non-empty string, got 3"),
        ('model = ""', 'model must be a non-empty string, got ""'),
        ('fallback_models = "openai:gpt-5"', 'fallback_models must be a list of model names, got "openai:gpt-5"'),  # noqa: E501
        ("thinking_budget = -1", "thinking_budget must be a non-negative integer (0 turns thinking off), got -1"),  # noqa: E501
        ("append_system_prompt = [1]", "append_system_prompt must be a string, got [1]"),
        ('retry = "often"', 'retry must be a table, got "often"'),
        ("[retry]\nbase_delay = -1", "retry.base_delay must be a non-negative number, got -1"),
        ('providers = { x = "y" }', 'providers.x must be a table, got "y"'),
        ('[providers.x]\nkind = "gemini"', 'providers.x.kind must be one of anthropic, openai, openai-chat, got "gemini"'),  # noqa: E501
        ('[providers.x]\nbase_url = "localhost:8000"', 'providers.x.base_url must be an http:// or https:// URL, got "localhost:8000"'),  # noqa: E501
        ('[providers.x]\napi_key_env = "MY KEY"', 'providers.x.api_key_env must be an environment variable name, got "MY KEY"'),  # noqa: E501
        ("[providers.x]\nheaders = { a = 1 }", 'providers.x.headers must be a table of strings, got a table'),  # noqa: E501
    ],
)  # fmt: skip
def test_type_errors(home: Path, repo: Path, toml: str, message: str) -> None:
    project_file(repo, toml + "\n")
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home))
    assert str(err.value) == f".friday/config.toml: {message}"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FRIDAY_MAX_TURNS", "ten", 'FRIDAY_MAX_TURNS must be a positive integer, got "ten"'),
        ("FRIDAY_MAX_TURNS", "-2", 'FRIDAY_MAX_TURNS must be a positive integer, got "-2"'),
        ("FRIDAY_MAX_BUDGET_USD", "5$", 'FRIDAY_MAX_BUDGET_USD must be a positive number, got "5$"'),  # noqa: E501
        ("FRIDAY_MAX_BUDGET_USD", "nan", 'FRIDAY_MAX_BUDGET_USD must be a positive number, got "nan"'),  # noqa: E501
    ],
)  # fmt: skip
def test_env_errors_name_the_variable(
    home: Path, repo: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home, **{name: value}))
    assert str(err.value) == message


def test_env_numbers_parse(home: Path, repo: Path) -> None:
    settings = load_settings(
        repo, env_for(home, FRIDAY_MAX_TURNS=" 12 ", FRIDAY_MAX_BUDGET_USD="0.25")
    )
    assert settings.max_turns == 12
    assert settings.max_budget_usd == 0.25


def test_flag_errors(home: Path, repo: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home), {"max_turns": -1})
    assert str(err.value) == "--max-turns must be a positive integer, got -1"
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home), {"max_turn": 3})
    assert str(err.value) == "unknown setting 'max_turn' (did you mean 'max_turns'?)"


def test_not_utf8(home: Path, repo: Path) -> None:
    path = project_file(repo, "")
    path.write_bytes(b'model = "\xff"\n')
    with pytest.raises(ConfigError, match=r"^\.friday/config\.toml: not UTF-8 text$"):
        load_settings(repo, env_for(home))


def test_project_file_above_cwd_is_shown_absolute(home: Path, repo: Path) -> None:
    path = project_file(repo, "max_turns = 0\n")
    sub = repo / "sub"
    sub.mkdir()
    with pytest.raises(ConfigError) as err:
        load_settings(sub, env_for(home))
    assert str(err.value) == f"{path}: max_turns must be a positive integer, got 0"


def test_dedupe_reads_from_file_and_env(home: Path, repo: Path) -> None:
    assert load_settings(repo, env_for(home)).dedupe_reads is True
    project_file(repo, "dedupe_reads = false\n")
    assert load_settings(repo, env_for(home)).dedupe_reads is False
    env = {**env_for(home), "FRIDAY_DEDUPE_READS": "yes"}
    assert load_settings(repo, env).dedupe_reads is True
    project_file(repo, 'dedupe_reads = "no"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(repo, env_for(home))
    assert str(err.value) == '.friday/config.toml: dedupe_reads must be true or false, got "no"'


def test_ui_table_from_file_and_env(home: Path, repo: Path) -> None:
    project_file(repo, "[ui]\ntranscript_on_exit = false\n")
    settings = load_settings(repo, env_for(home, FRIDAY_PLAIN="1"))
    assert settings.ui == UiConfig(plain=True, transcript_on_exit=False)
    assert load_settings(repo, env_for(home)).ui.plain is False
    project_file(repo, '[ui]\nplain = "yes"\n')
    with pytest.raises(ConfigError, match=r"ui\.plain must be"):
        load_settings(repo, env_for(home))
