"""The policies are data at the top of the repository (policies/) and ship inside the
package: a regular install copies them through the link friday/policies, an editable one
reads them through it. Both paths go through importlib.resources."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_policy_file_is_reachable_as_package_data():
    shipped = files("friday").joinpath("policies")
    names = {p.name for p in shipped.iterdir() if p.name.endswith(".toml")}
    assert names == {p.name for p in (REPO / "policies").glob("*.toml")}
    assert {"programs.toml", "default.toml", "strict.toml", "trusted.toml"} <= names


def test_the_wheel_includes_the_policies():
    link = REPO / "friday" / "policies"
    assert link.is_symlink() and link.resolve() == (REPO / "policies").resolve()
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "policies/*.toml" in config["tool"]["setuptools"]["package-data"]["friday"]
