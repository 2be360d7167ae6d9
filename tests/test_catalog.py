"""The model catalog: lookups that tolerate snapshot names, and cost arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from friday.messages import Usage
from friday.models import catalog
from friday.models.catalog import ModelInfo, Prices, cost_usd, lookup

CATALOG_JSON = Path(catalog.__file__).with_name("catalog.json")


def test_required_models_are_present() -> None:
    ids = {info.id for info in catalog.models()}
    required = {
        "claude-opus-4-1", "claude-opus-4-5", "claude-sonnet-4-5", "claude-sonnet-4",
        "claude-haiku-4-5", "claude-3-5-haiku", "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1",
        "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "o3", "o4-mini", "deepseek-chat",
        "deepseek-reasoner",
    }  # fmt: skip
    assert required <= ids


def test_every_entry_is_well_formed() -> None:
    data = json.loads(CATALOG_JSON.read_text(encoding="utf-8"))
    names: list[str] = []
    for entry in data["models"]:
        assert set(entry["prices"]) == {"input", "output", "cache_read", "cache_write"}
        for price in entry["prices"].values():
            assert price is None or (isinstance(price, int | float) and price >= 0)
        assert entry["provider"] in {"anthropic", "openai", "deepseek"}
        assert entry["context_window"] > entry["max_output_tokens"] > 0
        names += [entry["id"], *entry["aliases"]]
    assert len(names) == len(set(names)), "an id or alias appears twice"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-sonnet-4-0", "claude-sonnet-4"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("o4-mini-2025-04-16", "o4-mini"),
        ("GPT-4.1", "gpt-4.1"),
        ("sonnet", "claude-sonnet-4-5"),
        ("opus", "claude-opus-4-5"),
        ("haiku", "claude-haiku-4-5"),
        ("anthropic:claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("openai-chat:gpt-4o", "gpt-4o"),
        ("deepseek-reasoner", "deepseek-reasoner"),
    ],
)
def test_lookup(name: str, expected: str) -> None:
    info = lookup(name)
    assert info is not None
    assert info.id == expected


def test_exact_snapshot_entry_wins_over_undated() -> None:
    info = lookup("gpt-4o-2024-05-13")
    assert info is not None
    assert info.id == "gpt-4o-2024-05-13"
    assert info.prices.input == 5.0


@pytest.mark.parametrize(
    "name", ["o3-mini", "gpt-5-pro", "llama3.1:8b", "claude-sonnet-4-5-extra", "", "20251001"]
)
def test_lookup_unknown(name: str) -> None:
    assert lookup(name) is None


def test_known_facts() -> None:
    sonnet = lookup("claude-sonnet-4-5")
    assert sonnet is not None
    assert sonnet.provider == "anthropic"
    assert sonnet.context_window == 200_000
    assert sonnet.prices == Prices(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
    gpt5 = lookup("gpt-5")
    assert gpt5 is not None
    assert gpt5.provider == "openai"
    assert gpt5.input_limit == 272_000
    assert sonnet.input_limit == 200_000
    assert lookup("claude-sonnet-4").wire_id == "claude-sonnet-4-0"  # type: ignore[union-attr]
    assert sonnet.wire_id == "claude-sonnet-4-5"


def test_cost_with_cache_tokens() -> None:
    sonnet = lookup("claude-sonnet-4-5")
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=200_000,
        cache_read_tokens=2_000_000,
        cache_creation_tokens=400_000,
        reasoning_tokens=50_000,
    )
    # 3.00 + 0.2 * 15 + 2 * 0.30 + 0.4 * 3.75; reasoning is inside output_tokens.
    assert cost_usd(sonnet, usage) == pytest.approx(3.0 + 3.0 + 0.6 + 1.5)


def test_cost_small_numbers() -> None:
    haiku = lookup("claude-haiku-4-5-20251001")
    usage = Usage(input_tokens=1234, output_tokens=567, cache_read_tokens=10_000)
    expected = (1234 * 1.0 + 567 * 5.0 + 10_000 * 0.1) / 1_000_000
    assert cost_usd(haiku, usage) == pytest.approx(expected)
    gpt4o = lookup("gpt-4o")
    assert cost_usd(gpt4o, Usage(input_tokens=1000, cache_read_tokens=1000)) == pytest.approx(
        (1000 * 2.5 + 1000 * 1.25) / 1_000_000
    )


def test_unknown_price_gives_none() -> None:
    deepseek = lookup("deepseek-chat")
    assert deepseek is not None
    assert cost_usd(deepseek, Usage(input_tokens=10, output_tokens=10)) is None
    assert cost_usd(None, Usage(input_tokens=10)) is None


def test_unknown_price_only_matters_when_needed() -> None:
    info = ModelInfo(
        provider="x",
        id="x",
        aliases=(),
        context_window=1000,
        max_output_tokens=100,
        prices=Prices(input=1.0, output=2.0, cache_read=None, cache_write=None),
    )
    assert cost_usd(info, Usage(input_tokens=500_000, output_tokens=500_000)) == pytest.approx(1.5)
    assert cost_usd(info, Usage(input_tokens=1, cache_read_tokens=1)) is None
    assert cost_usd(info, Usage(input_tokens=1, cache_creation_tokens=1)) is None
    assert cost_usd(info, Usage()) == 0.0


def test_catalog_is_read_once() -> None:
    catalog._index.cache_clear()
    lookup("gpt-5")
    lookup("sonnet")
    catalog.models()
    assert catalog._index.cache_info().misses == 1
