"""What glob and grep answer, checked against exact expected text on each backend
(the Python backend always; ripgrep when an `rg` binary is installed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from friday.tools.search import SEARCH_TOOLS, glob_tool, grep_tool
from friday.tools.search.output import MAX_CHARS
from tests.search.trees import call, rg_available, rich_tree, write


@pytest.fixture(
    params=[
        "python",
        pytest.param(
            "rg",
            marks=pytest.mark.skipif(not rg_available(), reason="ripgrep (rg) is not installed"),
        ),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rich_tree(tmp_path_factory.mktemp("rich") / "ws")


def listed(text: str) -> list[str]:
    """The paths of a "Found N files" answer."""
    assert text.startswith("Found "), text
    return [ln for ln in text.splitlines()[1:] if not ln.startswith("[...")]


def test_tools_are_declared_with_the_interface_names():
    assert [t.name for t in SEARCH_TOOLS] == ["glob", "grep"]
    assert all(t.read_only for t in SEARCH_TOOLS)
    assert list(glob_tool.parameters["properties"]) == ["pattern", "path"]
    assert list(grep_tool.parameters["properties"]) == [
        "pattern",
        "path",
        "glob",
        "type",
        "case_insensitive",
        "context",
        "output_mode",
        "head_limit",
    ]
    assert grep_tool.parameters["properties"]["output_mode"]["enum"] == [
        "files",
        "content",
        "count",
    ]
    assert grep_tool.parameters["properties"]["output_mode"]["default"] == "files"


# -- ignore rules ------------------------------------------------------------------------


async def test_gitignore_rules_with_negation_nesting_and_precedence(rich: Path, backend: str):
    text, meta = await call(grep_tool, rich, backend, pattern="TODO", output_mode="count")
    assert meta["backend"] == backend
    if backend == "rg":  # what ran is on record for the tool.finished event
        assert meta["command"][1:3] == ["--no-config", "--no-ignore-global"]
        assert meta["command"][-4:] == ["--regexp", "TODO", "--", "."]
    found = {ln.rsplit(":", 1)[0] for ln in text.splitlines()[:-1]}
    assert {"keep.log", "important.log", "sub/rooted.txt", "secret_ok.py"} <= found
    assert {"src/pkg/keep.gen.py", "src/pkg/deep/b.gen.py", "docs/api/hand.md"} <= found
    assert not found & {
        "app.log",
        "rooted.txt",
        "secret_key.py",
        "build/out.py",
        "dist/bundle.js",
        "src/dist/inner.js",
        "ignored_by_dot_ignore.py",
        "rgignored.txt",
        "excluded_by_info.txt",
        "src/pkg/a.gen.py",
        "docs/api/generated/ref.md",
    }


async def test_outside_a_git_repository_only_ignore_files_apply(tmp_path: Path, backend: str):
    write(tmp_path, ".gitignore", "*.log\n")
    write(tmp_path, ".ignore", "*.tmp\n")
    for name in ("a.log", "b.tmp", "c.py"):
        write(tmp_path, name, "needle\n")
    text, _ = await call(glob_tool, tmp_path, backend, pattern="*")
    assert sorted(listed(text)) == ["a.log", "c.py"]
    (tmp_path / ".git").mkdir()
    text, _ = await call(glob_tool, tmp_path, backend, pattern="*")
    assert listed(text) == ["c.py"]


async def test_an_ignored_folder_is_not_entered_even_for_a_negated_file(
    tmp_path: Path, backend: str
):
    (tmp_path / ".git").mkdir()
    write(tmp_path, ".gitignore", "out/\n!out/keep.txt\n")
    write(tmp_path, "out/keep.txt", "needle\n")
    write(tmp_path, "in/keep.txt", "needle\n")
    text, _ = await call(grep_tool, tmp_path, backend, pattern="needle")
    assert listed(text) == ["in/keep.txt"]
    # Searching the ignored folder by name is an explicit request: it is searched.
    text, _ = await call(grep_tool, tmp_path, backend, pattern="needle", path="out")
    assert listed(text) == ["out/keep.txt"]


async def test_rules_above_the_searched_folder_apply_to_deep_files(tmp_path: Path, backend: str):
    (tmp_path / ".git").mkdir()
    write(tmp_path, ".gitignore", "src/*.js\nsrc/gen/\n")
    for rel in ("src/a.js", "src/lib/b.js", "src/gen/c.py", "src/lib/gen/d.py"):
        write(tmp_path, rel, "needle\n")
    text, meta = await call(glob_tool, tmp_path, backend, pattern="**", path="src")
    assert sorted(listed(text)) == ["src/lib/b.js", "src/lib/gen/d.py"]
    if backend == "rg":  # ripgrep 14 misreads such rules from above: it walks from there
        assert meta["command"][-2:] == ["--", "."]


# -- hidden, binary, symlinks, encodings -------------------------------------------------------


async def test_hidden_files_only_when_the_glob_names_them(rich: Path, backend: str):
    text, _ = await call(glob_tool, rich, backend, pattern="**/*.py")
    assert not [p for p in listed(text) if "/." in f"/{p}"]
    text, _ = await call(glob_tool, rich, backend, pattern="**/.*")
    assert sorted(listed(text)) == [
        ".env",
        ".gitignore",
        ".hidden.py",
        ".ignore",
        ".rgignore",
        "src/pkg/.gitignore",
        "src/pkg/deep/.ignore",
    ]
    text, _ = await call(glob_tool, rich, backend, pattern=".config/*")
    assert listed(text) == [".config/tool.py"]
    text, _ = await call(grep_tool, rich, backend, pattern="TODO", path=".config")
    assert listed(text) == [".config/tool.py"]


async def test_binary_files_are_skipped_and_refused_by_name(rich: Path, backend: str):
    text, _ = await call(grep_tool, rich, backend, pattern="TODO", path="bin")
    assert text.startswith("No matches for 'TODO' in bin")
    text, _ = await call(grep_tool, rich, backend, pattern="TODO", path="bin/small.bin")
    assert text == "ERROR [binary] bin/small.bin is a binary file (17 bytes); not searched."
    text, _ = await call(glob_tool, rich, backend, pattern="bin/*")
    assert sorted(listed(text)) == ["bin/late_nul.dat", "bin/small.bin"]


async def test_symlinks_are_not_followed(rich: Path, backend: str):
    text, _ = await call(grep_tool, rich, backend, pattern="TODO outside")
    assert text.startswith("No matches")
    text, _ = await call(grep_tool, rich, backend, pattern="TODO", path="link_out")
    assert text.startswith("ERROR [outside_workspace] link_out resolves to ")


async def test_encodings_line_endings_and_long_lines(rich: Path, backend: str):
    text, _ = await call(
        grep_tool, rich, backend, pattern="TODO", path="enc", output_mode="content"
    )
    assert text.splitlines() == [
        "enc/bom8.txt:1:TODO after bom",
        "enc/crlf.txt:1:TODO crlf",
        "enc/latin1.txt:1:caf\ufffd TODO",
        "enc/noeol.txt:2:TODO last",
        "enc/utf16.txt:1:TODO in utf16",
    ]
    text, _ = await call(
        grep_tool, rich, backend, pattern="TODO", path="long", output_mode="content"
    )
    assert text == "long/minified.js:1:" + ("var x=1;" * 50) + " … [line cut]"


# -- types, globs, case, context, counts -----------------------------------------------------


async def test_type_and_glob_filters(rich: Path, backend: str):
    async def files(**args) -> list[str]:
        text, _ = await call(grep_tool, rich, backend, pattern="TODO", **args)
        return sorted(listed(text)) if text.startswith("Found") else []

    assert await files(type="ts") == ["src/web/index.ts", "src/web/view.tsx"]
    assert await files(type="typescript") == ["src/web/index.ts", "src/web/view.tsx"]
    assert await files(type="make") == ["Makefile"]
    assert await files(glob="*.{ts,tsx}") == ["src/web/index.ts", "src/web/view.tsx"]
    assert await files(glob="src/*.py") == ["src/app.py", "src/util.py"]
    assert await files(glob="src/**/*.rs") == ["src/lib.rs"]
    assert await files(glob="*.md", type="md", path="docs") == ["docs/api/hand.md", "docs/guide.md"]
    assert await files(glob="*.py", type="md") == []  # both must hold
    excluded = await files(glob="!*.py", path="src")
    assert "src/web/main.js" in excluded and not [p for p in excluded if p.endswith(".py")]
    text, _ = await call(grep_tool, rich, backend, pattern="TODO", type="cobol")
    assert text.startswith("ERROR [bad_type] unknown type 'cobol'; known types: c, clojure,")


async def test_case_insensitive(rich: Path, backend: str):
    args = {"pattern": "todo", "path": "case", "output_mode": "content"}
    text, _ = await call(grep_tool, rich, backend, **args)
    assert text == "case/Upper.py:3:todo lower"
    text, _ = await call(grep_tool, rich, backend, case_insensitive=True, **args)
    assert text.splitlines() == [
        "case/Upper.py:1:Todo: mixed Case",
        "case/Upper.py:2:TODO upper",
        "case/Upper.py:3:todo lower",
    ]


async def test_context_lines_and_group_separators(rich: Path, backend: str):
    text, _ = await call(
        grep_tool, rich, backend, pattern="TODO", path="ctx", output_mode="content", context=2
    )
    assert text.splitlines() == [
        "ctx/context.py-3-line 3",
        "ctx/context.py-4-line 4",
        "ctx/context.py:5:line 5 TODO",
        "ctx/context.py-6-line 6",
        "ctx/context.py-7-line 7",
        "ctx/context.py:8:line 8 TODO",
        "ctx/context.py-9-line 9",
        "ctx/context.py-10-line 10",
        "--",
        "ctx/context.py-16-line 16",
        "ctx/context.py-17-line 17",
        "ctx/context.py:18:line 18 TODO",
        "ctx/context.py-19-line 19",
        "ctx/context.py-20-line 20",
    ]


async def test_count_mode(rich: Path, backend: str):
    text, _ = await call(grep_tool, rich, backend, pattern="TODO", path="ctx", output_mode="count")
    assert text == "ctx/context.py:3\nTotal: 3 matching lines in 1 file"
    text, _ = await call(
        grep_tool,
        rich,
        backend,
        pattern="o",
        path="case",
        output_mode="count",
        case_insensitive=True,
    )
    assert text == "case/Upper.py:3\nTotal: 3 matching lines in 1 file"


async def test_files_mode_is_newest_first(tmp_path: Path, backend: str):
    for i, name in enumerate(["b.py", "c.py", "a.py"]):
        write(tmp_path, name, "needle\n", mtime=1_700_000_000 + i)
    write(tmp_path, "d.py", "needle\n", mtime=1_700_000_001)  # ties c.py: by path
    text, _ = await call(grep_tool, tmp_path, backend, pattern="needle")
    assert text == "Found 4 files (newest first)\na.py\nc.py\nd.py\nb.py"


# -- caps and head_limit -------------------------------------------------------------------------


async def test_file_lists_are_capped_with_a_count(tmp_path: Path, backend: str):
    for i in range(230):
        write(tmp_path, f"f{i:03}.txt", "needle\n", mtime=1_700_000_000 + i)
    text, meta = await call(grep_tool, tmp_path, backend, pattern="needle")
    lines = text.splitlines()
    assert lines[0] == "Found 230 files (newest first)"
    assert lines[1:3] == ["f229.txt", "f228.txt"] and len(lines) == 202
    assert lines[-1].startswith("[... 30 more files not shown; narrow the search")
    text, _ = await call(glob_tool, tmp_path, backend, pattern="*.txt")
    assert text.splitlines()[-1] == (
        "[... 30 more files not shown; use a narrower pattern or path]"
    )
    text, _ = await call(grep_tool, tmp_path, backend, pattern="needle", head_limit=3)
    assert text == (
        "Found 230 files (newest first)\nf229.txt\nf228.txt\nf227.txt\n"
        "[... 227 more files not shown; head_limit=3 reached]"
    )
    assert meta["files"] == 230


async def test_content_is_capped_by_characters(tmp_path: Path, backend: str):
    write(tmp_path, "big.txt", "".join(f"needle {'x' * 90} {i}\n" for i in range(1000)))
    text, meta = await call(grep_tool, tmp_path, backend, pattern="needle", output_mode="content")
    assert len(text) <= MAX_CHARS + 300
    shown = text.count("\nbig.txt:") + 1
    assert text.splitlines()[-1] == (
        f"[... {1000 - shown:,} more lines not shown (1,000 matching lines in 1 file in all); "
        f"output capped at {MAX_CHARS:,} characters; narrow the search with path, glob or "
        "type, or a more specific pattern]"
    )
    assert meta["truncated"] is True
    text, _ = await call(
        grep_tool, tmp_path, backend, pattern="needle", output_mode="content", head_limit=2
    )
    assert text.splitlines()[2] == (
        "[... 998 more lines not shown (1,000 matching lines in 1 file in all); "
        "head_limit=2 reached]"
    )


async def test_secrets_are_listed_but_their_lines_not_shown(rich: Path, backend: str):
    text, _ = await call(
        grep_tool, rich, backend, pattern="TODO", glob="**/.env", output_mode="content"
    )
    assert text == ".env: [1 matching line not shown: the file may hold secrets]"
    text, _ = await call(grep_tool, rich, backend, pattern="PRIVATE", output_mode="content")
    assert "secret" in text and "BEGIN" not in text


# -- refusals --------------------------------------------------------------------------------------


async def test_bad_patterns_are_refused_with_a_code(rich: Path, backend: str):
    text, _ = await call(grep_tool, rich, backend, pattern="handler(")
    assert text.startswith("ERROR [bad_pattern] missing ), unterminated subpattern")
    text, _ = await call(grep_tool, rich, backend, pattern="(?<=a)b")
    assert text.startswith("ERROR [bad_pattern] lookbehind (?<=...) is not supported")
    text, _ = await call(grep_tool, rich, backend, pattern="TODO", glob="[z-a]")
    assert text.startswith("ERROR [bad_glob] invalid range z-a")
    text, _ = await call(grep_tool, rich, backend, pattern="x", context=51)
    assert text == "ERROR [bad_argument] context must be between 0 and 50."


async def test_missing_paths_suggest_close_names(rich: Path, backend: str):
    text, _ = await call(grep_tool, rich, backend, pattern="x", path="src/utill.py")
    assert text.startswith(
        "ERROR [not_found] src/utill.py does not exist. Similar names in src: util.py."
    )
    text, _ = await call(glob_tool, rich, backend, pattern="*", path="nowhere/deeper")
    assert text.startswith("ERROR [not_found] nowhere/deeper does not exist.")


async def test_paths_outside_the_workspace_or_in_git_are_refused(rich: Path, backend: str):
    for args in ({"path": "../"}, {"path": "/etc"}, {"path": "src/../../"}):
        text, _ = await call(grep_tool, rich, backend, pattern="x", **args)
        assert text.startswith("ERROR [outside_workspace] "), args
    text, _ = await call(glob_tool, rich, backend, pattern="../*")
    assert text.startswith("ERROR [outside_workspace] ")
    text, _ = await call(glob_tool, rich, backend, pattern="*", path=".git")
    assert text == "ERROR [git_dir] .git is inside a .git folder, which search tools skip."
    text, _ = await call(glob_tool, rich, backend, pattern="*", path="src/app.py")
    assert text == "ERROR [not_a_directory] src/app.py is a file; pass its folder as path."


# -- glob ------------------------------------------------------------------------------------------


async def test_glob_pattern_forms(rich: Path, backend: str):
    async def files(**args) -> list[str]:
        text, _ = await call(glob_tool, rich, backend, **args)
        return sorted(listed(text)) if text.startswith("Found") else []

    assert await files(pattern="*.rs") == ["src/lib.rs"]
    assert await files(pattern="src/*.py") == ["src/app.py", "src/util.py"]
    assert await files(pattern="**/deep/*.py") == ["src/pkg/deep/b.gen.py", "src/pkg/deep/mod.py"]
    assert await files(pattern="*.py", path="src/pkg") == [
        "src/pkg/deep/b.gen.py",
        "src/pkg/deep/mod.py",
        "src/pkg/keep.gen.py",
    ]
    assert await files(pattern=str(rich / "src" / "web" / "*")) == [
        "src/web/index.ts",
        "src/web/main.js",
        "src/web/view.tsx",
    ]
    text, _ = await call(glob_tool, rich, backend, pattern="**/*.cobol")
    assert text == (
        "No files match '**/*.cobol' in the workspace (files ignored by .gitignore/.ignore "
        "and hidden files are skipped)."
    )


async def test_glob_lists_newest_first(tmp_path: Path, backend: str):
    write(tmp_path, "old.py", "", mtime=1_600_000_000)
    write(tmp_path, "sub/new.py", "", mtime=1_700_000_000)
    write(tmp_path, "mid.py", "", mtime=1_650_000_000)
    text, meta = await call(glob_tool, tmp_path, backend, pattern="**/*.py")
    assert text == "Found 3 files (newest first)\nsub/new.py\nmid.py\nold.py"
    assert meta["matched"] == 3 and meta["truncated"] is False


async def test_a_search_outside_cwd_relative_path_uses_the_workspace(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
):
    write(tmp_path, "ws/a.py", "needle\n")
    monkeypatch.chdir(tmp_path)
    os.makedirs(tmp_path / "elsewhere")
    text, _ = await call(grep_tool, tmp_path / "ws", backend, pattern="needle")
    assert listed(text) == ["a.py"]


async def test_glob_cap_keeps_the_newest_and_breaks_ties_by_path(tmp_path: Path, backend: str):
    import random

    names = [f"n{i:03}.txt" for i in range(260)]
    random.Random(3).shuffle(names)
    mtime = {name: 1_700_000_000 + (i % 3) for i, name in enumerate(names)}
    for name in names:
        write(tmp_path, name, "", mtime=mtime[name])
    text, _ = await call(glob_tool, tmp_path, backend, pattern="*.txt")
    expected = sorted(names, key=lambda n: (-mtime[n], n))[:200]
    assert listed(text) == expected


async def test_large_files_are_skipped_unless_named(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
):
    from friday.tools.search import engine

    monkeypatch.setattr(engine, "MAX_FILE_BYTES", 100)
    write(tmp_path, "small.txt", "needle\n")
    write(tmp_path, "big.txt", "needle\n" + "x" * 200 + "\n")
    text, _ = await call(grep_tool, tmp_path, backend, pattern="needle")
    assert listed(text) == ["small.txt"]
    text, _ = await call(grep_tool, tmp_path, backend, pattern="needle", path="big.txt")
    assert listed(text) == ["big.txt"]
    text, _ = await call(glob_tool, tmp_path, backend, pattern="*")
    assert sorted(listed(text)) == ["big.txt", "small.txt"]
    if backend == "python":
        monkeypatch.setattr(engine, "MAX_EXPLICIT_BYTES", 100)
        text, _ = await call(grep_tool, tmp_path, backend, pattern="needle", path="big.txt")
        assert text.startswith("ERROR [too_large] big.txt is 208 bytes; without ripgrep")
