"""Property tests: edits and writes round-trip byte for byte across encodings (UTF-8,
UTF-8 with BOM, UTF-16 LE/BE with BOM, Latin-1), CRLF/LF mixes, a missing final newline
and any unicode the encoding can hold. Bytes the agent did not change never move."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.files.conftest import Session

ENCODINGS = [
    ("utf-8", b""),
    ("utf-8", b"\xef\xbb\xbf"),
    ("utf-16-le", b"\xff\xfe"),
    ("utf-16-be", b"\xfe\xff"),
    ("latin-1", b""),
]
LATIN1 = [chr(c) for c in (9, *range(0x20, 0x7F), *range(0xA0, 0x100))]
ALPHABETS = {
    "latin-1": st.sampled_from(LATIN1),
    # any code point but the line breaks, NUL (binary) and U+FEFF (reads as a BOM)
    "unicode": st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00\ufeff"),
}
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
_names = itertools.count()


@dataclass
class Doc:
    """A file's text as it is on disk (`raw`), as the model sees it (`view`, LF), and
    where each view position sits in the raw text (`at`, one longer than the view)."""

    raw: str
    view: str
    at: list[int]
    endings: list[str]

    @property
    def style(self) -> str:
        kinds = set(self.endings)
        return "mixed" if len(kinds) > 1 else (kinds.pop() if kinds else "\n")


@st.composite
def docs(draw, alphabet) -> Doc:
    lines = draw(
        st.lists(
            st.tuples(st.text(alphabet, max_size=12), st.sampled_from(["\n", "\r\n"])),
            max_size=8,
        )
    )
    last = draw(st.text(alphabet, max_size=8))  # "" means the file ends with a newline
    raw = view = ""
    at: list[int] = []
    for text, ending in [*lines, (last, "")]:
        at += range(len(raw), len(raw) + len(text))
        raw, view = raw + text, view + text
        if ending:
            at.append(len(raw))
            raw, view = raw + ending, view + "\n"
    at.append(len(raw))
    return Doc(raw, view, at, [e for _, e in lines])


def alphabet_for(codec: str):
    return ALPHABETS["latin-1" if codec == "latin-1" else "unicode"]


def store(root: Path, codec: str, bom: bytes, doc: Doc) -> tuple[Session, Path, bytes]:
    body = doc.raw.encode(codec)
    if codec == "latin-1":
        try:
            body.decode("utf-8")
            assume(False)  # valid UTF-8 would be read as UTF-8, not Latin-1
        except UnicodeDecodeError:
            pass
    folder = root / f"case{next(_names)}"
    folder.mkdir()
    path = folder / "f.txt"
    path.write_bytes(bom + body)
    return Session(folder), path, bom + body


async def read_then(session: Session, name: str, **args) -> None:
    await session.ok("read_file", path="f.txt")
    await session.ok(name, step=2, path="f.txt", **args)


def decoded_view(data: bytes, codec: str, bom: bytes) -> str:
    assert data.startswith(bom)
    return data[len(bom) :].decode(codec).replace("\r\n", "\n")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("roundtrip")


@SETTINGS
@given(data=st.data(), enc=st.sampled_from(ENCODINGS))
def test_edit_changes_only_the_matched_bytes(root: Path, data, enc):
    codec, bom = enc
    alphabet = alphabet_for(codec)
    doc = data.draw(docs(alphabet))
    assume(doc.view)
    i = data.draw(st.integers(0, len(doc.view) - 1))
    j = data.draw(st.integers(i + 1, len(doc.view)))
    old = doc.view[i:j]
    assume(doc.view.find(old) == i and doc.view.find(old, i + 1) == -1)
    new = data.draw(st.lists(st.text(alphabet, max_size=10), min_size=1, max_size=3))
    new = "\n".join(new)
    assume(new != old)
    session, path, _ = store(root, codec, bom, doc)

    asyncio.run(read_then(session, "edit_file", old_string=old, new_string=new))

    got = path.read_bytes()
    assert decoded_view(got, codec, bom) == doc.view[:i] + new + doc.view[j:]
    head, tail = doc.raw[: doc.at[i]], doc.raw[doc.at[j] :]
    raw = got[len(bom) :].decode(codec)
    assert raw.startswith(head) and raw.endswith(tail)
    middle = raw[len(head) : len(raw) - len(tail)]
    if doc.style != "mixed":
        assert middle == new.replace("\n", doc.style)
    else:
        assert middle in (new, new.replace("\n", "\r\n"))
    assert got == bom + (head + middle + tail).encode(codec)


@SETTINGS
@given(data=st.data(), enc=st.sampled_from(ENCODINGS))
def test_multi_edit_equals_edits_in_sequence(root: Path, data, enc):
    codec, bom = enc
    alphabet = alphabet_for(codec)
    doc = data.draw(docs(alphabet))
    view = doc.view
    edits = []
    for _ in range(2):
        assume(view)
        i = data.draw(st.integers(0, len(view) - 1))
        j = data.draw(st.integers(i + 1, min(len(view), i + 6)))
        old = view[i:j]
        assume(view.find(old) == i and view.find(old, i + 1) == -1)
        new = data.draw(st.text(alphabet, max_size=6).map(lambda s: s.replace("x", "\n")))
        assume(new != old)
        edits.append({"old_string": old, "new_string": new})
        view = view[:i] + new + view[j:]
    session, path, _ = store(root, codec, bom, doc)

    asyncio.run(read_then(session, "multi_edit", edits=edits))

    got = path.read_bytes()
    assert decoded_view(got, codec, bom) == view
    if doc.style != "mixed":
        raw = got[len(bom) :].decode(codec)
        assert raw == view.replace("\n", doc.style)


@SETTINGS
@given(data=st.data(), enc=st.sampled_from(ENCODINGS))
def test_write_back_of_the_same_text_changes_no_byte(root: Path, data, enc):
    codec, bom = enc
    doc = data.draw(docs(alphabet_for(codec)))
    session, path, original = store(root, codec, bom, doc)
    asyncio.run(read_then(session, "write_file", content=doc.view))
    assert path.read_bytes() == original


@SETTINGS
@given(data=st.data(), enc=st.sampled_from(ENCODINGS))
def test_write_keeps_each_line_ending_when_lines_are_rewritten(root: Path, data, enc):
    codec, bom = enc
    alphabet = alphabet_for(codec)
    doc = data.draw(docs(alphabet))
    rows = doc.view.split("\n")
    k = data.draw(st.integers(0, len(rows) - 1))
    rows[k] = data.draw(st.text(alphabet, max_size=10))
    raw_rows = doc.raw.replace("\r\n", "\n").split("\n")
    raw_rows[k] = rows[k]
    endings = [*doc.endings, ""]
    expected = "".join(r + e for r, e in zip(raw_rows, endings, strict=True))
    session, path, _ = store(root, codec, bom, doc)

    asyncio.run(read_then(session, "write_file", content="\n".join(rows)))

    assert path.read_bytes() == bom + expected.encode(codec)


@SETTINGS
@given(data=st.data(), enc=st.sampled_from(ENCODINGS))
def test_write_of_new_text_keeps_encoding_bom_and_style(root: Path, data, enc):
    codec, bom = enc
    alphabet = alphabet_for(codec)
    doc = data.draw(docs(alphabet))
    content = "\n".join(data.draw(st.lists(st.text(alphabet, max_size=10), max_size=6)))
    session, path, _ = store(root, codec, bom, doc)

    asyncio.run(read_then(session, "write_file", content=content))

    got = path.read_bytes()
    assert decoded_view(got, codec, bom) == content
    if doc.style != "mixed":
        assert got == bom + content.replace("\n", doc.style).encode(codec)
