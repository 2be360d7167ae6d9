"""The pieces under the tools: encoding detection, the newline map that lets an edit
touch only its own bytes, line-ending restoration on a write, the diff (checked by
applying it), and what importing the tools costs (module sets, never time)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from friday.tools.files.codec import Encoding, NewlineMap, decode, describe_binary, renewline
from friday.tools.files.diff import unified_diff
from friday.tools.files.match import candidates, find_all, line_numbers

NO_EOL = "\\ No newline at end of file"


def test_decode_by_bom_then_utf8_then_latin1():
    assert decode("é".encode()) == ("é", Encoding("utf-8"))
    assert decode(b"\xef\xbb\xbfx") == ("x", Encoding("utf-8", b"\xef\xbb\xbf"))
    assert decode(b"\xff\xfex\x00") == ("x", Encoding("utf-16-le", b"\xff\xfe"))
    assert decode(b"\xfe\xff\x00x") == ("x", Encoding("utf-16-be", b"\xfe\xff"))
    assert decode(b"\xff\xfe\x00\x00x\x00\x00\x00") == (
        "x",
        Encoding("utf-32-le", b"\xff\xfe\x00\x00"),
    )
    assert decode(b"caf\xe9") == ("café", Encoding("latin-1"))
    assert Encoding("utf-16-le", b"\xff\xfe").label == "UTF-16-LE with BOM"


def test_binary_detection():
    assert decode(b"text\x00more") is None
    assert decode(b"\xff\xfex") is None  # odd length: not UTF-16
    assert decode(bytes(range(1, 32)) * 10 + b"\xff") is None  # control bytes, not Latin-1
    assert decode(b"\x1b[31mred\x1b[0m\n") is not None  # ANSI colours are text
    assert describe_binary(b"%PDF-1.7", "a.pdf") == "PDF document"
    assert describe_binary(b"\x00\x01", "clip.mp4") == "video/mp4"
    assert describe_binary(b"\x00\x01", "noext") == "binary data"


def test_newline_map_touches_only_the_match():
    raw = "a\rb\r\nc\nd"
    nmap = NewlineMap(raw)
    assert (nmap.text, nmap.style) == ("a\rb\nc\nd", "mixed")
    start = nmap.text.index("b")
    edited = nmap.replace([(start, start + 1)], "B\nx")
    assert (edited.raw, edited.text) == ("a\rB\r\nx\r\nc\nd", "a\rB\nx\nc\nd")
    c = nmap.text.index("c")
    assert nmap.replace([(c, c + 1)], "C\nC").raw == "a\rb\r\nC\nC\nd"
    # a span that ends at a view newline keeps the raw "\r\n" after it
    assert nmap.replace([(start, start + 1)], "").raw == "a\r\r\nc\nd"
    # a span over the newline takes the whole "\r\n"
    assert nmap.replace([(start, start + 2)], "").raw == "a\rc\nd"
    # a "\r" at the end of the new text pairs with the kept "\n": the view says so
    paired = nmap.replace([(start, start + 1)], "B\r")
    assert (paired.raw, paired.text) == ("a\rB\r\r\nc\nd", "a\rB\r\nc\nd")


def test_newline_map_styles_and_the_crlf_shortcut():
    assert NewlineMap("a\nb").style == "\n"
    crlf = NewlineMap("a\r\r\nb\r\n")
    assert (crlf.style, crlf.text) == ("\r\n", "a\r\nb\n")
    # the shortcut (view back to CRLF) and the position map agree byte for byte
    spans = [(1, 2)]
    edited = crlf.replace(spans, "X\nY")
    assert (edited.raw, edited.text, edited.style) == ("aX\r\nY\r\nb\r\n", "aX\nY\nb\n", "\r\n")
    assert crlf._splice_raw(spans, "X\nY") == "aX\r\nY\r\nb\r\n"


def test_renewline_styles():
    assert renewline("a\nb\n", "x\ny\n") == "x\ny\n"
    assert renewline("a\r\nb\r\n", "x\ny\nz") == "x\r\ny\r\nz"
    # same number of lines: each keeps its ending
    assert renewline("a\r\nb\nc", "A\nB\nC") == "A\r\nB\nC"
    # lines added to a mixed file: kept lines keep theirs, new ones get the common one
    assert renewline("a\r\nb\nc\r\n", "a\nnew\nb\nc\n") == "a\r\nnew\r\nb\nc\r\n"


def test_find_all_and_line_numbers():
    text = "x\nab\nab ab\n"
    found = find_all(text, "ab")
    assert found == [2, 5, 8]
    assert line_numbers(text, found) == [2, 3, 3]
    assert find_all("aaaa", "aa") == [0, 2]


def test_candidates_in_a_large_file_use_anchors():
    lines = [f"value_{n} = compute({n})" for n in range(5000)]
    found = candidates("\n".join(lines), "value_4321 = compute(4321, extra)")
    assert found[0].first == 4322 and not found[0].whitespace_only


def apply_unified(old: str, diff: str) -> str:
    """Apply our unified diff to `old`, checking every context and removed line."""
    src = re.findall(r"[^\n]*\n|[^\n]+$", old)
    rows = diff.split("\n")[2:] if diff else []
    out: list[str] = []
    pos = k = 0
    while k < len(rows):
        m = re.match(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$", rows[k])
        assert m, rows[k]
        k += 1
        start, count = int(m[1]), int(m[2] if m[2] is not None else 1)
        first = start - 1 if count else start
        assert first >= pos
        out += src[pos:first]
        pos = first
        while k < len(rows) and not rows[k].startswith("@@"):
            sign, text = rows[k][0], rows[k][1:]
            k += 1
            line = text + "\n"
            if k < len(rows) and rows[k] == NO_EOL:
                line, k = text, k + 1
            if sign in " -":
                assert src[pos] == line, (src[pos], line)
                pos += 1
            if sign in " +":
                out.append(line)
    return "".join(out + src[pos:])


texts = st.lists(st.sampled_from(["a", "b", "c", "", "dd"]), max_size=12).flatmap(
    lambda rows: st.sampled_from(["", "\n"]).map(lambda end: "\n".join(rows) + end if rows else "")
)


@settings(max_examples=400, deadline=None)
@given(old=texts, new=texts)
def test_diff_applies_back_to_the_new_text(old: str, new: str):
    diff = unified_diff(old, new, "f")
    assert apply_unified(old, diff.text) == new
    assert (diff.text == "") == (old == new)
    body = diff.text.split("\n")[2:]
    assert diff.added == sum(r.startswith("+") for r in body)
    assert diff.removed == sum(r.startswith("-") for r in body)


def test_diff_of_a_large_text_covers_only_the_change():
    old = "".join(f"line {n}\n" for n in range(100_000))
    new = old.replace("line 50000\n", "line 50000 changed\n")
    diff = unified_diff(old, new, "big")
    assert diff.text == (
        "--- a/big\n+++ b/big\n@@ -49998,7 +49998,7 @@\n line 49997\n line 49998\n"
        " line 49999\n-line 50000\n+line 50000 changed\n line 50001\n line 50002\n line 50003"
    )
    assert diff.compact() == "-50001\tline 50000\n+50001\tline 50000 changed"


def test_importing_the_tools_loads_nothing_heavy():
    probe = (
        "import sys, json\nimport friday.tools.files\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, check=True)
    loaded = set(json.loads(out.stdout.decode().splitlines()[-1]))
    heavy = {"difflib", "hashlib", "mimetypes", "textual", "rich", "anthropic", "openai"}
    assert not loaded & heavy
