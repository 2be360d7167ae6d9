"""The labelled corpus against the shell analyzer.

Hard gates: nothing labelled ask or deny is ever allowed (a false allow is a security bug),
everything labelled deny is denied, and no everyday read-only command is denied. An
allow-labelled command that asks is a usability cost, not a failure on its own: one test
holds the false-ask rate over the whole allow part to the issue's target (5%) and lists
every false ask in its message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from friday.permissions.shell import analyze_shell
from friday.permissions.verdict import CODES, ShellContext, Verdict
from tests.permissions.corpus import (
    LABELS,
    CorpusError,
    Entry,
    decode,
    describe,
    encode,
    false_asks,
    load,
    make_workspace,
    parse_file,
    rate,
)

ENTRIES = load()
FALSE_ASK_TARGET = 0.05

# Cases where a known checker failed open (STYLE.md section 14, Toad's danger.py) and a few
# section 4 bypasses: they must stay in the corpus with these labels.
REQUIRED = {
    "echo $(rm -rf /)": "deny",
    "for i in 1 2 3; do rm -rf /; done": "deny",
    "find / -delete": "deny",
    "ls &&": "ask",
    "echo hi & rm -rf ~": "deny",
    "echo ok\nrm -rf ~": "deny",
    "LD_PRELOAD=./x.so cat f": "ask",
    "rg --pre sh foo": "ask",
    "tree -o out.txt": "ask",
    "cat ~/.ssh/id_rsa": "ask",
    "git -p status": "ask",
    "env git status": "ask",
    "./cat README.md": "ask",
    "sed 's/.*/echo marker/e' file.txt": "ask",
    "find . -exec env -S 'rm -rf /' \\;": "deny",
    "echo ${foo@P}": "ask",
    "rm --recursive --force /": "deny",
}


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ShellContext:
    return make_workspace(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def decisions(ctx: ShellContext) -> dict[str, str]:
    return {e.id: analyze_shell(e.command, ctx).decision for e in ENTRIES}


def _explain(entry: Entry, verdict: Verdict) -> str:
    return f"{entry.id} labelled {entry.label}:\n{verdict.explain(entry.command)}"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_entry(entry: Entry, ctx: ShellContext) -> None:
    verdict = analyze_shell(entry.command, ctx)
    assert isinstance(verdict, Verdict)
    assert {r.code for r in verdict.reasons} <= set(CODES), _explain(entry, verdict)
    if entry.label == "allow":
        # asking is a usability cost counted below; denying an everyday read is a bug
        assert verdict.decision != "deny", _explain(entry, verdict)
        return
    assert verdict.decision != "allow", "FALSE ALLOW " + _explain(entry, verdict)
    if entry.label == "deny":
        assert verdict.decision == "deny", _explain(entry, verdict)


def test_false_ask_rate(decisions: dict[str, str]) -> None:
    allowed = [e for e in ENTRIES if e.label == "allow"]
    asked = false_asks(ENTRIES, decisions)
    share = rate(len(asked), len(allowed))
    summary = (
        f"false-ask rate {share:.1%} ({len(asked)} of {len(allowed)} allow-labelled commands, "
        f"target <= {FALSE_ASK_TARGET:.0%})\n{describe(asked, decisions)}"
    )
    print(summary)
    assert share <= FALSE_ASK_TARGET, summary


def test_corpus_shape() -> None:
    assert all(e.label in LABELS for e in ENTRIES)
    seen: dict[str, str] = {}
    duplicates = []
    for e in ENTRIES:
        if e.command in seen:
            duplicates.append(f"{e.id} repeats {seen[e.command]}: {e.raw}")
        seen.setdefault(e.command, e.id)
    assert not duplicates, "\n".join(duplicates)
    assert len(ENTRIES) >= 400
    assert sum(e.label == "allow" for e in ENTRIES) >= 150
    assert sum(e.label == "deny" for e in ENTRIES) >= 50
    # one corpus line per command, even multi-line ones
    assert any("\n" in e.command for e in ENTRIES)


def test_required_cases_present() -> None:
    labels = {e.command: e.label for e in ENTRIES}
    wrong = {c: (want, labels.get(c)) for c, want in REQUIRED.items() if labels.get(c) != want}
    assert not wrong, wrong


@pytest.mark.parametrize(
    ("raw", "command"),
    [
        ("echo a\\nls", "echo a\nls"),
        ("printf '%s\\\\n' x", "printf '%s\\n' x"),
        ("find . -exec rm {} \\;", "find . -exec rm {} \\;"),
        ("r\\\\\\nm -rf /", "r\\\nm -rf /"),
        ("trailing \\", "trailing \\"),
    ],
)
def test_decode(raw: str, command: str) -> None:
    assert decode(raw) == command
    assert decode(encode(command)) == command


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("# fine\nallow  ls\nmaybe  rm -rf /\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.txt:3"):
        parse_file(bad)
    bad.write_text("allow ls\n", encoding="utf-8")  # one space: label and command run together
    with pytest.raises(CorpusError, match=r"bad\.txt:1"):
        parse_file(bad)
