"""The labelled shell-command corpus (tests/permissions/corpus/*.txt): loader and the
workspace the commands are judged in.

The labels come from the issue's rules and first principles, never from what the analyzer
returns, so the corpus measures the analyzer instead of describing it. Format, one command a
line: `LABEL<TAB or 2+ spaces>COMMAND`, where LABEL is allow, ask or deny; `#` lines and blank
lines are ignored. In COMMAND, `\\n` is a newline and `\\\\` a backslash, every other
character is literal (the `friday permissions check --stdin` convention), so multi-line
commands fit on one line.

The test suite and tools/bench/analyzer.py share this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from friday.permissions.verdict import ShellContext

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
LABELS = ("allow", "ask", "deny")
_LINE = re.compile(r"^(\S+)(?:\t+| {2,})(\S.*)$")


class CorpusError(ValueError):
    """A corpus line that does not follow the format; says which file and line."""


@dataclass(frozen=True, slots=True)
class Entry:
    label: str
    command: str  # decoded: `\n` already a newline
    raw: str  # as written in the file
    file: str  # file name inside corpus/
    line: int

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def decode(raw: str) -> str:
    """`\\n` -> newline, `\\\\` -> backslash, anything else literal (a lone backslash too)."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw) and raw[i + 1] in "n\\":
            out.append("\n" if raw[i + 1] == "n" else "\\")
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def encode(command: str) -> str:
    """The inverse of `decode`: one line for a possibly multi-line command."""
    return command.replace("\\", "\\\\").replace("\n", "\\n")


def parse_file(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = text.rstrip()
        if not stripped or stripped.lstrip().startswith("#"):
            continue
        match = _LINE.match(stripped)
        if match is None or match.group(1) not in LABELS:
            raise CorpusError(
                f"{path.name}:{number}: expected 'allow|ask|deny<two spaces>command', "
                f"got {stripped[:60]!r}"
            )
        label, raw = match.groups()
        entries.append(Entry(label, decode(raw), raw, path.name, number))
    return entries


def load(directory: Path = CORPUS_DIR) -> list[Entry]:
    """Every entry of every corpus file, in file-name order."""
    entries: list[Entry] = []
    for path in sorted(directory.glob("*.txt")):
        entries.extend(parse_file(path))
    return entries


def make_workspace(base: Path) -> ShellContext:
    """A workspace `base/ws` shaped like the projects the corpus talks about (a git folder,
    sources, tests, a README, a .env with a fake key) and an empty home `base/home`; the
    context runs at the workspace root."""
    root = base / "ws"
    home = base / "home"
    for folder in (root / ".git", root / "src", root / "tests", home / ".ssh", home / ".aws"):
        folder.mkdir(parents=True, exist_ok=True)
    files = {
        root / "README.md": "# demo\n",
        root / ".env": "API_KEY=not-a-real-key\n",
        root / "src" / "app.py": "def main():\n    return 0\n",
        root / "src" / "utils.py": "X = 1\n",
        root / "tests" / "test_app.py": "def test_main():\n    assert True\n",
        root / "package.json": '{"scripts": {"test": "jest"}}\n',
        root / "pyproject.toml": '[project]\nname = "demo"\n',
        root / ".git" / "HEAD": "ref: refs/heads/main\n",
        home / ".ssh" / "id_rsa": "not a key\n",
        home / ".aws" / "credentials": "[default]\n",
    }
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return ShellContext(cwd=str(root), root=str(root), home=str(home))


def false_asks(entries: list[Entry], decisions: dict[str, str]) -> list[Entry]:
    """Allow-labelled entries the analyzer did not allow."""
    return [e for e in entries if e.label == "allow" and decisions[e.id] != "allow"]


def false_allows(entries: list[Entry], decisions: dict[str, str]) -> list[Entry]:
    """Ask- or deny-labelled entries the analyzer allowed: each one is a security bug."""
    return [e for e in entries if e.label != "allow" and decisions[e.id] == "allow"]


def missed_denies(entries: list[Entry], decisions: dict[str, str]) -> list[Entry]:
    """Deny-labelled entries the analyzer did not deny."""
    return [e for e in entries if e.label == "deny" and decisions[e.id] != "deny"]


def rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def describe(entries: list[Entry], decisions: dict[str, str]) -> str:
    """One line per entry: where, what it was labelled, what the analyzer said, the command."""
    return "\n".join(f"  {e.id:<22} {e.label}->{decisions[e.id]:<5} {e.raw[:110]}" for e in entries)
