"""edit_file and multi_edit: the read-first and unchanged-since rules (and which check
caught a change), exact-once matching with helpful misses, all-or-nothing multi edits,
what the write keeps, and the diff the UI and the model get."""

from __future__ import annotations

import os

from tests.files.conftest import PNG, Session

SOURCE = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"


async def read(session: Session, name: str, text: str | bytes = SOURCE, step: int = 1) -> None:
    path = session.root / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    await session.ok("read_file", step=step, path=name)


async def test_edit_requires_a_read_first(session: Session):
    (session.root / "m.py").write_text(SOURCE)
    result = await session.refused(
        "edit_file", "not_read", path="m.py", old_string="a + b", new_string="b + a"
    )
    assert "Read it with read_file first" in result.text
    assert (session.root / "m.py").read_text() == SOURCE


async def test_edit_after_read_writes_and_reports_a_diff(session: Session):
    await read(session, "m.py")
    result = await session.ok(
        "edit_file", step=2, path="m.py", old_string="return a + b", new_string="return b + a"
    )
    assert (session.root / "m.py").read_text() == SOURCE.replace("a + b", "b + a")
    assert result.text == (
        "Edited m.py: 1 replacement, +1 -1 lines.\n"
        "-    2\t    return a + b\n+    2\t    return b + a"
    )
    assert result.meta["diff"] == (
        "--- a/m.py\n+++ b/m.py\n@@ -1,5 +1,5 @@\n def add(a, b):\n-    return a + b\n"
        "+    return b + a\n \n \n def sub(a, b):"
    )
    assert (result.meta["added"], result.meta["removed"], result.meta["replacements"]) == (1, 1, 1)


async def test_keep_editing_without_a_reread(session: Session):
    await read(session, "m.py")
    await session.ok("edit_file", step=2, path="m.py", old_string="a + b", new_string="a+b")
    await session.ok("edit_file", step=3, path="m.py", old_string="a - b", new_string="a-b")
    assert (session.root / "m.py").read_text() == SOURCE.replace(" + ", "+").replace(" - ", "-")
    # after the agent's own writes a re-read returns the new text, not "unchanged"
    again = await session.ok("read_file", step=4, path="m.py")
    assert "     2\t    return a+b" in again.text


async def test_change_on_disk_is_refused_by_mtime_and_size(session: Session):
    await read(session, "m.py", step=2)
    (session.root / "m.py").write_text(SOURCE + "# more\n")
    result = await session.refused(
        "edit_file", "stale", step=3, path="m.py", old_string="a + b", new_string="b + a"
    )
    assert "was modified on disk since you last read or wrote it at step 2" in result.text
    assert "its size went from 66 to 73 bytes)" in result.text
    assert "Read it again with read_file" in result.text
    assert (session.root / "m.py").read_text() == SOURCE + "# more\n"


async def test_same_size_same_mtime_change_is_caught_by_the_hash(session: Session):
    path = session.root / "m.py"
    await read(session, "m.py", step=2)
    before = os.stat(path)
    path.write_text(SOURCE.replace("add", "mul"))  # same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    result = await session.refused(
        "edit_file", "stale", step=3, path="m.py", old_string="a + b", new_string="b + a"
    )
    assert "same size and modification time, but its content hash differs" in result.text
    assert path.read_text() == SOURCE.replace("add", "mul")


async def test_touch_without_change_is_fine(session: Session):
    path = session.root / "m.py"
    await read(session, "m.py")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    await session.ok("edit_file", step=2, path="m.py", old_string="a + b", new_string="b + a")
    assert "b + a" in path.read_text()


async def test_a_reread_after_an_outside_change_allows_the_edit(session: Session):
    path = session.root / "m.py"
    await read(session, "m.py")
    path.write_text(SOURCE + "x = 1\n")
    await session.refused("edit_file", "stale", path="m.py", old_string="x = 1", new_string="y")
    await session.ok("read_file", step=2, path="m.py")
    await session.ok("edit_file", step=3, path="m.py", old_string="x = 1", new_string="x = 2")
    assert path.read_text().endswith("x = 2\n")


async def test_deleted_file(session: Session):
    await read(session, "m.py")
    (session.root / "m.py").unlink()
    result = await session.refused(
        "edit_file", "not_found", path="m.py", old_string="a", new_string="b"
    )
    assert "To create it, use write_file" in result.text


async def test_no_match_shows_whitespace_tolerant_candidates(session: Session):
    await read(session, "m.py")
    result = await session.refused(
        "edit_file",
        "no_match",
        path="m.py",
        old_string="def sub(a,  b):\n  return a - b",
        new_string="x",
    )
    assert result.text == (
        "[no_match] old_string was not found in m.py. It must match the file exactly, "
        "whitespace and indentation included. The closest candidates:\n"
        "lines 5-6 (same text, different whitespace or indentation):\n"
        "     5\tdef sub(a, b):\n"
        "     6\t    return a - b"
    )


async def test_no_match_shows_similar_lines_with_numbers(session: Session):
    await read(session, "m.py")
    result = await session.refused(
        "edit_file", "no_match", path="m.py", old_string="    return a * b", new_string="x"
    )
    assert "The closest candidates:\nline 2 (" in result.text
    assert "% similar):\n     2\t    return a + b" in result.text


async def test_no_match_notices_line_number_prefixes(session: Session):
    await read(session, "m.py")
    result = await session.refused(
        "edit_file", "no_match", path="m.py", old_string="     2\t    return a + b", new_string="x"
    )
    assert "seems to include read_file's line-number prefixes" in result.text


async def test_no_match_with_nothing_similar(session: Session):
    await read(session, "m.py")
    result = await session.refused(
        "edit_file", "no_match", path="m.py", old_string="zzzz qqqq", new_string="x"
    )
    assert result.text.endswith(
        "Nothing similar was found; read the file again to see its content."
    )


async def test_several_matches_give_their_line_numbers(session: Session):
    await read(session, "m.py")
    result = await session.refused(
        "edit_file", "ambiguous", path="m.py", old_string="(a, b)", new_string="(x, y)"
    )
    assert "occurs 2 times in m.py (at lines 1, 5)" in result.text
    assert "set replace_all to true" in result.text
    assert (session.root / "m.py").read_text() == SOURCE


async def test_replace_all(session: Session):
    await read(session, "m.py")
    result = await session.ok(
        "edit_file", path="m.py", old_string="(a, b)", new_string="(x, y)", replace_all=True
    )
    assert (session.root / "m.py").read_text() == SOURCE.replace("(a, b)", "(x, y)")
    assert result.meta["replacements"] == 2
    assert result.text.startswith("Edited m.py: 2 replacements, +2 -2 lines.")


async def test_identical_strings_and_empty_old_string(session: Session):
    await read(session, "m.py")
    await session.refused("edit_file", "no_change", path="m.py", old_string="a", new_string="a")
    result = await session.refused(
        "edit_file", "bad_argument", path="m.py", old_string="", new_string="x"
    )
    assert "use write_file" in result.text


async def test_empty_old_string_creates_a_missing_file(session: Session):
    result = await session.ok("edit_file", path="new/n.py", old_string="", new_string="x = 1\n")
    assert (session.root / "new" / "n.py").read_text() == "x = 1\n"
    assert result.text == "Created new/n.py (1 line, 6 bytes)."


async def test_empty_old_string_fills_an_empty_file(session: Session):
    await read(session, "e.txt", b"")
    await session.ok("edit_file", path="e.txt", old_string="", new_string="hello\n")
    assert (session.root / "e.txt").read_text() == "hello\n"


async def test_edit_keeps_crlf_bom_encoding_and_mode(session: Session):
    path = session.root / "w.txt"
    data = b"\xff\xfe" + "caf\u00e9\r\nline two\r\nend".encode("utf-16-le")
    path.write_bytes(data)
    path.chmod(0o751)
    await session.ok("read_file", path="w.txt")
    await session.ok(
        "edit_file", step=2, path="w.txt", old_string="line two", new_string="line 2\nline 2b"
    )
    expected = b"\xff\xfe" + "caf\u00e9\r\nline 2\r\nline 2b\r\nend".encode("utf-16-le")
    assert path.read_bytes() == expected
    assert os.stat(path).st_mode & 0o7777 == 0o751


async def test_old_string_with_crlf_still_matches_a_crlf_file(session: Session):
    await read(session, "w.txt", b"a\r\nb\r\nc\r\n")
    await session.ok("edit_file", path="w.txt", old_string="a\r\nb", new_string="A\r\nB")
    assert (session.root / "w.txt").read_bytes() == b"A\r\nB\r\nc\r\n"


async def test_latin1_file_refuses_characters_it_cannot_store(session: Session):
    await read(session, "l.txt", "caf\u00e9\n".encode("latin-1"))
    result = await session.refused(
        "edit_file", "encoding", path="l.txt", old_string="caf", new_string="\u20ac"
    )
    assert "Latin-1, which cannot store '€' (U+20AC)" in result.text
    await session.ok("edit_file", path="l.txt", old_string="caf", new_string="th\u00e9 ")
    assert (session.root / "l.txt").read_bytes() == "th\u00e9 \u00e9\n".encode("latin-1")


async def test_binary_file_cannot_be_edited(session: Session):
    (session.root / "b.bin").write_bytes(b"\x00\x01\x02")
    await session.refused("read_file", "binary", path="b.bin")
    await session.refused("edit_file", "not_read", path="b.bin", old_string="a", new_string="b")


async def test_image_read_does_not_make_it_editable_as_text(session: Session):
    (session.root / "i.png").write_bytes(PNG)
    await session.ok("read_file", path="i.png")
    result = await session.refused(
        "edit_file", "binary", path="i.png", old_string="PNG", new_string="GIF"
    )
    assert "binary file" in result.text


async def test_multi_edit_applies_in_order(session: Session):
    await read(session, "m.py")
    result = await session.ok(
        "multi_edit",
        path="m.py",
        edits=[
            {"old_string": "def add", "new_string": "def plus"},
            {"old_string": "def plus(a, b)", "new_string": "def plus(a, b, c=0)"},
            {"old_string": "return", "new_string": "return  ", "replace_all": True},
        ],
    )
    text = (session.root / "m.py").read_text()
    assert text.startswith("def plus(a, b, c=0):\n    return   a + b\n")
    assert text.endswith("    return   a - b\n")
    assert result.text.startswith("Edited m.py: 3 edits, 4 replacements, +3 -3 lines.")


async def test_multi_edit_is_all_or_nothing(session: Session):
    await read(session, "m.py")
    result = await session.refused(
        "multi_edit",
        "ambiguous",
        path="m.py",
        edits=[
            {"old_string": "def add", "new_string": "def plus"},
            {"old_string": "(a, b)", "new_string": "(x, y)"},
        ],
    )
    assert result.text.startswith("[ambiguous] Edit 2 of 2: old_string occurs 2 times")
    assert result.text.endswith("No edit was applied.")
    assert (session.root / "m.py").read_text() == SOURCE


async def test_multi_edit_schema_checks_items(session: Session):
    await read(session, "m.py")
    bad = await session.call("multi_edit", path="m.py", edits=[{"old": "a", "new_string": "b"}])
    assert bad.is_error and "unknown argument(s): old" in bad.text
    empty = await session.refused("multi_edit", "bad_argument", path="m.py", edits=[])
    assert "edits is empty" in empty.text


async def test_long_diff_is_compact_for_the_model(session: Session):
    text = "".join(f"row {n}\n" for n in range(200))
    await read(session, "r.txt", text)
    result = await session.ok(
        "edit_file", path="r.txt", old_string="row", new_string="ROW", replace_all=True
    )
    lines = result.text.split("\n")
    assert len(lines) == 1 + 40 + 1
    assert lines[1] == "-    1\trow 0"
    assert lines[-1] == "… (360 more lines)"
    assert result.meta["diff"].count("\n+ROW ") == 200


async def test_another_users_file_keeps_its_owner(session: Session, monkeypatch):
    """Saving by rename makes the new file the writer's; when the file belonged to someone
    else, the owner is put back (effective only for root, tried always)."""
    path = session.root / "theirs.txt"
    await read(session, "theirs.txt", "a\n")
    st = os.stat(path)
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "geteuid", lambda: st.st_uid + 1)
    monkeypatch.setattr(os, "fchown", lambda fd, uid, gid: calls.append((uid, gid)))
    await session.ok("edit_file", step=2, path="theirs.txt", old_string="a", new_string="b")
    assert calls == [(st.st_uid, st.st_gid)]
    assert path.read_text() == "b\n"
