"""The pieces both backends share: the regex dialect check, glob translation and
.gitignore line parsing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from friday.tools.search.globs import GlobError, gitignore_rule, glob_regex, path_glob
from friday.tools.search.regex import PatternError, compile_pattern
from friday.tools.search.rg import find_rg
from tests.search.trees import rg_available

REFUSED = [
    ("(?=x)", "lookahead"),
    ("(?!x)", "negative lookahead"),
    ("(?<=x)y", "lookbehind"),
    ("(?<!x)y", "negative lookbehind"),
    (r"(a)\1", "backreferences"),
    ("(?P<n>a)(?P=n)", "backreferences"),
    ("(?>a)", "atomic groups"),
    ("(?#note)", "comments"),
    ("a++a", "possessive"),
    ("a{2}+", "possessive"),
    (r"end\Z", r"\Z is not supported"),
    (r"\0", "octal"),
    (r"\N{EM DASH}", r"\N{...}"),
    ("(?x)a b", "inline flag(s) x"),
    ("(?a)x", "inline flag(s) a"),
    (r"\<word\>", "word boundary"),
    (r"\b{start}x", r"\b{...}"),
    ("[[:alpha:]]", "[[:name:]]"),
    ("[a&&b]", "&&"),
    ("[a-z--b]", "--"),
    ("a{,3}", "literal {"),
    ("a{1, 2}", "literal {"),
    ("{", "literal {"),
    ("(?<name>x)", "(?P<name>...)"),
    (r"a\nb", "within one line"),
    ("a\nb", "within one line"),
    (r"\p{L}", r"\p{...}"),
    (r"\x{41}", r"\x{...}"),
    ("(unclosed", "missing )"),
    ("foo(?i)bar", "global flags not at the start"),
    ("(?U)a", "inline flag(s) U"),
]

ACCEPTED = [
    "",
    "TODO|FIXME",
    r"def \w+\(",
    "^import (os|sys)$",
    "(?i)todo",
    "(?i:a)b",
    "[^]a]",
    "[]a]",
    r"a{2,}",
    "x{0}",
    "a+?",
    "a??",
    "(?P<n>a)",
    r"\u0041",
    r"\Astart",
    r"\d+\.\d+",
    "a}",
    r"\{",
    "[-a]",
    r"\bword\b",
    r"[\w.-]+@",
    "(?s).",
    "(?m)^a$",
]


@pytest.mark.parametrize(("pattern", "why"), REFUSED)
def test_refused_patterns_say_why(pattern: str, why: str):
    with pytest.raises(PatternError) as info:
        compile_pattern(pattern, False)
    assert why in str(info.value)


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_accepted_patterns_compile(pattern: str):
    assert compile_pattern(pattern, True).regex.pattern == pattern


def test_a_leading_anchor_is_flagged():
    assert compile_pattern(r"\Afoo", False).line_anchored is True
    assert compile_pattern(r"\\Afoo", False).line_anchored is False
    assert compile_pattern("^foo", False).line_anchored is False


# Patterns Python accepts but reads differently from ripgrep (or ripgrep rejects): why they
# are refused. Each row is checked against a real ripgrep when one is installed.
READ_DIFFERENTLY = [
    (r"\<foo", "a foo", True, False),
    ("[[:alpha:]]", "x", True, False),
    ("a++a", "aaa", True, False),
    ("a{1, 2}", "aa", True, False),
    ("[a&&b]", "&", False, True),
]


@pytest.mark.skipif(not rg_available(), reason="ripgrep (rg) is not installed")
@pytest.mark.parametrize(("pattern", "line", "rust", "python"), READ_DIFFERENTLY)
def test_refused_patterns_really_differ(
    tmp_path: Path, pattern: str, line: str, rust: bool, python: bool
):
    import re
    import warnings

    path = tmp_path / "f.txt"
    path.write_text(line + "\n")
    rg = find_rg()
    assert rg is not None
    out = subprocess.run(
        [rg, "--no-config", "-c", "-e", pattern, str(path)], capture_output=True, check=False
    )
    # ripgrep 13 rejects some of these outright, which justifies the refusal as well.
    assert out.returncode == 2 or (out.returncode == 0) is rust, out.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert (re.search(pattern, line) is not None) is python
    with pytest.raises(PatternError):
        compile_pattern(pattern, False)


# -- globs --------------------------------------------------------------------------------

GLOBS = [
    ("*.py", ["a.py", ".py"], ["a/b.py", "a.pyc"]),
    ("a?c", ["abc"], ["a/c", "ac"]),
    ("**", ["a", "a/b/c"], []),
    ("**/x", ["x", "a/x", "a/b/x"], ["ax", "x/a"]),
    ("a/**", ["a/b", "a/b/c"], ["a", "ab/c"]),
    ("a/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["ab", "a/xb"]),
    ("a**b", ["ab", "axxb"], ["a/b"]),
    ("[ab].txt", ["a.txt", "b.txt"], ["c.txt"]),
    ("[!ab].txt", ["c.txt"], ["a.txt"]),
    ("[a-c]x", ["bx"], ["dx"]),
    ("[]]", ["]"], ["a"]),
    ("[a-]", ["a", "-"], ["b"]),
    ("*.{ts,tsx}", ["a.ts", "a.tsx"], ["a.js", "a.t"]),
    (r"\*.py", ["*.py"], ["a.py"]),
    ("{a,b/c}", ["a", "b/c"], ["b"]),
]


@pytest.mark.parametrize(("glob", "yes", "no"), GLOBS)
def test_glob_translation(glob: str, yes: list[str], no: list[str]):
    import re

    rx = re.compile(glob_regex(glob))
    assert [p for p in yes if not rx.fullmatch(p)] == []
    assert [p for p in no if rx.fullmatch(p)] == []


@pytest.mark.parametrize("glob", ["[abc", "[z-a]", "{a,b", "a}", "{a,{b}}", "x\\"])
def test_globs_ripgrep_rejects_are_rejected(glob: str):
    with pytest.raises(GlobError):
        glob_regex(glob)


def test_path_globs_split_into_folder_and_name():
    pg = path_glob("src/**/*.ts")
    assert (pg.base, pg.name_glob, pg.hidden) == ("src", "*.ts", False)
    assert pg.matches("a/b.ts") and pg.matches("b.ts") and not pg.matches("b.js")
    pg = path_glob("*.py")
    assert (pg.base, pg.name_glob) == ("", "*.py")
    assert pg.matches("deep/down/x.py")
    pg = path_glob("src/*.py")
    assert pg.base == "src" and pg.matches("a.py") and not pg.matches("sub/a.py")
    pg = path_glob("**/.env*")
    assert pg.hidden and pg.matches("config/.env.local")
    pg = path_glob("!*.min.js", allow_negation=True)
    assert pg.negated and pg.name_glob is None
    assert not pg.matches("a/b.min.js") and pg.matches("a/b.js")
    assert path_glob("docs/").base == "docs" and path_glob("docs/").matches("x/y.md")
    assert path_glob("/abs/dir/*.c").base == "/abs/dir"
    assert path_glob("a/{b,c/d}/e").base == ""  # a `/` inside braces: no split


# -- .gitignore lines ----------------------------------------------------------------------

RULES = [
    ("foo", ["foo", "a/foo"], ["foo/x", "afoo"], False, False),
    ("/foo", ["foo"], ["a/foo"], False, False),
    ("foo/", ["foo", "a/foo"], [], False, True),
    ("!keep.log", ["keep.log", "x/keep.log"], [], True, False),
    ("a/b", ["a/b"], ["x/a/b"], False, False),
    ("a/**", ["a/x", "a/x/y"], ["a"], False, False),
    ("**/lib/*.py", ["lib/x.py", "a/lib/x.py"], ["lib/a/x.py"], False, False),
    ("\\#hash", ["#hash"], [], False, False),
    ("\\!bang", ["!bang"], [], False, False),
    ("trail\\ ", ["trail "], ["trail"], False, False),
    ("*.log   ", ["x.log"], [], False, False),
]


@pytest.mark.parametrize(("line", "yes", "no", "white", "only_dir"), RULES)
def test_gitignore_lines(line: str, yes: list[str], no: list[str], white: bool, only_dir: bool):
    rule = gitignore_rule(line)
    assert rule is not None
    assert (rule.whitelist, rule.only_dir) == (white, only_dir)
    assert [p for p in yes if not rule.regex.fullmatch(p)] == []
    assert [p for p in no if rule.regex.fullmatch(p)] == []


@pytest.mark.parametrize("line", ["", "   ", "# comment", "[unclosed"])
def test_gitignore_lines_without_a_rule(line: str):
    assert gitignore_rule(line) is None
