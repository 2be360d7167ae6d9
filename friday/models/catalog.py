"""What Friday knows about models: context window, output limit and list prices.

The facts live in `catalog.json` beside this module (data, reviewed as data) and are read
once, on first use. Unknown models are fine everywhere: `lookup` returns None, and the cost
of a response is then unknown rather than guessed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from friday.messages import Usage

# Snapshot suffixes that name a dated version of a catalog model: Anthropic `-20251001`,
# OpenAI `-2024-08-06`, Vertex `@20250929`, and the `-latest` pointers.
_DATED = re.compile(r"(?:[-@](?:\d{8}|\d{4}-\d{2}-\d{2})|-latest)$")


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per million tokens; None where the price is not known."""

    input: float | None = None
    output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    provider: str
    id: str
    aliases: tuple[str, ...]
    context_window: int
    max_output_tokens: int
    prices: Prices
    # The name the API expects when it differs from `id` (Anthropic's `claude-sonnet-4-0`).
    api_id: str | None = None
    # A lower cap on the input than `context_window` (GPT-5 accepts 272k of its 400k).
    max_input_tokens: int | None = None

    @property
    def wire_id(self) -> str:
        return self.api_id or self.id

    @property
    def input_limit(self) -> int:
        """The most input tokens a request may carry (before subtracting the output)."""
        return self.max_input_tokens or self.context_window

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


def _model_from_dict(d: dict[str, Any]) -> ModelInfo:
    return ModelInfo(
        provider=d["provider"],
        id=d["id"],
        aliases=tuple(d.get("aliases", ())),
        context_window=int(d["context_window"]),
        max_output_tokens=int(d["max_output_tokens"]),
        prices=Prices(**(d.get("prices") or {})),
        api_id=d.get("api_id"),
        max_input_tokens=d.get("max_input_tokens"),
    )


@functools.cache
def _index() -> dict[str, ModelInfo]:
    """Every id and alias (lower-cased) to its model. Read from the package on first use."""
    import json
    from importlib.resources import files

    data = json.loads(files("friday.models").joinpath("catalog.json").read_text("utf-8"))
    index: dict[str, ModelInfo] = {}
    for entry in data["models"]:
        info = _model_from_dict(entry)
        for name in info.names:
            key = name.lower()
            if key in index:
                raise ValueError(f"catalog.json names {name!r} twice")
            index[key] = info
    return index


def models() -> list[ModelInfo]:
    """Every catalog model once, in file order."""
    seen: dict[str, ModelInfo] = {}
    for info in _index().values():
        seen.setdefault(info.id, info)
    return list(seen.values())


def lookup(model_id: str) -> ModelInfo | None:
    """The catalog entry for an id, an alias or a dated snapshot of one
    (`claude-haiku-4-5-20251001`, `gpt-4o-2024-08-06`); a `provider:` prefix is ignored.
    An exact entry wins over the undated one (`gpt-4o-2024-05-13` has its own prices)."""
    index = _index()
    name = model_id.strip().lower()
    candidates = [name]
    if ":" in name:
        candidates.append(name.split(":", 1)[1])
    for candidate in candidates:
        undated = _DATED.sub("", candidate)
        for key in (candidate, undated):
            if key in index:
                return index[key]
    return None


def cost_usd(info: ModelInfo | None, usage: Usage) -> float | None:
    """What `usage` cost at list price. `usage.input_tokens` is the uncached input; cache
    reads and writes are priced on their own. Output tokens already include reasoning
    tokens (both APIs report them that way). None when a price the usage needs is unknown."""
    if info is None:
        return None
    prices = info.prices
    total = 0.0
    for tokens, price in (
        (usage.input_tokens, prices.input),
        (usage.output_tokens, prices.output),
        (usage.cache_read_tokens, prices.cache_read),
        (usage.cache_creation_tokens, prices.cache_write),
    ):
        if not tokens:
            continue
        if price is None:
            return None
        total += tokens * price
    return total / 1_000_000
