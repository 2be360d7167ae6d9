"""Writes to one path are serialized (no lost update when edits run side by side), reads
never wait for a writer, and an interrupted write still finishes and is recorded."""

from __future__ import annotations

import asyncio

import pytest

from tests.files.conftest import Session


async def test_concurrent_edits_to_one_file_all_land(session: Session):
    names = [f"slot_{n}" for n in range(20)]
    (session.root / "c.txt").write_text("".join(f"{name} = 0\n" for name in names))
    await session.ok("read_file", path="c.txt")
    results = await asyncio.gather(
        *(
            session.call(
                "edit_file", step=2, path="c.txt", old_string=f"{n} = 0", new_string=f"{n} = 1"
            )
            for n in names
        )
    )
    assert [r.is_error for r in results] == [False] * 20
    assert (session.root / "c.txt").read_text() == "".join(f"{name} = 1\n" for name in names)


async def test_reads_do_not_wait_for_the_write_lock(session: Session):
    (session.root / "r.txt").write_text("x\n")
    lock = session.state.lock(str(session.root / "r.txt"))
    async with lock:
        result = await asyncio.wait_for(session.ok("read_file", path="r.txt"), 10)
    assert result.text == "     1\tx"


async def test_a_write_waits_for_the_lock(session: Session):
    (session.root / "w.txt").write_text("a\n")
    await session.ok("read_file", path="w.txt")
    lock = session.state.lock(str(session.root / "w.txt"))
    await lock.acquire()
    task = asyncio.ensure_future(
        session.call("edit_file", step=2, path="w.txt", old_string="a", new_string="b")
    )
    for _ in range(20):
        await asyncio.sleep(0)
    assert not task.done()
    assert (session.root / "w.txt").read_text() == "a\n"
    lock.release()
    assert not (await task).is_error
    assert (session.root / "w.txt").read_text() == "b\n"


async def test_cancelled_edit_finishes_and_is_recorded(session: Session):
    path = session.root / "big.txt"
    path.write_text("START\n" + "filler line\n" * 200_000)
    await session.ok("read_file", path="big.txt")
    task = asyncio.ensure_future(
        session.call("edit_file", step=2, path="big.txt", old_string="START", new_string="BEGIN")
    )
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    lock = session.state.lock(str(path))
    async with lock:  # released only when the worker thread is done
        pass
    assert path.read_text().startswith("BEGIN\n")
    # the record matches the new content, so editing goes on without a re-read
    await session.ok("edit_file", step=3, path="big.txt", old_string="BEGIN", new_string="GO")
    assert path.read_text().startswith("GO\n")
