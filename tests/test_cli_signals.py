"""Signals and odd stdio around `friday -p`: SIGINT/SIGTERM before, during and after a
run, a reader closing stdout, an open but silent stdin, a closed stdin. Each ends with
the documented exit code and, in the machine formats, a result object."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_cli import clean_env, script


def wait_for_handler(pid: int, sig: signal.Signals, timeout: float = 30) -> None:
    """Wait until the process catches `sig` (Linux: SigCgt in /proc/PID/status), so a
    test's signal is not sent while the interpreter is still starting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:") and int(line.split()[1], 16) >> (sig - 1) & 1:
                return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} never installed a {sig.name} handler")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_run_ends_cleanly_with_result(workdir: Path, sig, code):
    model = script(workdir, [{"text": "x" * 2000, "chunk_size": 10, "chunk_delay": 0.05}])
    proc = subprocess.Popen(
        [sys.executable, "-m", "friday.cli", "-p", "go", "--model", model,
         "--output-format", "stream-json", "--include-partial-messages"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=workdir, env=clean_env(workdir),
    )  # fmt: skip
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen.append(json.loads(line))
        if seen[-1]["type"] == "stream_event":
            break
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    lines = seen + [json.loads(x) for x in out.decode().splitlines()]
    assert proc.returncode == code
    interrupt = [x for x in lines if x.get("subtype") == "interrupt"]
    assert interrupt and interrupt[0]["reason"] == sig.name
    assert lines[-1]["type"] == "result" and lines[-1]["stop_reason"] == "interrupted"
    assert lines[-1]["result"].startswith("x") and len(lines[-1]["result"]) < 2000


def test_reader_closing_stdout_stops_the_run_quietly(workdir: Path):
    model = script(workdir, [{"text": "x" * 4000, "chunk_size": 10, "chunk_delay": 0.05}])
    proc = subprocess.Popen(
        [sys.executable, "-m", "friday.cli", "-p", "go", "--model", model,
         "--output-format", "stream-json", "--include-partial-messages"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=workdir, env=clean_env(workdir),
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["subtype"] == "init"
    proc.stdout.close()  # like `| head -1`
    assert proc.wait(timeout=20) == 141  # stopped long before the 20 s the script lasts
    assert proc.stderr.read() == b""


def test_signal_before_the_run_starts_still_prints_a_result(workdir: Path):
    model = script(workdir, [{"text": "never"}])
    proc = subprocess.Popen(  # -p with no task waits for it on stdin, which stays open
        [sys.executable, "-m", "friday.cli", "-p", "--model", model, "--output-format", "json"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=workdir, env=clean_env(workdir),
    )  # fmt: skip
    wait_for_handler(proc.pid, signal.SIGTERM)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143
    obj = json.loads(out)
    assert obj["is_error"] and "SIGTERM" in obj["errors"][0]
    assert b"Traceback" not in err


def test_a_silent_open_stdin_does_not_hang_a_task_given_as_argument(workdir: Path):
    model = script(workdir, [{"text": "went on"}])
    proc = subprocess.Popen(
        [sys.executable, "-m", "friday.cli", "-p", "task", "--model", model],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=workdir, env=clean_env(workdir),
    )  # fmt: skip
    try:
        out = proc.stdout.readline() if proc.stdout else b""  # stdin is never written or closed
        assert out == b"went on\n"
        assert proc.wait(timeout=30) == 0
        assert b"stdin sent nothing" in (proc.stderr.read() if proc.stderr else b"")
    finally:
        proc.kill()


def test_closed_stdin_is_no_stdin(workdir: Path):
    model = script(workdir, [{"text": "fine"}])
    proc = subprocess.run(
        [sys.executable, "-m", "friday.cli", "-p", "task", "--model", model],
        capture_output=True, cwd=workdir, env=clean_env(workdir),
        preexec_fn=lambda: os.close(0), timeout=60,
    )  # fmt: skip
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"fine\n", b"")


def test_sigint_during_a_retry_wait_ends_at_once(workdir: Path):
    model = script(workdir, [{"status": 429, "retry_after": 60}, {"text": "late"}])
    (workdir / ".friday" / "config.toml").write_text("[retry]\nmax_attempts = 3\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "friday.cli", "-p", "go", "--model", model, "--output-format",
         "stream-json"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=workdir, env=clean_env(workdir),
    )  # fmt: skip
    assert proc.stdout is not None
    while json.loads(proc.stdout.readline()).get("subtype") != "api_retry":
        pass
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)  # far less than the 60 s retry-after
    assert proc.returncode == 130
    assert json.loads(out.decode().splitlines()[-1])["stop_reason"] == "interrupted"


def test_text_mode_prints_no_partial_answer_on_interrupt(workdir: Path):
    model = script(workdir, [{"text": "y" * 2000, "chunk_size": 10, "chunk_delay": 0.05}])
    proc = subprocess.Popen(
        [sys.executable, "-m", "friday.cli", "-p", "go", "--model", model],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=workdir, env=clean_env(workdir),
    )  # fmt: skip
    wait_for_handler(proc.pid, signal.SIGTERM)  # installed with friday's SIGINT handler
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and out == b""
    assert err.decode().startswith("friday: error: ")
