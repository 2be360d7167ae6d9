"""Tool output at insertion: head + tail with a marker, the full text on disk where
read_file can page it."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from friday.context.offload import OutputStore, cut_text
from friday.messages import ImageBlock, TextBlock, ToolResultBlock, ToolUseBlock
from friday.tools.base import ToolContext
from friday.tools.files import FILE_TOOLS, FileState
from tests.context.helpers import manager

READ = next(t for t in FILE_TOOLS if t.name == "read_file")
BIG = "".join(f"line {i:05d} of the build log\n" for i in range(20_000))


def test_store_writes_private_files_with_unique_names(tmp_path: Path):
    store = OutputStore(tmp_path / "out")
    first = store.save("bash-call/1", "one")
    second = store.save("bash-call/1", "two")
    assert first != second
    assert first.name == "bash-call_1.txt" and second.name == "bash-call_1-1.txt"
    assert first.read_text() == "one" and second.read_text() == "two"
    assert stat.S_IMODE(os.stat(first).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "out").st_mode) == 0o700
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".tmp")]


def test_cut_keeps_head_and_tail_and_says_what_was_cut():
    cut = cut_text(BIG, 3_000, "/x/full.txt")
    assert cut.text.startswith("line 00000")
    assert cut.text.rstrip("\n").endswith("line 19999 of the build log")
    assert len(cut.text) < 3_400
    marker = re.search(
        r"\[\.\.\. ([\d,]+) characters \(([\d,]+) lines\) cut here, of ([\d,]+)", cut.text
    )
    assert marker is not None
    assert int(marker[3].replace(",", "")) == len(BIG)
    assert int(marker[1].replace(",", "")) == len(BIG) - cut.kept_chars
    offset = int(re.search(r"offset=(\d+)", cut.text)[1])
    head_lines = cut.text.split("\n[...")[0].splitlines()
    assert BIG.splitlines()[offset - 1] not in head_lines  # the first line that was cut
    assert BIG.splitlines()[offset - 2] == head_lines[-1]


def test_cut_without_a_file_says_why():
    cut = cut_text(BIG, 3_000, None, "No space left on device")
    assert "could not be saved (No space left on device)" in cut.text
    assert "read_file" not in cut.text


def test_a_short_text_is_not_cut():
    assert cut_text("short\n", 3_000, "/x").text == "short\n"


async def test_cap_result_offloads_the_full_text_and_read_file_pages_it(tmp_path: Path):
    cm = manager(tmp_path, window=200_000, result_max_tokens=2_000)
    call = ToolUseBlock("toolu_1", "bash", {"command": "make"})
    capped, meta = cm.cap_result(call, ToolResultBlock("toolu_1", BIG))
    assert meta["context_cut"] is True and meta["total_chars"] == len(BIG)
    assert len(capped.text) < 2_000 * 4 + 500
    path = Path(meta["full_output"])
    assert path.read_text() == BIG
    assert str(path) in capped.text
    offset = int(re.search(r"offset=(\d+)", capped.text)[1])
    ctx = ToolContext(cwd=tmp_path / "ws", call_id="r1", file_state=FileState())
    (tmp_path / "ws").mkdir()
    page = await READ.run({"path": str(path), "offset": offset, "limit": 3}, ctx)
    assert not page.is_error
    assert BIG.splitlines()[offset - 1] in page.content


def test_a_result_under_the_cap_is_the_same_object(tmp_path: Path):
    cm = manager(tmp_path, window=200_000)
    result = ToolResultBlock("t", "x" * 1_000)
    assert cm.cap_result(ToolUseBlock("t", "bash", {}), result) == (result, {})


def test_the_cap_shrinks_with_a_small_window(tmp_path: Path):
    """One output can never fill a small window by itself: the cap is at most 1/8 of it."""
    cm = manager(tmp_path, window=16_000)
    assert cm.result_cap == 2_000
    capped, meta = cm.cap_result(ToolUseBlock("t", "grep", {}), ToolResultBlock("t", BIG))
    assert meta and len(capped.text) // 4 <= 2_000 + 200


def test_a_mixed_result_keeps_its_images(tmp_path: Path):
    cm = manager(tmp_path, window=16_000)
    image = ImageBlock("image/png", "AAAA")
    result = ToolResultBlock("t", (TextBlock(BIG), image))
    capped, meta = cm.cap_result(ToolUseBlock("t", "screenshot", {}), result)
    assert meta["context_cut"] and image in capped.content
    assert Path(meta["full_output"]).read_text() == BIG


def test_an_unwritable_store_still_cuts_and_says_so(tmp_path: Path):
    blocker = tmp_path / "outputs"
    blocker.write_text("a file where the folder should be")
    cm = manager(tmp_path, window=16_000)
    capped, meta = cm.cap_result(ToolUseBlock("t", "bash", {}), ToolResultBlock("t", BIG))
    assert meta["full_output"] is None
    assert "could not be saved" in capped.text


@pytest.mark.parametrize("error", [True, False])
def test_the_error_flag_survives_the_cut(tmp_path: Path, error: bool):
    cm = manager(tmp_path, window=16_000)
    capped, _ = cm.cap_result(
        ToolUseBlock("t", "bash", {}), ToolResultBlock("t", BIG, is_error=error)
    )
    assert capped.is_error is error
