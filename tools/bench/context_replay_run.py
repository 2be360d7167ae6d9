"""The two replays of a trajectory (raw append-only, and through Friday's context manager),
each request serialized as the Anthropic adapter sends it, and the check that every output
Friday cut or masked comes back whole through read_file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from friday.messages import Msg
from friday.models.base import Request, ToolSpec
from tools.bench.context_replay_trajectory import Facts, Trajectory

MODEL_ID = "claude-sonnet-4-5"
# The order Anthropic's prompt cache reads a request: per model, then tools, system and
# messages. max_tokens and stream are not part of the cached prefix, so they go last
# (a summarizing call asks for fewer output tokens; it still reads the cache).
KEY_ORDER = ("model", "tools", "system", "messages")
CACHE_READ, CACHE_WRITE = 0.1, 1.25
SUMMARY = {
    "goal": "Fix the bug described in the task so that the reported behaviour is correct, "
    "and keep every existing test passing.",
    "state": "The relevant module has been located and read; a reproduction script exists "
    "and shows the failure. A first change to the source is in place and is being checked "
    "against the reproduction and the project's own test suite.",
    "findings": [
        "The failure comes from the code path named in the task, not from the caller.",
        "The reproduction script prints the wrong result before the change.",
        "Existing tests in the same package cover the neighbouring behaviour and must "
        "keep passing after the fix.",
        "Edits so far are small and local; no public signature has changed.",
    ],
    "next_steps": [
        "Run the reproduction script again and compare its output with the expected one.",
        "Run the tests of the affected package and read any failure in full.",
        "Add or adjust a regression test that fails without the change.",
        "Review the final diff for stray debug output and temporary files.",
    ],
    "open_questions": [
        "Whether other callers rely on the old behaviour.",
        "Whether the documentation mentions the behaviour that changes.",
    ],
}


def serialize(request: Request) -> tuple[bytes, str]:
    """The request as the Anthropic adapter sends it, keys in the order the provider's
    cache reads them; and its decoded text (everything the model reads) for the facts."""
    from friday.models.anthropic import build_params

    params = build_params(request, MODEL_ID)
    ordered = {k: params[k] for k in KEY_ORDER if k in params}
    ordered.update((k, v) for k, v in params.items() if k not in ordered)
    body = json.dumps(ordered, ensure_ascii=False, separators=(",", ":"))
    texts = [s["text"] for s in params.get("system", [])]
    for message in params["messages"]:
        for block in message["content"]:
            texts += _block_texts(block)
    return body.encode("utf-8", "replace"), "\n".join(texts)


def _block_texts(block: dict[str, Any]) -> list[str]:
    if block["type"] == "tool_use":
        return [v if isinstance(v, str) else json.dumps(v) for v in block["input"].values()]
    content = block.get("content", block.get("text", ""))
    if isinstance(content, list):
        return [b.get("text", "") for b in content]
    return [content]


def common_prefix(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix, compared a block at a time."""
    n, lo, step = min(len(a), len(b)), 0, 1 << 16
    while lo < n and a[lo : lo + step] == b[lo : lo + step]:
        lo += step
    hi = min(n, lo + step)
    while lo < hi:  # the first difference is in [lo, hi)
        mid = (lo + hi) // 2
        if a[lo : mid + 1] == b[lo : mid + 1]:
            lo = mid + 1
        else:
            hi = mid
    return min(lo, n)


@dataclass
class Series:
    """The requests of one path: tokens, prefix ratios, cache-priced cost."""

    tokens: list[int] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)  # LCP / previous size, from the 2nd
    cost: float = 0.0
    written: float = 0.0  # tokens not read from the cache (written at 1.25x)
    last: bytes = b""

    def add(self, body: bytes, tokens: int) -> int:
        """Account one request; returns its common prefix with the previous one (bytes)."""
        lcp = common_prefix(self.last, body) if self.tokens else 0
        if self.tokens:
            self.ratios.append(lcp / len(self.last) if self.last else 0.0)
        cached = tokens * lcp / len(body) if body else 0.0
        self.cost += cached * CACHE_READ + (tokens - cached) * CACHE_WRITE
        self.written += tokens - cached
        self.tokens.append(tokens)
        self.last = body
        return lcp

    def stability(self) -> float:
        return sum(self.ratios) / len(self.ratios) if self.ratios else 1.0


# -- the replay ----------------------------------------------------------------------------


def tool_specs(scratch: Path) -> tuple[ToolSpec, ...]:
    """Friday's real tools (files, search, bash), in the registry's stable order."""
    from friday.tools.base import ToolRegistry
    from friday.tools.files import FILE_TOOLS
    from friday.tools.search import SEARCH_TOOLS
    from friday.tools.shell import make_shell_tool
    from friday.tools.shell.session import ShellSession

    shell = make_shell_tool(ShellSession(scratch, scratch / "out"))
    return ToolRegistry([*FILE_TOOLS, *SEARCH_TOOLS, shell]).specs()


class Dumper:
    """Writes each request as DIR/<n>.json (n from 1) and, at the end, DIR/index.json
    saying which were summarizing calls; does nothing without a folder."""

    def __init__(self, folder: Path | None) -> None:
        self.folder, self.n = folder, 0
        self.index: list[dict[str, Any]] = []
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def write(self, body: bytes, kind: str, tokens: int, lcp: int) -> None:
        self.n += 1
        entry = {"n": self.n, "kind": kind, "tokens": tokens, "bytes": len(body), "lcp": lcp}
        self.index.append(entry)
        if self.folder is not None:
            (self.folder / f"{self.n}.json").write_bytes(body)

    def close(self) -> None:
        if self.folder is not None:
            (self.folder / "index.json").write_text(json.dumps(self.index, indent=1) + "\n")


def replay_raw(traj: Trajectory, tools: tuple[ToolSpec, ...], dump: Path | None) -> Series:
    from friday.context.tokens import get_counter

    counter, series, dumper = get_counter(), Series(), Dumper(dump)
    history: list[Msg] = []
    for item in traj.items:
        if item.kind == "call":
            request = Request(system=traj.system, messages=tuple(history), tools=tools)
            body, _ = serialize(request)
            tokens = counter.request(traj.system, tools, history)
            dumper.write(body, "step", tokens, series.add(body, tokens))
        history.append(item.msg or Msg("user", (item.result,)))
    dumper.close()
    return series


@dataclass
class FridayRun:
    """The Friday path's requests and what the manager did on the way."""

    series: Series = field(default_factory=Series)
    summaries: int = 0
    compactions: int = 0
    summary_compactions: int = 0
    masks: int = 0
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    cut: set[str] = field(default_factory=set)  # call ids whose output was cut at insertion
    masked: set[str] = field(default_factory=set)
    saved: dict[str, str] = field(default_factory=dict)  # call id -> file with the output
    full: dict[str, str] = field(default_factory=dict)  # call id -> the output, whole


async def replay_friday(
    traj: Trajectory,
    tools: tuple[ToolSpec, ...],
    window: int,
    *,
    store: Path,
    workspace: Path,
    dump: Path | None,
) -> FridayRun:
    """Cap each result as it is appended; before each model call let the manager mask or
    compact, send its summarizing calls (to the scripted model) and the step's request."""
    from friday.context.manager import ContextManager, ContextSettings
    from friday.context.offload import OutputStore
    from friday.models.scripted import ScriptedModel
    from friday.tools.files import FileState

    run, dumper, facts = FridayRun(), Dumper(dump), Facts()
    manager = ContextManager(
        ContextSettings(window=window), store=OutputStore(store), file_state=FileState(),
        cwd=workspace,
    )  # fmt: skip
    model = ScriptedModel([{"text": json.dumps(SUMMARY)}] * (2 * len(traj.items) + 8))
    history: list[Msg] = []
    system = traj.system
    for item in traj.items:
        if item.kind == "call":
            sent = len(model.requests)
            prepared = await manager.prepare(history, system, tools, model)
            for request in model.requests[sent:]:
                _send(run, dumper, manager.counter, request, "summary")
            history, system = list(prepared.history), prepared.system
            compacted = _events(run, prepared.events)
            request = Request(system=system, messages=tuple(history), tools=tools)
            text = _send(run, dumper, manager.counter, request, "step")
            if compacted:
                wanted = facts.all()
                run.checked += len(wanted)
                run.missing += [f for f in wanted if f not in text]
        if item.kind == "result":
            assert item.call is not None and item.result is not None
            capped, meta = manager.cap_result(item.call, item.result)
            run.full[item.call.id] = item.result.text
            if meta.get("context_cut"):
                run.cut.add(item.call.id)
            history.append(Msg("user", (capped,)))
        else:
            assert item.msg is not None
            history.append(item.msg)
        facts.see(item)
    dumper.close()
    run.summaries = len(model.requests)
    run.saved = dict(manager.saved)
    return run


def _send(run: FridayRun, dumper: Dumper, counter: Any, request: Request, kind: str) -> str:
    body, text = serialize(request)
    tokens = counter.request(request.system, request.tools, request.messages)
    dumper.write(body, kind, tokens, run.series.add(body, tokens))
    return text


def _events(run: FridayRun, events: list[Any]) -> bool:
    """Count the manager's events and the outputs they masked. True on a compaction."""
    compacted = False
    for cls, payload in events:
        kind = getattr(cls, "type", "")
        if kind == "context.compacted":
            run.compactions += 1
            run.summary_compactions += payload.get("method") == "summary"
            compacted = True
        elif kind == "context.masked":
            run.masks += 1
        run.masked.update(payload.get("call_ids") or payload.get("masked_call_ids") or [])
    return compacted


async def restorable(path: str | None, full: str, workspace: Path) -> bool:
    """True when the file holds exactly the full output and read_file, paged to the end,
    shows every line of it (a line it cuts for length must agree up to the cut)."""
    if not path:
        return False
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            if f.read() != full:
                return False
    except OSError:
        return False
    lines = await read_all(path, workspace)
    return lines is not None and _same_lines(lines, full.replace("\r\n", "\n"))


async def read_all(path: str, workspace: Path) -> list[str] | None:
    """Every line of `path` as read_file shows it, page after page; None on a refusal."""
    from friday.tools.base import ToolContext, ToolError
    from friday.tools.files import FILE_TOOLS, FileState

    read_file = next(t for t in FILE_TOOLS if t.name == "read_file")
    state, lines, offset = FileState(dedupe_reads=False), [], 1
    row = re.compile(r" *(\d+)\t(.*)", re.DOTALL)
    while True:
        ctx = ToolContext(cwd=workspace, file_state=state)
        try:
            out = await read_file.run({"path": path, "offset": offset}, ctx)
        except ToolError:  # not found, binary, out of range
            return None
        if out.is_error or not isinstance(out.content, str):
            return None
        body = out.content.split("\n\n(")[0]  # the rows, without the paging notes
        lines += [m.group(2) for m in map(row.fullmatch, body.split("\n")) if m]
        last, total = ctx.meta.get("lines", [0, 0])[1], ctx.meta.get("total_lines", 0)
        if last >= total:
            return lines
        if last < offset:  # no progress: never loop
            return None
        offset = last + 1


def _same_lines(got: list[str], text: str) -> bool:
    """read_file's lines against `text`; a line it cut must agree up to the cut."""
    want = text.split("\n")
    if want and want[-1] == "":
        want.pop()
    if len(got) != len(want):
        return False
    cut = re.compile(r"(.*) … \[line cut: ([\d,]+) characters in all\]", re.DOTALL)
    for g, w in zip(got, want, strict=True):
        if g == w:
            continue
        m = cut.fullmatch(g)
        if not (m and w.startswith(m.group(1)) and int(m[2].replace(",", "")) == len(w)):
            return False
    return True
