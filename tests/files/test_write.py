"""write_file: new files and folders, the same read-first rules as an edit when it
replaces a file, and what a replacement keeps (encoding, BOM, line endings, mode)."""

from __future__ import annotations

import os

from tests.files.conftest import Session


async def test_creates_a_file_and_its_parents(session: Session):
    result = await session.ok("write_file", path="a/b/c.txt", content="one\ntwo\n")
    assert (session.root / "a" / "b" / "c.txt").read_bytes() == b"one\ntwo\n"
    assert result.text == "Created a/b/c.txt (2 lines, 8 bytes)."
    assert result.meta["created"] is True
    assert result.meta["diff"] == "--- a/a/b/c.txt\n+++ b/a/b/c.txt\n@@ -0,0 +1,2 @@\n+one\n+two"


async def test_new_file_keeps_the_content_verbatim(session: Session):
    await session.ok("write_file", path="w.bat", content="echo 1\r\necho 2")
    assert (session.root / "w.bat").read_bytes() == b"echo 1\r\necho 2"


async def test_a_new_file_can_be_edited_without_a_read(session: Session):
    await session.ok("write_file", path="n.py", content="x = 1\n")
    await session.ok("edit_file", step=2, path="n.py", old_string="1", new_string="2")
    assert (session.root / "n.py").read_text() == "x = 2\n"


async def test_overwrite_requires_a_read(session: Session):
    (session.root / "old.txt").write_text("keep\n")
    await session.refused("write_file", "not_read", path="old.txt", content="new\n")
    assert (session.root / "old.txt").read_text() == "keep\n"


async def test_overwrite_of_a_changed_file_is_refused(session: Session):
    path = session.root / "old.txt"
    path.write_text("keep\n")
    await session.ok("read_file", path="old.txt")
    path.write_text("theirs\n")
    await session.refused("write_file", "stale", step=2, path="old.txt", content="mine\n")
    assert path.read_text() == "theirs\n"


async def test_overwrite_keeps_crlf_bom_and_mode(session: Session):
    path = session.root / "w.txt"
    path.write_bytes(b"\xef\xbb\xbfa\r\nb\r\n")
    path.chmod(0o600)
    await session.ok("read_file", path="w.txt")
    result = await session.ok("write_file", step=2, path="w.txt", content="a\nB\nc\n")
    assert path.read_bytes() == b"\xef\xbb\xbfa\r\nB\r\nc\r\n"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert result.text == "Wrote w.txt (3 lines): +2 -1 lines.\n-    2\tb\n+    2\tB\n+    3\tc"


async def test_mixed_endings_keep_each_unchanged_line(session: Session):
    path = session.root / "mix.txt"
    path.write_bytes(b"one\r\ntwo\nthree\r\nfour\r\n")
    await session.ok("read_file", path="mix.txt")
    await session.ok("write_file", step=2, path="mix.txt", content="one\nTWO\nthree\nnew\nfour\n")
    assert path.read_bytes() == b"one\r\nTWO\nthree\r\nnew\r\nfour\r\n"


async def test_writing_the_same_content_writes_nothing(session: Session):
    path = session.root / "s.txt"
    path.write_bytes(b"a\r\nb")
    await session.ok("read_file", path="s.txt")
    before = os.stat(path).st_mtime_ns
    result = await session.ok("write_file", step=2, path="s.txt", content="a\nb")
    assert result.text == "s.txt already has exactly this content; nothing was written."
    assert os.stat(path).st_mtime_ns == before


async def test_directory_and_file_in_the_way(session: Session):
    (session.root / "d").mkdir()
    await session.refused("write_file", "is_directory", path="d", content="x")
    (session.root / "f").write_text("x")
    result = await session.refused("write_file", "not_a_directory", path="f/g.txt", content="x")
    assert "a part of its folder path is a file" in result.text


async def test_keep_writing_after_own_write(session: Session):
    await session.ok("write_file", path="n.txt", content="1\n")
    await session.ok("write_file", step=2, path="n.txt", content="2\n")
    assert (session.root / "n.txt").read_text() == "2\n"


async def test_no_temp_files_are_left_behind(session: Session):
    await session.ok("write_file", path="t.txt", content="1\n")
    await session.ok("write_file", step=2, path="t.txt", content="2\n")
    await session.ok("edit_file", step=3, path="t.txt", old_string="2", new_string="3")
    assert sorted(p.name for p in session.root.iterdir()) == ["t.txt"]


async def test_lone_surrogate_is_an_encoding_error(session: Session):
    result = await session.refused("write_file", "encoding", path="s.txt", content="a\ud800b")
    assert "U+D800" in result.text
    assert not (session.root / "s.txt").exists()
