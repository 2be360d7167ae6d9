"""read_file: numbered windows, paging, long lines, the read cache's one-line answer,
images, binary files, missing paths and directories, and the encodings it remembers."""

from __future__ import annotations

import base64

from friday.messages import ImageBlock, TextBlock
from friday.tools.files import FileState
from friday.tools.files.read import MAX_OUTPUT_CHARS
from tests.files.conftest import PNG, Session


async def test_numbered_lines_like_cat_n(session: Session):
    (session.root / "a.py").write_text("import os\n\n    x = 1\n")
    result = await session.ok("read_file", path="a.py")
    assert result.text == "     1\timport os\n     2\t\n     3\t    x = 1"
    assert result.meta == {"path": "a.py", "total_lines": 3, "lines": [1, 3], "encoding": "utf-8"}


async def test_last_line_without_newline_is_shown(session: Session):
    (session.root / "a.txt").write_text("one\ntwo")
    result = await session.ok("read_file", path="a.txt")
    assert result.text == "     1\tone\n     2\ttwo"


async def test_default_window_is_2000_lines_with_a_paging_hint(session: Session):
    (session.root / "big.txt").write_text("".join(f"line {n}\n" for n in range(1, 2501)))
    result = await session.ok("read_file", path="big.txt")
    rows = result.text.split("\n\n")[0].split("\n")
    assert len(rows) == 2000
    assert rows[0] == "     1\tline 1" and rows[-1] == "  2000\tline 2000"
    assert result.text.endswith(
        "(Showing lines 1-2000 of 2,500. Call read_file with offset=2001 to read on.)"
    )
    more = await session.ok("read_file", path="big.txt", offset=2001)
    assert more.text.split("\n")[0] == "  2001\tline 2001"
    assert more.text.split("\n")[-1] == "  2500\tline 2500"
    assert "Showing" not in more.text


async def test_offset_and_limit(session: Session):
    (session.root / "f.txt").write_text("a\nb\nc\nd\ne\n")
    result = await session.ok("read_file", path="f.txt", offset=2, limit=2)
    assert result.text.startswith("     2\tb\n     3\tc\n\n(Showing lines 2-3 of 5.")
    assert result.meta["lines"] == [2, 3]
    zero = await session.ok("read_file", path="f.txt", offset=0, limit=1, step=2)
    assert zero.text.startswith("     1\ta\n")


async def test_offset_past_the_end(session: Session):
    (session.root / "f.txt").write_text("a\nb\n")
    result = await session.refused("read_file", "out_of_range", path="f.txt", offset=5)
    assert "has 2 lines, so offset 5 is past its end" in result.text


async def test_bad_limit(session: Session):
    (session.root / "f.txt").write_text("a\n")
    await session.refused("read_file", "bad_argument", path="f.txt", limit=0)
    await session.refused("read_file", "bad_argument", path="f.txt", offset=-3)
    await session.refused("read_file", "bad_argument", path="")


async def test_long_lines_are_cut_with_a_marker(session: Session):
    (session.root / "min.js").write_text("x" * 5000 + "\nshort\n")
    result = await session.ok("read_file", path="min.js")
    first = result.text.split("\n")[0]
    assert first == "     1\t" + "x" * 2000 + " … [line cut: 5,000 characters in all]"
    assert "1 line(s) longer than 2,000 characters were cut" in result.text
    assert "     2\tshort" in result.text


async def test_output_is_capped_and_says_how_to_go_on(session: Session):
    (session.root / "wide.txt").write_text(("y" * 1500 + "\n") * 200)
    result = await session.ok("read_file", path="wide.txt")
    assert len(result.text) < MAX_OUTPUT_CHARS + 300
    last = result.meta["lines"][1]
    assert 50 < last < 200
    assert f"output capped at 100,000 characters. Call read_file with offset={last + 1}" in (
        result.text
    )


async def test_empty_file(session: Session):
    (session.root / "empty.txt").write_bytes(b"")
    result = await session.ok("read_file", path="empty.txt")
    assert result.text == "empty.txt is empty (0 lines)."
    assert session.state.get(str(session.root / "empty.txt")) is not None


async def test_reread_of_unchanged_lines_is_one_line_then_the_text(session: Session):
    (session.root / "m.py").write_text("".join(f"v{n} = {n}\n" for n in range(50)))
    first = await session.ok("read_file", step=3, path="m.py")
    again = await session.ok("read_file", step=5, path="m.py")
    assert again.text == (
        "Unchanged since your read at step 3: lines 1-50 of m.py are exactly as that result "
        "showed them. (If you no longer have that result, call read_file again now and it "
        "returns the text.)"
    )
    assert again.meta["unchanged_since_step"] == 3
    # a later re-read, and one of a sub-range of what was shown, get the note too
    later = await session.ok("read_file", step=9, path="m.py")
    assert later.meta["unchanged_since_step"] == 3
    part = await session.ok("read_file", step=12, path="m.py", offset=10, limit=5)
    assert part.meta["unchanged_since_step"] == 3
    # reading again right after a note (same or next step) returns the text
    third = await session.ok("read_file", step=13, path="m.py")
    assert third.text == first.text and "unchanged_since_step" not in third.meta
    # and that read is now the one a later repeat points at
    fourth = await session.ok("read_file", step=20, path="m.py")
    assert fourth.meta["unchanged_since_step"] == 13


async def test_reread_of_a_range_not_fully_seen_returns_text(session: Session):
    (session.root / "m.txt").write_text("".join(f"{n}\n" for n in range(100)))
    await session.ok("read_file", path="m.txt", offset=1, limit=10)
    wider = await session.ok("read_file", step=2, path="m.txt", offset=5, limit=10)
    assert "unchanged_since_step" not in wider.meta
    assert wider.text.startswith("     5\t4")


async def test_reread_after_an_outside_change_returns_text(session: Session):
    path = session.root / "m.txt"
    path.write_text("one\n")
    await session.ok("read_file", path="m.txt")
    path.write_text("two\n")
    again = await session.ok("read_file", step=2, path="m.txt")
    assert again.text == "     1\ttwo"


async def test_dedupe_can_be_switched_off(ws):
    session = Session(ws, FileState(dedupe_reads=False))
    (ws / "m.txt").write_text("a\n")
    await session.ok("read_file", path="m.txt")
    again = await session.ok("read_file", step=2, path="m.txt")
    assert again.text == "     1\ta"


async def test_forget_reads_makes_the_next_read_return_text(session: Session):
    (session.root / "m.txt").write_text("a\n")
    await session.ok("read_file", path="m.txt")
    session.state.forget_reads()
    again = await session.ok("read_file", step=2, path="m.txt")
    assert again.text == "     1\ta"


async def test_png_becomes_an_image_block(session: Session):
    (session.root / "dot.png").write_bytes(PNG)
    result = await session.ok("read_file", path="dot.png")
    label, image = result.content
    assert label == TextBlock(f"Image dot.png (image/png, {len(PNG)} bytes)")
    assert image == ImageBlock("image/png", base64.b64encode(PNG).decode())
    again = await session.ok("read_file", step=2, path="dot.png")
    assert again.meta["unchanged_since_step"] == 1


async def test_other_image_types_are_recognised(session: Session):
    for name, head, media in [
        ("a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        ("a.gif", b"GIF89a" + b"\x00" * 20, "image/gif"),
        ("a.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "image/webp"),
    ]:
        (session.root / name).write_bytes(head)
        result = await session.ok("read_file", path=name)
        assert result.content[1].media_type == media


async def test_binary_is_refused_with_size_and_type(session: Session):
    (session.root / "lib.so").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 93)
    result = await session.refused("read_file", "binary", path="lib.so")
    assert "lib.so is a binary file (ELF executable, 100 bytes)" in result.text
    (session.root / "blob.dat").write_bytes(bytes(range(256)) * 4)
    blob = await session.refused("read_file", "binary", path="blob.dat")
    assert "1,024 bytes" in blob.text


async def test_missing_path_suggests_the_nearest(session: Session):
    (session.root / "src").mkdir()
    (session.root / "src" / "handler.py").write_text("x\n")
    (session.root / "README.md").write_text("x\n")
    result = await session.refused("read_file", "not_found", path="src/handlr.py")
    assert result.text.startswith("[not_found] src/handlr.py does not exist.")
    assert "Nearest existing paths: src/handler.py" in result.text
    other = await session.refused("read_file", "not_found", path="readme.md")
    assert "README.md" in other.text
    nothing = await session.refused("read_file", "not_found", path="zzz/qqq/www.bin")
    assert "The nearest existing folder is the workspace root." in nothing.text


async def test_directory_answers_with_a_glob_hint(session: Session):
    (session.root / "pkg").mkdir()
    (session.root / "pkg" / "mod.py").write_text("")
    (session.root / "pkg" / "sub").mkdir()
    result = await session.refused("read_file", "is_directory", path="pkg")
    assert 'glob(pattern="*", path="pkg")' in result.text
    assert "It contains: mod.py, sub/." in result.text


async def test_encodings_are_read_and_remembered(session: Session):
    cases = {
        "u8.txt": ("é\n".encode(), "utf-8", b""),
        "bom.txt": (b"\xef\xbb\xbf" + "é\n".encode(), "utf-8", b"\xef\xbb\xbf"),
        "u16le.txt": (b"\xff\xfe" + "é\n".encode("utf-16-le"), "utf-16-le", b"\xff\xfe"),
        "u16be.txt": (b"\xfe\xff" + "é\n".encode("utf-16-be"), "utf-16-be", b"\xfe\xff"),
        "l1.txt": ("é\n".encode("latin-1"), "latin-1", b""),
    }
    for name, (data, codec, bom) in cases.items():
        (session.root / name).write_bytes(data)
        result = await session.ok("read_file", path=name)
        assert result.text == "     1\té", name
        record = session.state.get(str(session.root / name))
        assert (record.encoding, record.bom) == (codec, bom), name


async def test_crlf_is_shown_as_lines_and_remembered(session: Session):
    (session.root / "w.txt").write_bytes(b"a\r\nb\r\n")
    result = await session.ok("read_file", path="w.txt")
    assert result.text == "     1\ta\n     2\tb"
    assert session.state.get(str(session.root / "w.txt")).newline == "\r\n"


async def test_absolute_path_and_reads_outside_the_workspace(session: Session, tmp_path):
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("far\n")
    result = await session.ok("read_file", path=str(outside))
    assert result.text == "     1\tfar"
    assert result.meta["path"] == str(outside.resolve())


async def test_unreadable_file(session: Session, monkeypatch):
    from friday.tools.files import disk

    def denied(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    (session.root / "secret.txt").write_text("x\n")
    monkeypatch.setattr(disk, "open", denied, raising=False)
    result = await session.refused("read_file", "permission", path="secret.txt")
    assert result.text == "[permission] secret.txt: permission denied by the operating system."
