"""Assembling an agent from settings: the model chain, the tools, the system prompt and
the price list. Front ends (the -p runner, the TUI) call `build_agent` and then only
talk to the agent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from friday.agent import Agent, AgentConfig
from friday.config import Settings
from friday.messages import Msg
from friday.middleware import Middleware
from friday.models.retry import RetryingModel, RetryPolicy
from friday.tools.base import ToolRegistry


def default_tools(shell: Any = None) -> ToolRegistry:
    """The tools the agent gets by default; `bash` when a shell session is given."""
    from friday.tools.files import FILE_TOOLS
    from friday.tools.search import SEARCH_TOOLS

    tools = [*FILE_TOOLS, *SEARCH_TOOLS]
    if shell is not None:
        from friday.tools.shell import make_shell_tool

        tools.append(make_shell_tool(shell))
    return ToolRegistry(tools)


def price(message: Msg) -> float | None:
    """The cost of one response in USD, or None when the model's price is unknown."""
    from friday.models.catalog import cost_usd, lookup

    if message.usage is None or message.model is None:
        return None
    info = lookup(message.model)
    return cost_usd(info, message.usage) if info is not None else None


def build_agent(
    settings: Settings,
    cwd: Path,
    env: Mapping[str, str],
    *,
    model: str | None = None,
    fallbacks: Sequence[str] = (),
    tools: ToolRegistry | None = None,
    middleware: Sequence[Middleware] = (),
    approver: Any = None,
    allow: Sequence[str] = (),
    deny: Sequence[str] = (),
) -> Agent:
    """Raises `ConfigError` (one line, says what to do) when a model or the permission
    policy cannot be set up. `approver` answers permission questions (the front end's);
    None: no one can answer, so every question is a refusal."""
    from friday.models.registry import default_model, resolve_model
    from friday.prompt import build_system_prompt

    spec = model or default_model(settings, env)
    chain = [spec] + [f for f in (*fallbacks, *settings.fallback_models) if f != spec]
    models = [resolve_model(s, settings, env) for s in dict.fromkeys(chain)]
    retry = settings.retry
    policy = RetryPolicy(retry.max_attempts, retry.base_delay, retry.max_delay)
    thinking = {"budget_tokens": settings.thinking_budget} if settings.thinking_budget else None
    config = AgentConfig(
        system_prompt=build_system_prompt(cwd, append=settings.append_system_prompt),
        cwd=cwd,
        max_turns=settings.max_turns,
        max_budget_usd=settings.max_budget_usd,
        max_tokens=settings.max_tokens,
        thinking=thinking,
    )
    from friday.tools.files import FileState
    from friday.tools.shell import ShellSession, default_output_dir

    shell = ShellSession(cwd, default_output_dir(env, config.session_id))
    registry = tools if tools is not None else default_tools(shell)
    gate = permission_gate(settings, cwd, env, registry, shell, approver, allow, deny)
    config.permission_mode = gate.policy.mode
    file_state = FileState(dedupe_reads=settings.dedupe_reads)
    context = context_manager(
        settings,
        cwd,
        [m.model_id for m in models],
        shell.output_dir,
        file_state,
    )
    return Agent(
        RetryingModel(models, policy),
        registry,
        config,
        middleware=[gate, *middleware],
        cost=price,
        file_state=file_state,
        context=context,
    )


def context_manager(
    settings: Settings,
    cwd: Path,
    model_ids: Sequence[str],
    output_dir: Path,
    file_state: Any,
) -> Any:
    """The context manager for a model chain: its window is the smallest input room
    among the chain's known models (a fallback must fit too), unless the config sets one;
    with none known it stays unknown and the manager assumes a small default."""
    from friday.context.manager import ContextManager, ContextSettings
    from friday.context.offload import OutputStore
    from friday.models.catalog import lookup
    from friday.prompt import build_system_prompt

    window = settings.context.window
    if window is None:
        # The output shares the window unless the model states a separate input cap.
        known = [
            info.max_input_tokens or max(info.context_window - settings.max_tokens, 1_000)
            for m in model_ids
            if (info := lookup(m)) is not None
        ]
        window = min(known) if known else None
    return ContextManager(
        ContextSettings(
            window=window,
            compact_at=settings.context.compact_at,
            mask_at=settings.context.mask_at,
            result_max_tokens=settings.context.tool_result_max_tokens,
        ),
        store=OutputStore(output_dir),
        file_state=file_state,
        system_prompt=lambda: build_system_prompt(cwd, append=settings.append_system_prompt),
        cwd=cwd,
    )


def permission_gate(
    settings: Settings,
    cwd: Path,
    env: Mapping[str, str],
    tools: ToolRegistry,
    shell: Any,
    approver: Any,
    allow: Sequence[str] = (),
    deny: Sequence[str] = (),
) -> Any:
    """The gate every tool call passes, with the policy from the preset, the user's and
    the project's policy files and the flags. A bad policy file is a `ConfigError`."""
    from friday.config import ConfigError
    from friday.permissions.gate import NoApprover, PermissionGate
    from friday.permissions.policy import load_policy
    from friday.permissions.presets import split_policy_choice
    from friday.permissions.rules import PolicyError
    from friday.permissions.trust import TrustStore

    preset, policy_file = split_policy_choice(settings.permission_policy, cwd)
    try:
        policy = load_policy(
            cwd,
            env,
            preset=preset,
            mode=settings.permission_mode,
            allow=allow,
            deny=deny,
            policy_file=policy_file,
            trust=TrustStore.from_env(env),
        )
    except PolicyError as exc:
        raise ConfigError(str(exc)) from None

    def writes(name: str) -> bool:
        tool = tools.get(name)
        return tool is None or not tool.read_only

    home = env.get("HOME") or str(Path.home())
    return PermissionGate(
        policy=policy,
        approver=approver if approver is not None else NoApprover(),
        root=cwd,
        home=home,
        shell_cwd=lambda: shell.cwd,
        writes=writes,
    )
