"""The vendored DejaVu Sans faces, registered with ReportLab once, and text made drawable in them."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anyascii import anyascii
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# DejaVu Sans 2.37 (see LICENSE.txt): Latin, Greek, Cyrillic and symbols such as ™ × – — ° ★ ☕,
# which the original's built-in Helvetica printed as black boxes (EDR_FORM.md §4).
FONT = "EdrSans"
FONT_BOLD = "EdrSans-Bold"
_FILES = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf"}
_WIDTHS_MEMO_SIZE = 256


class _FormattedOnce(pdfdoc.PDFArray):
    """A numbers-only PDF array (a subset's /Widths) whose bytes are remembered across documents."""

    _memo: dict[tuple[float, ...], bytes] = {}

    def format(self, document: Any, IND: bytes = b"\n ") -> bytes:  # noqa: N803 — ReportLab's name
        key = tuple(self.sequence)
        formatted = self._memo.get(key)
        if formatted is None:
            if len(self._memo) > _WIDTHS_MEMO_SIZE:  # odd characters make one-off subsets
                self._memo.clear()
            formatted = self._memo[key] = super().format(document, IND)
        return formatted


def _reuse_per_document_work(font: TTFont) -> None:
    # ReportLab rebuilds each embedded subset (a TrueType file) and formats its /Widths number by
    # number for every document. Nearly every EDR uses the same ASCII subset, so both are kept:
    # together they were about a third of a one-page render (benchmarks/pdf_render.py).
    make_subset = functools.lru_cache(maxsize=64)(
        lambda subset: font.face.__class__.makeSubset(font.face, list(subset))
    )
    font.face.makeSubset = lambda subset: make_subset(tuple(subset))
    add_objects = font.addObjects

    def add_objects_reusing_widths(doc: Any) -> None:
        add_objects(doc)
        for pdf_font in doc.idToObject["BasicFonts"].dict.values():
            widths = getattr(pdf_font, "Widths", None)
            if type(widths) is pdfdoc.PDFArray:
                pdf_font.Widths = _FormattedOnce(widths.sequence)

    font.addObjects = add_objects_reusing_widths


def _register() -> frozenset[int]:
    """Register both faces (once, at import) and return the code points both can draw."""
    covered = []
    for name, file in _FILES.items():
        font = TTFont(name, str(Path(__file__).with_name(file)))
        _reuse_per_document_work(font)
        pdfmetrics.registerFont(font)
        # Only the Basic Multilingual Plane: ReportLab writes a ToUnicode entry above U+FFFF as
        # "<1F600>" instead of a UTF-16 pair, which readers reject, breaking search and copy.
        covered.append({code for code in font.face.charToGlyph if code <= 0xFFFF})
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT,
                                  boldItalic=FONT_BOLD)
    return frozenset(covered[0] & covered[1])


_DRAWABLE = _register()


def drawable(text: str) -> bool:
    """True when both faces have a glyph for every character of `text`."""
    return all(ord(char) in _DRAWABLE for char in text)


def legible(text: str) -> str:
    """`text` with every character the fonts lack replaced by ASCII or a `[U+XXXX]` token."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(map(_legible_char, unicodedata.normalize("NFC", text)))


@functools.lru_cache(maxsize=4096)
def _legible_char(char: str) -> str:
    if char in "\t\n\r\f\v":
        return " "
    code = ord(char)
    kind = unicodedata.category(char)
    if code in _DRAWABLE and kind[0] != "C":
        return char
    if kind in ("Mn", "Me", "Cf"):
        return ""  # a mark or format character the font cannot place: the base letter remains
    fallback = anyascii(char).strip() if kind not in ("Cs", "Co", "Cn") else ""
    # anyascii spells CJK as syllables ("抹茶" → "MoCha") and emoji as ":grinning:"; anything it
    # cannot spell is shown by code point so a reader can still look it up — never a black box.
    return fallback if fallback and fallback.isprintable() else f"[U+{code:04X}]"


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap of legible `text` into lines no wider than `width` points.

    Runs of whitespace collapse to one space; a word wider than a whole line is cut between
    characters, so nothing ever runs past a cell border.
    """
    def measure(s: str) -> float:
        return pdfmetrics.stringWidth(s, font, size)

    space = measure(" ")
    lines: list[str] = []
    line: list[str] = []
    used = 0.0
    for word in legible(text).split():
        word_width = measure(word)
        if word_width > width:
            if line:
                lines.append(" ".join(line))
                line, used = [], 0.0
            *full, word = _cut(word, measure, width)
            lines += full
            word_width = measure(word)
        if line and used + space + word_width > width:
            lines.append(" ".join(line))
            line, used = [], 0.0
        used += word_width + (space if line else 0.0)
        line.append(word)
    if line:
        lines.append(" ".join(line))
    return lines or [""]


def _cut(word: str, measure: Callable[[str], float], width: float) -> list[str]:
    pieces, piece = [], ""
    for char in word:
        if piece and measure(piece + char) > width:
            pieces.append(piece)
            piece = ""
        piece += char
    return [*pieces, piece]
