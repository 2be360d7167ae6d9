"""Output: streamed as it arrives (before the command ends, also without a newline),
stdout and stderr in one ordered stream, decoded as UTF-8, capped for the model with the
whole saved to a file, and a trailer saying how the command ended."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from friday.tools.shell.output import HEAD_CHARS, MAX_CHARS, TAIL_CHARS, OutputCapture
from tests.shell.conftest import Shell

# Prints, then waits until the test's emit callback has seen that output: if the output
# were only delivered at the end, the command would wait until its timeout.
WAIT_FOR_GO = 'while [ ! -e "$GO" ]; do sleep 0.01; done'


async def test_output_streams_while_the_command_runs(shell: Shell, tmp_path: Path, monkeypatch):
    go = tmp_path / "go"
    monkeypatch.setenv("GO", str(go))
    seen_while_running: list[str] = []

    def on_emit(text: str) -> None:
        if not go.exists():
            seen_while_running.append(text)
            go.touch()

    result = await shell.call(f"echo first; {WAIT_FOR_GO}; echo second", on_emit, timeout=5)
    assert not result.is_error, result.text
    assert seen_while_running == ["first\n"]
    assert "".join(result.chunks) == "first\nsecond\n"
    assert result.text.startswith("first\nsecond\n[exit code 0 · ")


async def test_output_without_a_newline_streams_too(shell: Shell, tmp_path: Path, monkeypatch):
    go = tmp_path / "go"
    monkeypatch.setenv("GO", str(go))
    result = await shell.call(
        f"printf 'working'; {WAIT_FOR_GO}; printf ' done'",
        lambda text: go.touch() if "working" in text else None,
        timeout=5,
    )
    assert not result.is_error, result.text
    assert result.chunks[0] == "working"
    assert result.text.startswith("working done\n[exit code 0")


async def test_stdout_and_stderr_are_one_stream_in_order(shell: Shell):
    result = await shell.ok("echo one; echo two >&2; echo three; echo four >&2")
    assert result.text.startswith("one\ntwo\nthree\nfour\n[exit code 0 · ")


async def test_exit_codes_are_results_not_errors(shell: Shell):
    result = await shell.call("echo out; exit 7")
    assert not result.is_error
    assert result.text.startswith("out\n[exit code 7 · ")
    assert result.meta["exit_code"] == 7
    assert (await shell.ok("false")).meta["exit_code"] == 1
    assert (await shell.ok("true")).text.startswith("(no output)\n[exit code 0 · ")


async def test_a_shell_killed_by_a_signal_reads_like_bash(shell: Shell):
    result = await shell.ok("kill -KILL $$")
    assert result.meta["exit_code"] == 137
    assert "[exit code 137 (killed by SIGKILL) · " in result.text


async def test_meta_for_the_ui(shell: Shell):
    result = await shell.ok("echo hi", description="Say hi")
    meta = result.meta
    assert meta["description"] == "Say hi"
    assert meta["exit_code"] == 0
    assert isinstance(meta["duration_ms"], int) and meta["duration_ms"] >= 0
    assert (meta["timed_out"], meta["interrupted"], meta["truncated"]) == (False, False, False)
    assert meta["output_file"] is None
    assert meta["cwd"] == str(shell.root)


async def test_invalid_utf8_is_replaced_and_split_characters_survive(shell: Shell):
    result = await shell.ok(r"printf 'caf\xc3\xa9 \xff end\n'")
    assert result.text.startswith("café \ufffd end\n")


async def test_short_output_is_whole_and_saves_no_file(shell: Shell):
    result = await shell.ok(f"head -c {MAX_CHARS} /dev/zero | tr '\\0' x")
    assert result.text.startswith("x" * MAX_CHARS + "\n[exit code 0")
    assert result.meta["truncated"] is False
    assert not shell.session.output_dir.exists()  # created only when needed


async def test_long_output_is_cut_with_the_whole_in_a_file(shell: Shell):
    result = await shell.ok("seq 1 100000")
    full = "".join(f"{n}\n" for n in range(1, 100001))
    text = result.text
    body, trailer = text.rsplit("\n", 1)
    assert trailer.startswith("[exit code 0 · ")
    head, marker, tail = body.split("\n[... ", 1)[0], *body.split("\n[... ", 1)[1].split("\n", 1)
    assert head.startswith("1\n2\n3\n") and len(head) <= HEAD_CHARS
    assert tail.endswith("99999\n100000") and len(tail) <= TAIL_CHARS
    assert len(body) < MAX_CHARS + 300
    head_lines = head.count("\n") + 1
    tail_lines = tail.count("\n") + 1
    cut = 100000 - head_lines - tail_lines
    path = shell.session.output_dir / "call_1.log"
    assert marker == (
        f"{cut:,} lines ({len(full) - len(head) - 1 - len(tail) - 1:,} characters) cut; "
        f"full output: {path} (read it with read_file, offset={head_lines + 1} for the "
        "part cut) ...]"
    )
    assert path.read_text() == full
    assert full.startswith(head + "\n") and full.endswith(tail + "\n")
    assert result.meta["truncated"] is True
    assert result.meta["output_file"] == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "".join(result.chunks) == full  # the UI saw all of it


async def test_the_full_output_is_written_while_the_command_runs(
    shell: Shell, tmp_path: Path, monkeypatch
):
    go = tmp_path / "go"
    monkeypatch.setenv("GO", str(go))
    path = shell.session.output_dir / "call_1.log"
    sizes: list[int] = []
    total = 0

    def on_emit(text: str) -> None:
        nonlocal total
        total += len(text)
        if total > MAX_CHARS and not go.exists():
            sizes.append(path.stat().st_size if path.exists() else -1)
            go.touch()

    cmd = f"head -c 40000 /dev/zero | tr '\\0' y; {WAIT_FOR_GO}; echo; echo end"
    result = await shell.call(cmd, on_emit, timeout=5)
    assert not result.is_error, result.text
    assert sizes and sizes[0] > MAX_CHARS  # on disk before the command ended
    assert path.read_text() == "y" * 40000 + "\nend\n"


async def test_output_files_are_named_by_call_or_counter(tmp_path: Path):
    from friday.tools.shell import ShellSession

    session = ShellSession(tmp_path, tmp_path / "out")
    first, fd1 = session.open_output("toolu_01/../x")
    second, fd2 = session.open_output("")
    third, fd3 = session.open_output("toolu_01/../x")
    for fd in (fd1, fd2, fd3):
        os.close(fd)
    assert first == tmp_path / "out" / "toolu_01_.._x.log"
    assert second == tmp_path / "out" / "bash-2.log"
    assert third == tmp_path / "out" / "toolu_01_.._x-1.log"


def test_memory_stays_bounded_for_huge_output(tmp_path: Path):
    out = tmp_path / "big.log"
    capture = OutputCapture(lambda: (out, os.open(out, os.O_WRONLY | os.O_CREAT, 0o600)))
    line = ("z" * 99 + "\n").encode()
    chunk = line * 655  # 65,500 bytes, as read from the pipe
    peak = 0
    for _ in range(400):  # 26 MB
        capture.feed(chunk)
        peak = max(peak, capture.held_chars)
    capture.finish()
    assert peak <= HEAD_CHARS + TAIL_CHARS + len(chunk)
    assert out.stat().st_size == 400 * len(chunk)
    assert capture.chars == 400 * len(chunk)
    assert "cut; full output:" in capture.text()


def test_a_character_split_across_chunks_is_decoded_whole(tmp_path: Path):
    capture = OutputCapture(lambda: (_ for _ in ()).throw(AssertionError("no file")))
    euro = "€".encode()
    assert capture.feed(b"price " + euro[:1]) == "price "
    assert capture.feed(euro[1:] + b"5") == "€5"
    assert capture.feed(b"\xe2\x82") == ""
    assert capture.finish() == "\ufffd"
    assert capture.text() == "price €5\ufffd"


def test_a_file_that_cannot_be_written_is_reported(tmp_path: Path):
    def refuse() -> tuple[Path, int]:
        raise PermissionError(13, "Permission denied")

    capture = OutputCapture(refuse)
    capture.feed(b"a\n" * MAX_CHARS)
    capture.finish()
    text = capture.text()
    assert "cut; the full output could not be saved: [Errno 13] Permission denied ...]" in text


def test_the_saved_file_stops_at_its_cap_and_the_tail_is_still_the_real_end(
    tmp_path: Path, monkeypatch
):
    from friday.tools.shell import output

    monkeypatch.setattr(output, "MAX_FILE_CHARS", 100_000)
    out = tmp_path / "capped.log"
    capture = OutputCapture(lambda: (out, os.open(out, os.O_WRONLY | os.O_CREAT, 0o600)))
    for i in range(50):
        capture.feed(f"{i:04d}".encode() + b"x" * 9_995 + b"\n")
    capture.finish()
    assert out.stat().st_size == 100_000
    text = capture.text()
    assert "(incomplete: only its first" in text
    assert text.rstrip().endswith("x") and "0049" in text  # the last line is the real end
