"""Bytes to text and back without losing what the file was: its encoding, BOM and line
endings. The model always sees LF text; a write puts back the file's own endings, and
bytes the agent did not change come back exactly as they were.
"""

from __future__ import annotations

from typing import NamedTuple

from friday.tools.files.errors import FileToolError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_LABELS = {"utf-8": "UTF-8", "latin-1": "Latin-1"}

_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x7fELF", "ELF executable"),
    (b"\x1f\x8b", "gzip data"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"7z\xbc\xaf\x27\x1c", "7-zip archive"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\x00asm", "WebAssembly module"),
    (b"\xca\xfe\xba\xbe", "Mach-O or Java class file"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"MZ", "Windows executable"),
    (b"\x00\x00\x01\x00", "Windows icon"),
    (b"BM", "BMP image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"fLaC", "FLAC audio"),
)


class Encoding(NamedTuple):
    """How the file's text is stored: `codec` for the body, `bom` written before it."""

    codec: str
    bom: bytes = b""

    @property
    def label(self) -> str:
        name = _LABELS.get(self.codec, self.codec.upper())
        return f"{name} with BOM" if self.bom else name

    def encode(self, text: str) -> bytes:
        try:
            return self.bom + text.encode(self.codec)
        except UnicodeEncodeError as exc:
            bad = exc.object[exc.start]
            raise FileToolError(
                "encoding",
                f"the file is {self.label}, which cannot store {bad!r} (U+{ord(bad):04X}). "
                f"Use only characters {self.label} can represent, or ask the user to "
                "convert the file to UTF-8.",
            ) from None


UTF8 = Encoding("utf-8")


def image_type(data: bytes) -> str | None:
    """The media type of a PNG, JPEG, GIF or WebP image, from its first bytes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def describe_binary(data: bytes, name: str) -> str:
    """A short human name for the kind of binary file, for the refusal message."""
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            return kind
    import mimetypes

    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "binary data"


def decode(data: bytes) -> tuple[str, Encoding] | None:
    """The text and its encoding, or None when the bytes are not text.

    A BOM decides the encoding; otherwise a NUL byte means binary, valid UTF-8 is UTF-8,
    and anything else is Latin-1 (which maps every byte, so the write back is exact),
    unless control bytes make up a tenth of it.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec), Encoding(codec, bom)
            except UnicodeDecodeError:
                return None
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8"), UTF8
    except UnicodeDecodeError:
        pass
    sample = data[:8192]
    controls = sum(sample.count(bytes([c])) for c in (*range(0, 8), *range(14, 27), 127))
    if controls * 10 > len(sample):
        return None
    return data.decode("latin-1"), Encoding("latin-1")


# -- line endings ---------------------------------------------------------------------------


def lf_view(raw: str) -> str:
    """The text with CRLF as LF. The test for a lone "\\r" comes first: it is a memchr,
    far faster than searching for the pair, and most files have no "\\r" at all."""
    return raw.replace("\r\n", "\n") if "\r" in raw else raw


def newline_style(raw: str) -> str:
    """ "\\n", "\\r\\n" or "mixed" (a file with no line break counts as LF)."""
    if "\r" not in raw:
        return "\n"
    crlf = raw.count("\r\n")
    if not crlf:
        return "\n"
    return "\r\n" if crlf == raw.count("\n") else "mixed"


def dominant_newline(raw: str) -> str:
    crlf = raw.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= raw.count("\n") else "\n"


class NewlineMap:
    """The LF view (`text`) of a file's raw text, with a map from positions in the view
    back to positions in the raw text, so an edit found in the view changes only the
    matching raw characters and leaves every other line ending as it was.

    `style` is "\\n", "\\r\\n" or "mixed". The first two need no map: the view converts
    back exactly (in an all-CRLF file every "\\n" follows a "\\r"), which keeps an edit
    in a large CRLF file to two passes over the text.
    """

    def __init__(self, raw: str, view: str | None = None, style: str | None = None) -> None:
        """`view` and `style`, when the caller knows them, save passes over the text."""
        self.raw = raw
        has_crlf = style in ("\r\n", "mixed") or ("\r" in raw and "\r\n" in raw)
        if view is None:
            view = raw.replace("\r\n", "\n") if has_crlf else raw
        self.text = view
        if style is None:
            pure = has_crlf and len(raw) - len(view) == view.count("\n")
            style = "\r\n" if pure else "mixed" if has_crlf else "\n"
        self.style = style
        self._lf_at: list[int] | None = None

    def to_raw(self, index: int) -> int:
        """Raw position of view position `index` (a view "\\n" maps to its "\\r")."""
        if self.style == "\n":
            return index
        from bisect import bisect_left

        if self._lf_at is None:
            self._lf_at = _view_positions_of_crlf(self.raw)
        return index + bisect_left(self._lf_at, index)

    def ending_at(self, raw_index: int) -> str:
        """The line ending of the raw line holding `raw_index` (for a last line with no
        ending: the one before it; for a one-line file: LF)."""
        if self.style != "mixed":
            return self.style
        raw = self.raw
        nl = raw.find("\n", raw_index)
        if nl == -1:
            nl = raw.rfind("\n", 0, raw_index)
            if nl == -1:
                return "\n"
        return "\r\n" if nl > 0 and raw[nl - 1] == "\r" else "\n"

    def replace(self, spans: list[tuple[int, int]], new: str) -> NewlineMap:
        """The map of the raw text with each view span (start, end) replaced by `new` (LF
        text), written with the line ending of the line where the span starts."""
        if "\r" in new:  # a "\\r" next to a kept "\\n" could pair up: no shortcut
            return NewlineMap(self._splice_raw(spans, new))
        view = _splice(self.text, spans, new)
        if self.style == "\n":
            return NewlineMap(view, view, "\n")
        if self.style == "\r\n":
            return NewlineMap(view.replace("\n", "\r\n"), view, "\r\n")
        return NewlineMap(self._splice_raw(spans, new), view, "mixed")

    def _splice_raw(self, spans: list[tuple[int, int]], new: str) -> str:
        out: list[str] = []
        last = 0
        for start, end in spans:
            raw_start, raw_end = self.to_raw(start), self.to_raw(end)
            ending = self.ending_at(raw_start)
            out.append(self.raw[last:raw_start])
            out.append(new.replace("\n", ending) if ending != "\n" else new)
            last = raw_end
        out.append(self.raw[last:])
        return "".join(out)


def _splice(text: str, spans: list[tuple[int, int]], new: str) -> str:
    out: list[str] = []
    last = 0
    for start, end in spans:
        out += (text[last:start], new)
        last = end
    out.append(text[last:])
    return "".join(out)


def _view_positions_of_crlf(raw: str) -> list[int]:
    """For the k-th "\\r\\n" in `raw`, the position of its "\\n" in the LF view."""
    import re

    return [m.start() - k for k, m in enumerate(re.finditer("\r\n", raw))]


def renewline(old_raw: str, new_text: str) -> str:
    """`new_text` (LF) with the line endings of the file it replaces: all CRLF for a
    CRLF file. For a file that mixes both: with as many lines as before, line k keeps
    the ending of old line k; otherwise a line that stayed (or was rewritten in place)
    keeps its own ending and an added line takes the more common one."""
    style = newline_style(old_raw)
    if style == "\n":
        return new_text
    if style == "\r\n":
        return new_text.replace("\n", "\r\n")
    from difflib import SequenceMatcher

    old_lines, old_ends = _split_endings(old_raw)
    new_lines = new_text.split("\n")
    if len(new_lines) == len(old_lines):  # every old line but the last has an ending
        kept = [line + end for line, end in zip(new_lines, old_ends, strict=False)]
        return "".join(kept) + new_lines[-1]
    fallback = dominant_newline(old_raw)
    ends = [fallback] * (len(new_lines) - 1)
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for k in range(i2 - i1):
                if j1 + k < len(ends) and i1 + k < len(old_ends):
                    ends[j1 + k] = old_ends[i1 + k]
    out = [line + end for line, end in zip(new_lines, ends, strict=False)]
    out.append(new_lines[-1])
    return "".join(out)


def _split_endings(raw: str) -> tuple[list[str], list[str]]:
    """Lines (LF view, as `str.split("\\n")` gives them) and each line's raw ending."""
    lines = lf_view(raw).split("\n")
    ends = ["\r\n" if m == "\r\n" else "\n" for m in _endings(raw)]
    return lines, ends


def _endings(raw: str) -> list[str]:
    import re

    return re.findall(r"\r\n|\n", raw)
