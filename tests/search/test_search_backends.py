"""ripgrep and the Python fallback give the same text for the same call.

Every call runs on both backends and the outputs are compared whole. The expected files
are also checked for a few calls, so two backends that agree on a wrong answer fail too.
Without an `rg` binary these comparisons cannot run; the tests in
test_search_tools.py still cover the Python backend alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from friday.tools.search import glob_tool, grep_tool
from tests.search.trees import call, random_tree, rg_available, rich_tree

needs_rg = pytest.mark.skipif(
    not rg_available(), reason="ripgrep (rg) is not installed: nothing to compare with"
)

GREP_CALLS: list[dict[str, Any]] = [
    {"pattern": "TODO"},
    {"pattern": "TODO", "output_mode": "content"},
    {"pattern": "TODO", "output_mode": "count"},
    {"pattern": "todo", "case_insensitive": True, "output_mode": "count"},
    {"pattern": "TODO", "output_mode": "content", "context": 2},
    {"pattern": "TODO", "output_mode": "content", "context": 2, "path": "ctx"},
    {"pattern": "TODO", "type": "py"},
    {"pattern": "TODO", "type": "ts", "output_mode": "content"},
    {"pattern": "TODO", "type": "make"},
    {"pattern": "TODO", "glob": "*.py", "output_mode": "count"},
    {"pattern": "TODO", "glob": "src/**/*.py"},
    {"pattern": "TODO", "glob": "src/*.py"},
    {"pattern": "TODO", "glob": "*.{ts,tsx}"},
    {"pattern": "TODO", "glob": "!*.py"},
    {"pattern": "TODO", "glob": "**/.*"},
    {"pattern": "TODO", "glob": ".config/*"},
    {"pattern": "TODO", "glob": "build/*"},
    {"pattern": "TODO", "glob": "*.md", "type": "py"},
    {"pattern": "TODO", "path": "src"},
    {"pattern": "TODO", "path": "src/pkg"},
    {"pattern": "TODO", "path": "src/pkg/deep"},
    {"pattern": "TODO", "path": "build"},
    {"pattern": "TODO", "path": "src/app.py", "output_mode": "content"},
    {"pattern": "TODO", "path": "rooted.txt", "output_mode": "count"},
    {"pattern": "TODO", "path": ".env", "output_mode": "content"},
    {"pattern": "TODO", "path": "bin/small.bin"},
    {"pattern": r"^\s+# TODO", "output_mode": "content", "head_limit": 3},
    {"pattern": r"handler_\d+\(event\)", "output_mode": "content", "head_limit": 2},
    {"pattern": "TODO$", "output_mode": "content"},
    {"pattern": r"\ATODO", "output_mode": "content"},
    {"pattern": "caf. TODO", "output_mode": "content"},
    {"pattern": r"caf\w TODO", "output_mode": "content"},
    {"pattern": r"\bTODO\b", "output_mode": "count", "head_limit": 4},
    {"pattern": "x=1", "output_mode": "content"},
    {"pattern": "", "path": "enc", "output_mode": "count"},
    {"pattern": "(?i)todo: MIXED", "output_mode": "content"},
    {"pattern": "nothing matches this", "output_mode": "content"},
    {"pattern": "TODO", "output_mode": "files", "head_limit": 5},
    {"pattern": "a(", "output_mode": "content"},
    {"pattern": "(?=x)"},
    {"pattern": "TODO", "path": "nope"},
    {"pattern": "TODO", "path": "../"},
    {"pattern": "TODO", "path": "link_out"},
    {"pattern": "TODO", "type": "cobol"},
    {"pattern": "TODO", "glob": "[z-a]"},
]

GLOB_CALLS: list[dict[str, Any]] = [
    {"pattern": "**/*"},
    {"pattern": "*.py"},
    {"pattern": "**/*.py"},
    {"pattern": "src/*"},
    {"pattern": "src/**"},
    {"pattern": "src/"},
    {"pattern": "*.{md,txt}"},
    {"pattern": "**/.*"},
    {"pattern": "**/*.py", "path": "src"},
    {"pattern": ".config/**"},
    {"pattern": "build/**"},
    {"pattern": "docs/**/*.md"},
    {"pattern": "**/deep/*"},
    {"pattern": "*.gen.py"},
    {"pattern": "[!a-s]*"},
    {"pattern": "**/*.nothing"},
    {"pattern": "*", "path": "src/app.py"},
    {"pattern": "*", "path": "link_out"},
    {"pattern": "../*"},
]


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rich_tree(tmp_path_factory.mktemp("rich") / "ws")


async def both(tool, root: Path, args: dict[str, Any]) -> str:
    py, _ = await call(tool, root, "python", **args)
    rg, _ = await call(tool, root, "rg", **args)
    assert rg == py, f"{tool.name}({args}) differs between backends"
    return py


@needs_rg
@pytest.mark.parametrize("args", GREP_CALLS, ids=lambda a: str(a)[:60])
async def test_grep_same_on_both_backends(rich: Path, args: dict[str, Any]):
    await both(grep_tool, rich, args)


@needs_rg
@pytest.mark.parametrize("args", GLOB_CALLS, ids=lambda a: str(a)[:60])
async def test_glob_same_on_both_backends(rich: Path, args: dict[str, Any]):
    await both(glob_tool, rich, args)


@needs_rg
async def test_both_backends_agree_on_the_right_files(rich: Path):
    listed = (await both(glob_tool, rich, {"pattern": "**/*"})).splitlines()[1:]
    assert "src/app.py" in listed
    assert "keep.log" in listed and "important.log" in listed
    assert "src/pkg/keep.gen.py" in listed and "src/pkg/deep/b.gen.py" in listed
    for gone in (
        "build/out.py",
        "dist/bundle.js",
        "src/dist/inner.js",
        "app.log",
        "rooted.txt",
        "secret_key.py",
        "ignored_by_dot_ignore.py",
        "rgignored.txt",
        "excluded_by_info.txt",
        ".hidden.py",
        ".config/tool.py",
        "src/.cache/c.py",
        "src/pkg/a.gen.py",
        "docs/api/generated/ref.md",
        "link_file.py",
        ".env",
    ):
        assert gone not in listed, gone
    assert "sub/rooted.txt" in listed and "secret_ok.py" in listed
    assert not any(p.startswith((".git/", "link_out/")) for p in listed)
    found = await both(grep_tool, rich, {"pattern": "TODO", "output_mode": "count"})
    assert "bin/small.bin" not in found and "bin/late_nul.dat" not in found
    assert "enc/utf16.txt:1" in found and "enc/bom8.txt:1" in found
    found = await both(grep_tool, rich, {"pattern": "TODO line", "output_mode": "content"})
    assert found.startswith("No matches")  # only bin/late_nul.dat has it
    found = await both(grep_tool, rich, {"pattern": "TODO line"})
    assert found.startswith("No matches")
    found = await both(grep_tool, rich, {"pattern": "WARNING", "output_mode": "content"})
    assert found == "notes/rg_note.txt:1:TODO: WARNING: stopped searching binary file"


@needs_rg
@pytest.mark.parametrize("seed", range(16))
async def test_random_trees_same_on_both_backends(tmp_path: Path, seed: int):
    root = random_tree(tmp_path / "ws", seed)
    calls = [
        (glob_tool, {"pattern": "**"}),
        (glob_tool, {"pattern": "**/.*"}),
        (glob_tool, {"pattern": "*.py"}),
        (grep_tool, {"pattern": "TODO|alpha", "output_mode": "count"}),
        (
            grep_tool,
            {"pattern": "todo", "case_insensitive": True, "output_mode": "content", "context": 1},
        ),
        (grep_tool, {"pattern": r"handler\(x\)", "glob": "*.{py,js}"}),
        (grep_tool, {"pattern": "é|beta", "type": "md", "output_mode": "content"}),
        (glob_tool, {"pattern": "**", "path": "src/lib"}),
        (glob_tool, {"pattern": "lib/**/*.py"}),
        (glob_tool, {"pattern": "src/*/.*"}),
        (grep_tool, {"pattern": "a", "path": "src", "glob": "*.gen.py", "output_mode": "count"}),
    ]
    for tool, args in calls:
        await both(tool, root, args)
