"""`friday -p` end to end: the real command in a subprocess, against the scripted model or
tools/fakellm through the real SDKs. Exit codes, output shapes and the one-line errors
are a public interface."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.fakellm import FakeLLM

RESULT_KEYS = {
    "type", "subtype", "is_error", "result", "stop_reason", "num_turns", "session_id",
    "duration_ms", "total_cost_usd", "usage", "permission_denials",
}  # fmt: skip


def clean_env(workdir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY") and not k.endswith("_BASE_URL") and not k.startswith("FRIDAY")
    }
    env.update(HOME=str(workdir.parent / "home"), XDG_CONFIG_HOME=str(workdir.parent / "home"))
    env.update(extra)
    return env


def script(workdir: Path, turns: list[dict], name: str = "script.json") -> str:
    path = workdir.parent / name
    path.write_text(json.dumps(turns))
    return f"scripted:{path}"


def friday(workdir: Path, *args: str, stdin: bytes | None = b"", env=None, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "friday.cli", *args],
        input=stdin,
        capture_output=True,
        cwd=workdir,
        env=env or clean_env(workdir),
        timeout=timeout,
    )


def one_line_error(proc) -> str:
    err = proc.stderr.decode()
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith("friday: error: ")
    return err


# -- basics ------------------------------------------------------------------------------


def test_version_and_help(workdir: Path):
    proc = friday(workdir, "--version")
    assert proc.returncode == 0 and proc.stdout.decode().strip() == "friday 0.1.0"
    help_text = friday(workdir, "--help").stdout.decode()
    for flag in ("--output-format", "--max-turns", "--fallback-model", "--max-budget-usd", "-C"):
        assert flag in help_text
    assert "75 gave up on a retryable error" in help_text


def test_text_mode_prints_only_the_answer(workdir: Path):
    model = script(workdir, [{"thinking": "hmm", "text": "The answer is 42."}])
    proc = friday(workdir, "-p", "question", "--model", model)
    assert proc.returncode == 0
    assert proc.stdout == b"The answer is 42.\n"
    assert proc.stderr == b""  # stderr is not a terminal: no progress


def test_verbose_shows_progress_on_stderr_only(workdir: Path):
    model = script(workdir, [{"tool_calls": [{"name": "missing_tool"}]}, {"text": "done"}])
    proc = friday(workdir, "-p", "go", "--model", model, "--verbose")
    assert proc.stdout == b"done\n"
    assert "> missing_tool {}" in proc.stderr.decode()
    assert "2 turn(s)" in proc.stderr.decode() and "cost unknown" in proc.stderr.decode()
    assert "\x1b[" not in proc.stderr.decode()


def test_json_output_shape(workdir: Path):
    model = script(
        workdir,
        [{"text": "ok", "usage": {"input_tokens": 7, "output_tokens": 3, "cache_read_tokens": 5}}],
    )
    proc = friday(workdir, "-p", "hi", "--model", model, "--output-format", "json")
    assert proc.returncode == 0
    obj = json.loads(proc.stdout)
    assert set(obj) == RESULT_KEYS
    assert obj["type"] == "result" and obj["subtype"] == "success" and obj["is_error"] is False
    assert obj["result"] == "ok" and obj["num_turns"] == 1 and obj["stop_reason"] == "end_turn"
    assert obj["usage"] == {
        "input_tokens": 7,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 5,
        "output_tokens": 3,
    }
    assert obj["permission_denials"] == []


def test_stream_json_lines(workdir: Path):
    model = script(
        workdir,
        [
            {
                "thinking": "plan",
                "text": "Looking.",
                "tool_calls": [{"id": "t1", "name": "nope", "arguments": {"a": 1}}],
            },
            {"text": "Done."},
        ],
    )
    proc = friday(workdir, "-p", "go", "--model", model, "--output-format", "stream-json")
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    kinds = [(x["type"], x.get("subtype")) for x in lines]
    assert kinds == [
        ("system", "init"),
        ("system", "error"),  # the scripted model's window is unknown: said once
        ("assistant", None),
        ("system", "context_usage"),
        ("user", None),
        ("assistant", None),
        ("system", "context_usage"),
        ("result", "success"),
    ]
    assert "window" in lines[1]["message"] and lines[1]["recoverable"] is True
    messages = [x for x in lines if x["type"] in ("assistant", "user")]
    init = lines[0]
    assert {"session_id", "cwd", "model", "tools", "permission_mode"} <= set(init)
    assert init["cwd"] == str(workdir.resolve())
    content = messages[0]["message"]["content"]
    assert content[0] == {"type": "thinking", "thinking": "plan"}
    assert content[1] == {"type": "text", "text": "Looking."}
    assert content[2] == {"type": "tool_use", "id": "t1", "name": "nope", "input": {"a": 1}}
    result = messages[1]["message"]["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "t1"
    assert result["is_error"] is True and "Unknown tool 'nope'" in result["content"]
    assert len({x["session_id"] for x in lines}) == 1


def test_partial_messages_are_anthropic_raw_stream_events(workdir: Path):
    model = script(
        workdir,
        [
            {"thinking": "hm", "text": "abcdefgh", "chunk_size": 3,
             "tool_calls": [{"id": "c1", "name": "nope", "arguments": {"a": 1}}]},
            {"text": "done"},
        ],
    )  # fmt: skip
    proc = friday(workdir, "-p", "go", "--model", model, "--output-format", "stream-json",
                  "--include-partial-messages")  # fmt: skip
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    first = []
    for x in lines:
        if x["type"] == "assistant":
            break
        if x["type"] == "stream_event":
            first.append(x["event"])
    shape = [(e["type"], e.get("index")) for e in first]
    assert shape == [
        ("message_start", None),
        ("content_block_start", 0), ("content_block_delta", 0), ("content_block_stop", 0),
        ("content_block_start", 1), ("content_block_delta", 1), ("content_block_delta", 1),
        ("content_block_delta", 1), ("content_block_stop", 1),
        ("content_block_start", 2), ("content_block_delta", 2), ("content_block_stop", 2),
        ("message_delta", None), ("message_stop", None),
    ]  # fmt: skip
    texts = [e["delta"]["text"] for e in first if e.get("delta", {}).get("type") == "text_delta"]
    assert texts == ["abc", "def", "gh"]
    tool_start = first[9]["content_block"]
    assert tool_start == {"type": "tool_use", "id": "c1", "name": "nope", "input": {}}
    assert json.loads(first[10]["delta"]["partial_json"]) == {"a": 1}
    assert first[12]["delta"] == {"stop_reason": "tool_use"}


# -- limits and exit codes ------------------------------------------------------------------


def test_max_turns_exit_3(workdir: Path):
    loop = {"tool_calls": [{"name": "nope"}]}
    model = script(workdir, [loop, loop, loop])
    proc = friday(
        workdir, "-p", "go", "--model", model, "--max-turns", "2", "--output-format", "json"
    )
    assert proc.returncode == 3
    obj = json.loads(proc.stdout)
    assert obj["subtype"] == "error_max_turns" and obj["is_error"] and obj["num_turns"] == 2


def test_budget_exit_4(workdir: Path):
    costly = {
        "model": "claude-sonnet-4-5",
        "usage": {"input_tokens": 1_000_000},
        "tool_calls": [{"name": "nope"}],
    }
    model = script(workdir, [costly, costly])
    proc = friday(
        workdir, "-p", "go", "--model", model, "--max-budget-usd", "1", "--output-format", "json"
    )
    assert proc.returncode == 4
    obj = json.loads(proc.stdout)
    assert obj["subtype"] == "error_max_budget_usd"
    assert obj["total_cost_usd"] >= 1


def test_gave_up_on_retryable_error_exit_75(workdir: Path):
    model = script(workdir, [{"status": 429, "message": "slow down"}] * 2)
    proc = friday(workdir, "-p", "go", "--model", model, "--output-format", "stream-json")
    assert proc.returncode == 75
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    retries = [x for x in lines if x.get("subtype") == "api_retry"]
    assert len(retries) == 1 and retries[0]["attempt"] == 1
    assert lines[-1]["type"] == "result" and lines[-1]["is_error"]
    assert "slow down" in lines[-1]["errors"][0]


def test_fallback_model_takes_over(workdir: Path):
    primary = script(workdir, [{"status": 529}] * 2, "primary.json")
    backup = script(workdir, [{"text": "from backup"}], "backup.json")
    proc = friday(
        workdir,
        "-p",
        "go",
        "--model",
        primary,
        "--fallback-model",
        backup,
        "--output-format",
        "stream-json",
    )
    assert proc.returncode == 0
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    fb = [x for x in lines if x.get("subtype") == "fallback"]
    assert fb and fb[0]["to"] == backup
    assert lines[-1]["result"] == "from backup"


def test_empty_model_response_exit_1(workdir: Path):
    proc = friday(workdir, "-p", "go", "--model", script(workdir, [{}]))
    assert proc.returncode == 1
    assert "returned an empty response" in one_line_error(proc)


# -- bad input: exit 2 and one line ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (["-p", ""], b"", "the task is empty"),
        (["-p"], b"", "no task given"),
        (["-p", "x", "--max-turns", "0"], b"", "--max-turns"),
        (["-p", "x", "--model", "antropic:claude"], b"", "did you mean 'anthropic'"),
        (["-p", "x", "--cwd", "/no/such/dir"], b"", "no such directory"),
        (["-p", "explain"], b"\x00\x01\x02binary", "stdin looks binary"),
        (["-p", "explain"], b"\xff\xfe\xfa not utf8", "not UTF-8"),
        (["-p", "x", "--model", "scripted:/no/such/script.json"], b"", "cannot read script"),
    ],
)
def test_bad_input_is_one_line_exit_2(workdir: Path, args, stdin, needle):
    proc = friday(workdir, *args, stdin=stdin)
    assert proc.returncode == 2
    assert needle in proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()
    assert proc.stderr.decode().count("\n") == 1


def test_no_api_key_says_how_to_configure(workdir: Path):
    proc = friday(workdir, "-p", "hi")
    assert proc.returncode == 2
    err = one_line_error(proc)
    assert "ANTHROPIC_API_KEY" in err and "--model" in err


def test_no_key_json_mode_still_prints_a_result(workdir: Path):
    proc = friday(workdir, "-p", "hi", "--output-format", "json")
    assert proc.returncode == 2
    obj = json.loads(proc.stdout)
    assert obj["is_error"] and "ANTHROPIC_API_KEY" in obj["errors"][0]


def test_bad_toml_names_file_and_line(workdir: Path):
    (workdir / ".friday" / "config.toml").write_text('model = "x"\nmax_turns = = 3\n')
    proc = friday(workdir, "-p", "hi", "--model", script(workdir, [{"text": "x"}]))
    assert proc.returncode == 2
    err = one_line_error(proc)
    assert "config.toml:2" in err


def test_huge_stdin_is_refused_without_reading_it_all(workdir: Path):
    model = script(workdir, [{"text": "never"}])
    proc = friday(workdir, "-p", "explain", "--model", model, stdin=b"x" * (50 * 1024 * 1024))
    assert proc.returncode == 2
    assert "stdin is larger than 10 MiB" in one_line_error(proc)


# -- real SDKs against fakellm ---------------------------------------------------------------


def test_stdin_task_and_attached_context_reach_the_model(workdir: Path):
    with FakeLLM([{"text": "one"}, {"text": "two"}]) as srv:
        env = clean_env(workdir, ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=srv.base_url)
        a = friday(workdir, "-p", stdin=b"task from stdin", env=env)
        b = friday(workdir, "-p", "commit message", stdin=b"diff --git a b", env=env)
        assert (a.returncode, a.stdout, b.stdout) == (0, b"one\n", b"two\n")
        first = srv.requests[0].body["messages"][-1]["content"]
        second = srv.requests[1].body["messages"][-1]["content"]
    assert json.dumps(first).count("task from stdin") == 1
    text = "".join(part["text"] for part in second)
    assert text == "commit message\n\n<stdin>\ndiff --git a b\n</stdin>"


@pytest.mark.parametrize(
    ("model", "env_key", "path"),
    [
        ("anthropic:claude-sonnet-4-5", "ANTHROPIC", "/v1/messages"),
        ("openai:gpt-5", "OPENAI", "/v1/responses"),
        ("openai-chat:gpt-4o", "OPENAI", "/v1/chat/completions"),
    ],
)
def test_each_protocol_through_base_url_env(workdir: Path, model, env_key, path):
    turns = [
        {"thinking": "Plan: look first.", "text": "Checking.", "require_api_key": "sk-test",
         "tool_calls": [{"name": "lookup", "arguments": {"q": "x", "n": 2}}]},
        {"text": f"hello via {path}", "usage": {"input_tokens": 40, "output_tokens": 8}},
    ]  # fmt: skip
    with FakeLLM(turns) as srv:
        base = srv.base_url if env_key == "ANTHROPIC" else srv.openai_base_url
        env = clean_env(workdir, **{f"{env_key}_API_KEY": "sk-test", f"{env_key}_BASE_URL": base})
        proc = friday(workdir, "-p", "hi", "--model", model, "--output-format", "stream-json",
                      env=env)  # fmt: skip
        assert [r.path for r in srv.requests] == [path, path]
        second_request = json.dumps(srv.requests[1].body)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""  # no noise from SDK clients closed after the loop ended
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    messages = [x for x in lines if x["type"] in ("assistant", "user")]
    first = messages[0]["message"]["content"]
    # Anthropic-shaped blocks whatever the provider
    assert [b["type"] for b in first] == ["thinking", "text", "tool_use"]
    assert first[0]["thinking"] == "Plan: look first." and first[1]["text"] == "Checking."
    call = first[2]
    assert call["name"] == "lookup" and call["input"] == {"q": "x", "n": 2}
    result = messages[1]["message"]["content"][0]
    assert result["tool_use_id"] == call["id"] and result["is_error"] is True
    assert call["id"] in second_request  # the tool result went back under the call's id
    assert lines[-1]["result"] == f"hello via {path}" and lines[-1]["num_turns"] == 2
    assert lines[-1]["usage"]["output_tokens"] >= 8


def test_bad_key_is_not_retried_and_exits_2(workdir: Path):
    with FakeLLM([{"text": "x", "require_api_key": "right"}] * 3) as srv:
        env = clean_env(workdir, ANTHROPIC_API_KEY="wrong", ANTHROPIC_BASE_URL=srv.base_url)
        proc = friday(workdir, "-p", "hi", env=env)
        assert len(srv.requests) == 1
    assert proc.returncode == 2
    assert "ANTHROPIC_API_KEY" in one_line_error(proc)


def test_unknown_model_is_not_retried_and_exits_2(workdir: Path):
    with FakeLLM([{"status": 404}] * 3) as srv:
        env = clean_env(workdir, OPENAI_API_KEY="k", OPENAI_BASE_URL=srv.openai_base_url)
        proc = friday(workdir, "-p", "hi", "--model", "openai-chat:no-such-model", env=env)
        assert len(srv.requests) == 1
    assert proc.returncode == 2
    assert "no-such-model" in one_line_error(proc)


def test_stream_cut_is_retried_without_duplicated_text(workdir: Path):
    turns = [
        {"text": "first attempt text", "chunk_size": 4, "cut_after": 4},
        {"text": "clean answer"},
    ]
    with FakeLLM(turns) as srv:
        env = clean_env(workdir, OPENAI_API_KEY="k", OPENAI_BASE_URL=srv.openai_base_url)
        proc = friday(
            workdir,
            "-p",
            "hi",
            "--model",
            "openai-chat:gpt-4o",
            "--output-format",
            "stream-json",
            env=env,
        )
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert proc.returncode == 0
    subtypes = [x.get("subtype") for x in lines if x["type"] == "system"]
    assert subtypes == ["init", "api_retry", "context_usage"]
    texts = [c["text"] for x in lines if x["type"] == "assistant" for c in x["message"]["content"]]
    assert texts == ["clean answer"]


def test_server_closing_mid_stream_every_time_exits_75(workdir: Path):
    turns = [{"text": "partial", "cut_after": 2}] * 2
    with FakeLLM(turns) as srv:
        env = clean_env(workdir, ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=srv.base_url)
        proc = friday(workdir, "-p", "hi", env=env)
    assert proc.returncode == 75
    one_line_error(proc)


# -- signals -----------------------------------------------------------------------------


def test_progress_goes_to_stderr_when_it_is_a_terminal(workdir: Path):
    import pty

    model = script(workdir, [{"tool_calls": [{"name": "grep_all"}]}, {"text": "answer"}])
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "friday.cli", "-p", "go", "--model", model],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
            cwd=workdir, env=clean_env(workdir), timeout=60,
        )  # fmt: skip
        os.close(slave)
        err = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(master)
    assert proc.returncode == 0 and proc.stdout == b"answer\n"
    assert b"> grep_all {}" in err and b"2 turn(s)" in err


def test_cwd_and_append_system_prompt_reach_the_model(workdir: Path, tmp_path: Path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "AGENTS.md").write_text("Always answer in French.")
    with FakeLLM([{"text": "ok"}]) as srv:
        env = clean_env(workdir, ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=srv.base_url)
        proc = friday(workdir, "-p", "hi", "-C", str(other), "--append-system-prompt",
                      "Be terse.", env=env)  # fmt: skip
        system = srv.requests[0].body["system"][0]["text"]
    assert proc.returncode == 0
    assert f"Working directory: {other.resolve()}" in system
    assert "Always answer in French." in system
    assert system.rstrip().endswith("Be terse.")


def test_a_typo_in_a_script_is_refused_at_load(workdir: Path):
    proc = friday(workdir, "-p", "x", "--model", script(workdir, [{"txt": "hi"}]))
    assert proc.returncode == 2
    assert "turn 1: unknown key 'txt' (did you mean 'text'?)" in one_line_error(proc)


def test_a_page_that_is_not_an_event_stream_is_a_config_error(workdir: Path):
    page = {"raw_body": "<html>proxy login</html>", "content_type": "text/html"}
    with FakeLLM([page] * 4) as srv:
        env = clean_env(workdir, OPENAI_API_KEY="k", OPENAI_BASE_URL=srv.openai_base_url)
        proc = friday(workdir, "-p", "hi", "--model", "openai-chat:gpt-4o", env=env)
        assert len(srv.requests) == 1  # not retried
    assert proc.returncode == 2
    err = one_line_error(proc)
    assert "text/html" in err and "OPENAI_BASE_URL" in err
