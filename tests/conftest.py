"""Shared test fixtures. `../shared/` (beside the checkout) holds third-party
recordings that some tests read; where it is absent those tests skip, naming it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FRIDAY_SHARED_DIR", REPO.parent / "shared"))
RECORDED = SHARED / "recorded-streams"


def need_shared(sub: str) -> Path:
    """The folder `../shared/<sub>`, or skip the test saying it is missing."""
    path = SHARED / sub
    if not path.is_dir():
        pytest.skip(f"needs the {path} folder (../shared/{sub} beside the checkout)")
    return path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A project folder with fast retries, and a clean home with no user config."""
    (tmp_path / "home").mkdir()
    proj = tmp_path / "proj"
    (proj / ".friday").mkdir(parents=True)
    (proj / ".friday" / "config.toml").write_text(
        "[retry]\nmax_attempts = 2\nbase_delay = 0.01\nmax_delay = 0.02\n"
    )
    return proj
