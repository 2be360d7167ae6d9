"""The context manager: what each request carries, and when the history is rewritten.

Between rewrites the history only grows, so every request starts with the bytes of the
one before and the provider's prompt cache serves it. A rewrite happens only when the
next request would pass `compact_at` of the window, decided just before the request and
returned (never applied half-way) to the agent. It comes in two tiers:

- masking, the cheap one: old tool outputs become placeholders naming the file that
  holds them, all that are old enough at once; taken when that alone brings the context
  down to `mask_at`, so no summary is needed yet;
- compaction: the model summarizes (same prefix as the last request, so the cache serves
  that call too), Friday adds the facts it knows for certain (the user's words, files
  changed, the last failure), and the history becomes that summary plus the most recent
  turns verbatim. A summary that fails, is malformed or would not shrink the context
  falls back to masking, and the run goes on.

Masking earlier, at a lower threshold, was measured on real runs (tools/bench/
context_replay.py): each extra rewrite re-writes the cache from its first change on,
and the batches cost more than the smaller requests saved.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from friday.context import mask
from friday.context.offload import OutputStore, cut_text, with_text
from friday.context.tokens import Calibration, TokenCounter
from friday.events import ContextCompacted, ContextMasked, Event
from friday.messages import Msg, TextBlock, ToolResultBlock, ToolUseBlock, Usage
from friday.models.base import Completed, Model, ModelError, Request, ToolSpec

DEFAULT_WINDOW = 32_000  # for a model whose window is unknown: small enough to be safe
KEEP_SHARE = 0.05  # of the window: the most recent turns kept verbatim after a compaction
KEEP_OF_CURRENT = 0.10  # ... and at most this share of the context being compacted
RECENT_SHARE = 0.20  # of the window: the most recent outputs that masking leaves alone
RETRY_GROWTH = 0.05  # of the window: growth after a failed summary before the next try
SUMMARY_MAX_TOKENS = 4_000
MIN_RESULT_CAP = 1_000
QUICK_SHARE = 0.25  # of the window: below it, requests are measured by the character estimate


@dataclass(frozen=True)
class ContextSettings:
    window: int | None = None
    compact_at: float = 0.80
    mask_at: float = 0.40
    result_max_tokens: int = 25_000


@dataclass
class Prepared:
    """What to send: the history and system prompt (the same objects when nothing
    changed) and the events that describe a rewrite, for the agent to emit."""

    history: list[Msg]
    system: str
    events: list[tuple[type[Event], dict[str, Any]]] = field(default_factory=list)
    masked_calls: list[ToolUseBlock] = field(default_factory=list)


class ContextManager:
    def __init__(
        self,
        settings: ContextSettings,
        *,
        store: OutputStore,
        counter: Any = None,
        file_state: Any = None,
        system_prompt: Callable[[], str] | None = None,
        cwd: Path | str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self._counter = counter
        self.file_state = file_state
        self.system_prompt = system_prompt
        self.cwd = str(cwd) if cwd is not None else os.getcwd()
        self.window = settings.window or DEFAULT_WINDOW
        self.window_known = settings.window is not None
        self._calibrations: dict[str, Calibration] = {}  # per counter: each has its own bias
        self._quick: TokenCounter | None = None
        self.saved: dict[str, str] = {}  # tool call id -> file holding its full output
        # (counter name, raw count, calibrated estimate) of the last measured request
        self._last: tuple[str, int, int] = ("", 0, 0)
        self._failed_at: int | None = None  # tokens when the last automatic summary failed

    @property
    def counter(self) -> Any:
        if self._counter is None:
            from friday.context.tokens import get_counter

            self._counter = get_counter()
        return self._counter

    # -- insertion ------------------------------------------------------------------------

    @property
    def result_cap(self) -> int:
        """Tokens one tool result may take: the configured cap, and never more than an
        eighth of the window, so one output cannot fill a small window by itself."""
        return min(self.settings.result_max_tokens, max(MIN_RESULT_CAP, self.window // 8))

    def cap_result(
        self, call: ToolUseBlock, result: ToolResultBlock
    ) -> tuple[ToolResultBlock, dict[str, Any]]:
        """`result` as it enters the history, and meta describing any cut."""
        text = result.text
        cap = self.result_cap
        if len(text) <= cap:  # a token almost never covers less than one character
            return result, {}
        tokens = self.counter.count(text)
        if tokens <= cap:
            return result, {}
        path, error = self._save(call, text)
        earlier = _EARLIER_CUT.search(text)
        original = earlier[1] if earlier else ""
        cut = cut_text(text, max(1, int(len(text) * cap / tokens)), path, error, original)
        meta: dict[str, Any] = {
            "context_cut": True,
            "full_output": path,
            "total_chars": cut.total_chars,
            "kept_chars": cut.kept_chars,
            "total_tokens": tokens,
        }
        return with_text(result, cut.text), meta

    def _save(self, call: ToolUseBlock, text: str) -> tuple[str | None, str | None]:
        if call.id in self.saved:
            return self.saved[call.id], None
        try:
            path = str(self.store.save(f"{call.name}-{call.id}", text))
        except OSError as exc:
            return None, exc.strerror or str(exc)
        self.saved[call.id] = path
        return path, None

    # -- accounting -----------------------------------------------------------------------

    def measure(self, system: str, tools: Sequence[ToolSpec], messages: Sequence[Msg]) -> int:
        """The calibrated estimate of a request's input tokens. While a request is far
        below every threshold, the character estimate is enough and the tokenizer (a
        third of a second to load) is not loaded: a short `friday -p` never pays for it."""
        counter = self._counter
        if counter is None:
            quick = self._quick_counter()
            raw = quick.request(system, tools, messages)
            estimate = self._calibration(quick.name).adjust(raw)
            if estimate < QUICK_SHARE * self.window:
                self._last = (quick.name, raw, estimate)
                return estimate
            counter = self.counter
        raw = counter.request(system, tools, messages)
        estimate = self._calibration(counter.name).adjust(raw)
        self._last = (counter.name, raw, estimate)
        return estimate

    def _quick_counter(self) -> TokenCounter:
        if self._quick is None:
            self._quick = TokenCounter()  # no encoding: the character estimate
        return self._quick

    def _calibration(self, name: str) -> Calibration:
        if name not in self._calibrations:
            self._calibrations[name] = Calibration()
        return self._calibrations[name]

    def observe(self, usage: Usage | None) -> dict[str, Any]:
        """The payload of `context.usage` for the request measured last; the provider's
        count, when it gave one, recalibrates later estimates."""
        name, raw, estimate = self._last
        actual = usage.total_input_tokens if usage is not None else 0
        if actual > 0 and raw > 0:
            self._calibration(name).observe(raw, actual)
        return {
            "estimated_input_tokens": estimate,
            "input_tokens": actual or None,
            "cached_tokens": usage.cache_read_tokens if usage is not None else 0,
            "cache_write_tokens": usage.cache_creation_tokens if usage is not None else 0,
            "window": self.window,
            "window_known": self.window_known,
            "fill": round((actual or estimate) / self.window, 4),
            "counter": name or "none",
        }

    # -- before each request ------------------------------------------------------------

    async def prepare(
        self,
        history: list[Msg],
        system: str,
        tools: tuple[ToolSpec, ...],
        model: Model,
        *,
        focus: str | None = None,
        force: bool = False,
    ) -> Prepared:
        """The history to send. `force` compacts now (the manual `/compact`). Nothing is
        changed in the read cache before the summary is in hand, so a cancelled prepare
        leaves everything as it was (it may have saved outputs to files, which is harmless)."""
        prepared = await self._prepare(history, system, tools, model, focus, force)
        self._forget_reads(prepared.masked_calls)
        return prepared

    async def _prepare(
        self,
        history: list[Msg],
        system: str,
        tools: tuple[ToolSpec, ...],
        model: Model,
        focus: str | None,
        force: bool,
    ) -> Prepared:
        before = self.measure(system, tools, history)
        if not force:
            if before <= self.settings.compact_at * self.window:
                return Prepared(history, system)
            # The cheap tier first: masking old outputs is taken instead of a compaction
            # when it brings the context down to `mask_at`; it rewrites the history (and
            # costs the cache) no more than the compaction would have.
            masked = self._mask(history, system, tools, before, self._recent_start(history))
            if masked is not None:
                after = masked.events[0][1]["tokens_after"]
                if after <= self.settings.mask_at * self.window:
                    return masked
            if self._waiting_after_failure(before):
                return Prepared(history, system)
        trigger = "manual" if force else "auto"
        return await self._compact(history, system, tools, model, before, focus, trigger)

    def _waiting_after_failure(self, tokens: int) -> bool:
        """After a failed summary, the next attempt waits until the context has grown by
        RETRY_GROWTH of the window: a failing summarizer is not called on every turn."""
        return self._failed_at is not None and tokens < self._failed_at + RETRY_GROWTH * self.window

    # -- masking ------------------------------------------------------------------------

    def _recent_start(self, history: Sequence[Msg]) -> int:
        """The index from which outputs are recent enough to stay unmasked."""
        budget = RECENT_SHARE * self.window
        total = 0
        for i in range(len(history) - 1, -1, -1):
            total += self.counter.message(history[i])
            if total > budget:
                return i + 1
        return 0

    def _mask(
        self, history: list[Msg], system: str, tools: Sequence[ToolSpec], before: int, upto: int
    ) -> Prepared | None:
        found = mask.targets(history, upto)
        if not found:
            return None
        replacements, ids, paths = {}, [], []
        for target in found:
            call = target.call or ToolUseBlock(target.result.tool_use_id, "tool", {})
            path, _error = self._save(call, target.result.text)
            replacements[(target.msg, target.block)] = mask.placeholder(target, path)
            ids.append(target.result.tool_use_id)
            if path:
                paths.append(path)
        new = mask.apply(history, replacements)
        after = self.measure(system, tools, new)
        payload = {"tokens_before": before, "tokens_after": after, "call_ids": ids, "paths": paths}
        calls = [t.call for t in found if t.call is not None]
        return Prepared(new, system, [(ContextMasked, payload)], calls)

    # -- compaction -----------------------------------------------------------------------

    def _cut(self, history: Sequence[Msg], tokens: int) -> int | None:
        """Where the kept recent turns begin: an assistant message (so a tool call and its
        result are never split), as early as fits in KEEP_SHARE of the window and under a
        third of the context now (a manual compaction of a short history must shrink it
        too), never the first message (something must be left to summarize)."""
        starts = [i for i in range(1, len(history)) if history[i].role == "assistant"]
        if not starts:
            return None
        budget = min(KEEP_SHARE * self.window, KEEP_OF_CURRENT * tokens)
        suffix, total = {}, 0
        for i in range(len(history) - 1, 0, -1):
            total += self.counter.message(history[i])
            suffix[i] = total
        fitting = [i for i in starts if suffix[i] <= budget]
        return fitting[0] if fitting else starts[-1]

    async def _compact(
        self,
        history: list[Msg],
        system: str,
        tools: tuple[ToolSpec, ...],
        model: Model,
        before: int,
        focus: str | None,
        trigger: str,
    ) -> Prepared:
        from friday.context.facts import extract_facts
        from friday.context.summary import SummaryError, parse_summary, render_summary

        cut = self._cut(history, before)
        if cut is None:
            why = "nothing to summarize yet"
            return self._fallback(history, system, tools, before, trigger, focus, why)
        try:
            fields = parse_summary(await self._summarize(history, system, tools, model, focus))
        except (ModelError, SummaryError) as exc:
            return self._fallback(history, system, tools, before, trigger, focus, _reason(exc))
        facts = extract_facts(history, cwd=self.cwd)
        new_system = self.system_prompt() if self.system_prompt is not None else system
        text = render_summary(fields, facts, outputs_dir=str(self.store.directory))
        stored = {"fields": fields, "facts": facts.to_dict()}
        summary_msg = Msg("user", (TextBlock(text),), meta={"summary": stored})
        kept = history[cut:]
        new = [summary_msg, *kept]
        after = self.measure(new_system, tools, new)
        if after >= before:
            why = f"the summary would not shrink the context ({before:,} -> {after:,} tokens)"
            return self._fallback(history, system, tools, before, trigger, focus, why)
        self._forget_files(new)
        self._failed_at = None
        payload = {
            "tokens_before": before,
            "tokens_after": after,
            "summary": stored,
            "method": "summary",
            "trigger": trigger,
            "focus": focus,
            "summary_message": summary_msg,
            "kept_messages": len(kept),
        }
        return Prepared(new, new_system, [(ContextCompacted, payload)])

    async def _summarize(
        self,
        history: Sequence[Msg],
        system: str,
        tools: tuple[ToolSpec, ...],
        model: Model,
        focus: str | None,
    ) -> str:
        """One call with the same prefix as the last request plus the instruction. When
        even that would not fit, the old outputs are masked in the copy sent."""
        from friday.context.summary import summary_instruction

        messages = list(history)
        ask = Msg.user(summary_instruction(focus))
        if self.counter.request(system, tools, [*messages, ask]) > 0.9 * self.window:
            masked = self._mask(messages, system, tools, 0, len(messages))
            if masked is not None:
                messages = masked.history
        request = Request(
            system=system,
            messages=(*messages, ask),
            tools=tools,
            max_tokens=SUMMARY_MAX_TOKENS,
        )
        reply = None
        async for event in model.stream(request):
            if isinstance(event, Completed):
                reply = event.message
        if reply is None or not reply.text.strip():
            raise ModelError("empty_response", "the summarizing call returned no text")
        return reply.text

    def _fallback(
        self,
        history: list[Msg],
        system: str,
        tools: Sequence[ToolSpec],
        before: int,
        trigger: str,
        focus: str | None,
        error: str,
    ) -> Prepared:
        """Deterministic masking of every output outside the recent turns, reported as the
        compaction it replaces."""
        if trigger == "auto":
            self._failed_at = before
        masked = self._mask(history, system, tools, before, self._recent_start(history))
        new = masked.history if masked is not None else history
        ids = masked.events[0][1]["call_ids"] if masked is not None else []
        payload = {
            "tokens_before": before,
            "tokens_after": self.measure(system, tools, new),
            "summary": {},
            "method": "masking",
            "trigger": trigger,
            "focus": focus,
            "error": error,
            "masked_call_ids": ids,
        }
        calls = masked.masked_calls if masked is not None else []
        return Prepared(new, system, [(ContextCompacted, payload)], calls)

    # -- the read cache -------------------------------------------------------------------

    def _resolve(self, call: ToolUseBlock) -> str | None:
        path = call.input.get("path") if isinstance(call.input, dict) else None
        if not isinstance(path, str) or not path:
            return None
        return os.path.realpath(os.path.join(self.cwd, os.path.expanduser(path)))

    def _forget_reads(self, calls: Sequence[ToolUseBlock]) -> None:
        """Masked read results: the next read of those files returns the text again."""
        if self.file_state is None:
            return
        for call in calls:
            if call.name == "read_file" and (path := self._resolve(call)) is not None:
                self.file_state.forget_reads(path)

    def _forget_files(self, history: Sequence[Msg]) -> None:
        """After a compaction, a file may be edited only if its text is still in context:
        a read_file or write_file result that survived, not masked."""
        if self.file_state is None:
            return
        shown: set[str] = set()
        results = {
            b.tool_use_id: b for m in history for b in m.content if isinstance(b, ToolResultBlock)
        }
        for call in mask.calls_by_id(history).values():
            result = results.get(call.id)
            if call.name not in ("read_file", "write_file") or result is None:
                continue
            if result.is_error or mask.is_masked(result):
                continue
            if (path := self._resolve(call)) is not None:
                shown.add(path)
        for path in self.file_state.paths():
            if path not in shown:
                self.file_state.forget(path)


# The shell tool's own marker when it already cut an output: "full output: PATH (read it".
_EARLIER_CUT = re.compile(r"^\[\.\.\. .*?full output: (.+?) \((?:incomplete|read it)", re.M)


def _reason(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"the summary failed: {message}"
