"""tools/bench/context_replay: a recorded run replayed through the context manager. A small
synthetic trajectory in the mini-swe-agent format (an edit, a traceback, a failing test, a
refused two-block answer, one big output) checks the JSON figures against each other and
against the dumped requests; a small window forces compactions whose facts must survive."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, need_shared
from tools.bench import context_replay
from tools.bench.context_replay_run import common_prefix, restorable
from tools.bench.context_replay_trajectory import edited_paths, first_exception, load_trajectory

SCRIPT = REPO / "tools" / "bench" / "context_replay.py"
KEYS = {
    "trajectory", "requests", "cumulative_input_tokens", "raw_cumulative_input_tokens",
    "peak_request_tokens", "prefix_stability", "cost_vs_raw_anthropic", "compactions",
    "facts_checked", "facts_survived", "truncated_outputs", "restorable_outputs",
}  # fmt: skip
TASK = (
    "<pr_description>\nparse_date('2024-02-30') returns March 1st instead of raising "
    "ValueError. Please fix pkg/dates.py so invalid dates raise.\n</pr_description>"
)
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/testbed/repro.py", line 3, in <module>\n'
    "    print(parse_date('2024-02-30'))\n"
    "    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    "ValueError: day is out of range for month: 2024-02-30\n"
)
FAILED = "FAILED tests/test_dates.py::test_invalid_day - AssertionError: assert None"
BIG_LINES = 4_000  # ~150,000 characters: over the 25,000-token cap of a 200K window


def assistant(thought: str, command: str | None) -> dict:
    block = f"\n\n```bash\n{command}\n```" if command is not None else ""
    return {"role": "assistant", "content": f"THOUGHT: {thought}{block}"}


def observation(code: int, output: str) -> dict:
    return {
        "role": "user",
        "content": f"<returncode>{code}</returncode>\n<output>\n{output}</output>",  # as mini
    }


def listing(n: int) -> str:
    return "".join(f"pkg/module_{n}_{i}.py:{i}: def helper_{n}_{i}(value):\n" for i in range(60))


def synthetic(folder: Path, name: str = "demo__demo-1") -> Path:
    big = "".join(f"{i:05d} DEBUG worker-{i % 7} processed item {i * 37 % 1000}\n" for i in
                  range(BIG_LINES))  # fmt: skip
    messages = [
        {"role": "system", "content": "You are a helpful assistant that runs bash commands."},
        {"role": "user", "content": TASK},
        assistant("Look around.", "ls -la"),
        observation(0, "total 8\ndrwxr-xr-x pkg\ndrwxr-xr-x tests\n"),
        assistant("Reproduce.", "cat <<'EOF' > repro.py\nfrom pkg.dates import parse_date\nEOF"),
        observation(0, ""),
        assistant("Run it.", "python repro.py"),
        observation(1, TRACEBACK),
        assistant("Two things.\n```bash\nls\n```\nand", "pwd"),
        {"role": "user", "content": "Please always provide EXACTLY ONE action, found 2."},
        assistant("Read the log.", "cat worker.log"),
        observation(0, big),
        assistant("Fix the check.", "sed -i 's/days + 1/days/' pkg/dates.py"),
        observation(0, ""),
        assistant("Run the tests.", "python -m pytest tests -q"),
        observation(1, f"F.\n{FAILED}\n1 failed, 1 passed in 0.02s\n"),
    ]
    for n in range(24):  # long thoughts: masking outputs alone cannot keep a small window
        thought = f"Search, part {n}. " + f"Helper {n} may call parse_date indirectly. " * 30
        messages += [assistant(thought, f"grep -rn helper_{n} pkg"), observation(0, listing(n))]
    messages += [assistant("Submit.", "git diff"), {"role": "user", "content": "diff --git"}]
    path = folder / f"{name}.traj.json"
    path.write_text(json.dumps({"trajectory_format": "mini-swe-agent-1", "messages": messages}))
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert context_replay.main([*args, "--json"]) == 0
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines()]


def test_json_figures_agree_with_each_other_and_the_dump(tmp_path, capsys):
    traj = synthetic(tmp_path)
    [r] = run_json(capsys, str(traj), "--dump", str(tmp_path / "dump"))
    assert set(r) >= KEYS
    assert r["trajectory"] == "demo__demo-1"
    assert r["raw_requests"] == 32  # one per assistant message
    assert r["requests"] == r["raw_requests"] + r["summary_requests"]
    assert r["compactions"] == 0 and r["facts_checked"] == 0
    # the big output was cut at insertion, so Friday sends less than the raw history
    assert r["cut_outputs"] == 1 == r["truncated_outputs"] == r["restorable_outputs"]
    assert r["cumulative_input_tokens"] < r["raw_cumulative_input_tokens"]
    assert r["peak_request_tokens"] < r["raw_peak_request_tokens"]
    assert 0.99 <= r["prefix_stability"] <= 1
    assert 0 < r["cost_vs_raw_anthropic"] < 1
    folder = tmp_path / "dump" / "demo__demo-1"
    bodies = [(folder / f"{n}.json").read_bytes() for n in range(1, r["requests"] + 1)]
    assert sorted(p.name for p in folder.glob("[0-9]*.json")) == sorted(
        f"{n}.json" for n in range(1, r["requests"] + 1)
    )
    requests = [json.loads(b) for b in bodies]
    assert [list(q)[:4] for q in requests] == [["model", "tools", "system", "messages"]] * len(
        requests
    )
    # prefix stability recomputed from the dumped bytes
    ratios = [common_prefix(a, b) / len(a) for a, b in zip(bodies, bodies[1:], strict=False)]
    assert r["prefix_stability"] == pytest.approx(sum(ratios) / len(ratios), abs=1e-6)
    calls = [m for m in requests[-1]["messages"] if m["role"] == "assistant"]
    assert calls[0]["content"][-1]["input"] == {"command": "ls -la"}
    assert len(list((folder / "raw").glob("[0-9]*.json"))) == r["raw_requests"]
    assert len(list((folder / "outputs").iterdir())) == 1


def test_small_window_compacts_and_keeps_the_facts(tmp_path, capsys):
    traj = synthetic(tmp_path)
    [r] = run_json(capsys, str(traj), "--window", "12000", "--dump", str(tmp_path / "d"))
    assert r["compactions"] >= 1
    assert r["facts_checked"] > 0
    assert r["facts_survived"] == r["facts_checked"], r["facts_missing"]
    assert r["restorable_outputs"] == r["truncated_outputs"] >= 1
    assert r["cumulative_input_tokens"] < r["raw_cumulative_input_tokens"]
    index = json.loads((tmp_path / "d" / "demo__demo-1" / "index.json").read_text())
    assert [e["n"] for e in index] == list(range(1, r["requests"] + 1))
    assert sum(e["kind"] == "summary" for e in index) == r["summary_requests"] >= 1


def test_human_mode_prints_tables_with_targets(tmp_path, capsys):
    one, two = synthetic(tmp_path, "a__a-1"), synthetic(tmp_path, "b__b-2")
    assert context_replay.main([str(one), str(two)]) == 0
    out = capsys.readouterr().out
    assert out.count("prefix stability >= 0.99") == 3  # two trajectories and the total
    assert "total  (window 200,000 tokens)" in out
    assert "PASS" in out and "notes: cost:" in out


def test_malformed_file_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "broken.traj.json"
    bad.write_text('{"messages": [{"role": "system"')
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(synthetic(tmp_path)), str(bad), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and str(bad) in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "content",
    [
        "[1, 2]",
        '{"messages": []}',
        '{"messages": [{"role": "user", "content": "hi"}]}',
        '{"messages": [{"role": "system", "content": "s"}, {"role": "robot", "content": 1}]}',
    ],
)
def test_not_a_trajectory(tmp_path, capsys, content):
    bad = tmp_path / "x.traj.json"
    bad.write_text(content)
    assert context_replay.main([str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "x.traj.json" in captured.err


def test_mapping_to_tool_calls_and_results(tmp_path):
    traj = load_trajectory(synthetic(tmp_path))
    kinds = [item.kind for item in traj.items]
    assert kinds[:9] == ["user", *["call", "result"] * 3, "call", "user"]
    result = traj.items[6].result
    assert result is not None and result.tool_use_id == "call_3"
    assert result.text == TRACEBACK + "[exit code 1 · 0.0 s]"  # the shell tool's form
    refused = traj.items[7].msg
    assert refused is not None and refused.tool_uses == []  # two blocks: mini refused it


@pytest.mark.parametrize(
    ("command", "paths"),
    [
        ("sed -i 's/a/b/' pkg/x.py && cat pkg/x.py", ["pkg/x.py"]),
        ("sed -i.bak -e 's/a/b/' a.py b.py", ["a.py", "b.py"]),
        ("python run.py > /tmp/out.txt 2>&1; echo ok >> ./log.txt", ["/tmp/out.txt", "log.txt"]),
        ("cat <<'EOF' > new.py\nx = '>> not.py'\nEOF\npython new.py", ["new.py"]),
        ("echo hi | tee -a one.txt two.txt >/dev/null", ["one.txt", "two.txt"]),
        ("cp a.py backup/a.py && mv -f tmp.py src/real.py", ["backup/a.py", "src/real.py"]),
        ("grep -rn 'x > y' src | head", []),
        ("echo 'unbalanced", []),
    ],
)
def test_edited_paths(command, paths):
    assert edited_paths(command) == paths


def test_first_exception_is_the_line_ending_the_first_traceback():
    text = "noise\n" + TRACEBACK + "\nDuring handling\n" + TRACEBACK.replace("Value", "Key")
    assert first_exception(text) == "ValueError: day is out of range for month: 2024-02-30"
    assert first_exception("ValueError: not in a traceback") is None
    odd = "Traceback (most recent call last):\n  File x\n<<< not one >>>\n" + TRACEBACK
    assert first_exception(odd) == "ValueError: day is out of range for month: 2024-02-30"


def test_common_prefix():
    a = b"x" * 200_000 + b"abc"
    assert common_prefix(a, a + b"d") == len(a)
    assert common_prefix(a, b"x" * 150_001 + b"y") == 150_001
    assert common_prefix(b"", a) == 0
    assert common_prefix(b"abc", b"abd") == 2


def test_real_trajectory(capsys):
    folder = need_shared("trajectories")
    smallest = min(folder.glob("*.traj.json"), key=lambda p: p.stat().st_size)
    [r] = run_json(capsys, str(smallest))
    assert r["raw_requests"] >= 50
    assert r["prefix_stability"] >= 0.99
    assert r["cumulative_input_tokens"] <= r["raw_cumulative_input_tokens"]
    assert r["restorable_outputs"] == r["truncated_outputs"]


async def test_restorable_needs_the_exact_text_through_read_file(tmp_path):
    text = "short line\n" + "x" * 5_000 + "\nlast line without newline"
    saved = tmp_path / "out.txt"
    saved.write_text(text)
    assert await restorable(str(saved), text, tmp_path)
    assert not await restorable(str(saved), text + "\n", tmp_path)
    assert not await restorable(str(saved), text.replace("x", "y", 1), tmp_path)
    assert not await restorable(None, text, tmp_path)
    binary = tmp_path / "nul.txt"
    binary.write_text("a\x00b" * 1000)  # read_file refuses a binary file
    assert not await restorable(str(binary), "a\x00b" * 1000, tmp_path)


def test_no_trajectories_to_replay(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FRIDAY_SHARED_DIR", str(tmp_path))
    assert context_replay.main(["--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "trajectories" in captured.err
