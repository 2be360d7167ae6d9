"""Assembling an agent from settings: the model chain, the tools, the system prompt and
the price list. Front ends (the -p runner, the TUI) call `build_agent` and then only
talk to the agent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from friday.agent import Agent, AgentConfig
from friday.config import Settings
from friday.messages import Msg
from friday.middleware import Middleware
from friday.models.retry import RetryingModel, RetryPolicy
from friday.tools.base import ToolRegistry


def default_tools() -> ToolRegistry:
    """The tools the agent gets by default."""
    from friday.tools.files import FILE_TOOLS
    from friday.tools.search import SEARCH_TOOLS

    return ToolRegistry([*FILE_TOOLS, *SEARCH_TOOLS])


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
) -> Agent:
    """Raises `ConfigError` (one line, says what to do) when a model cannot be set up."""
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
        permission_mode=settings.permission_mode,
    )
    from friday.tools.files import FileState

    return Agent(
        RetryingModel(models, policy),
        tools if tools is not None else default_tools(),
        config,
        middleware=middleware,
        cost=price,
        file_state=FileState(dedupe_reads=settings.dedupe_reads),
    )
