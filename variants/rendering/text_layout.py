"""Text overlay layout inside the Reels safe zone, measured with the font's own metrics.

drawtext does not wrap, and a line that overflows runs into Instagram's buttons or off the
frame. So lines are wrapped here with the advance widths read from the TrueType file
(hmtx + cmap, a few dozen lines of struct unpacking rather than a font library), and the
font shrinks until the block fits in the safe zone: clear of the top 14 %, the bottom
35 % and 6 % on each side.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SAFE_TOP = 0.14
SAFE_BOTTOM = 0.35
SAFE_SIDES = 0.06
LINE_HEIGHT = 1.3  # of the font size: ascender + descender of DejaVu is ~1.17 em
BOX_BORDER = 0.22  # of the font size, the padding of the box behind the text
FONT_SIZE_START = 0.064  # of the frame width
FONT_SIZE_MIN = 0.036
MAX_LINES = 6
ELLIPSIS = "…"


class FontMetricsError(ValueError):
    """The font file is not a TrueType font this reader understands."""


@dataclass(frozen=True)
class FontMetrics:
    units_per_em: int
    ascender: int
    descender: int
    advances: dict[int, int]  # code point -> advance width in font units
    default_advance: int

    def text_width(self, text: str, font_size: float) -> float:
        units = sum(self.advances.get(ord(ch), self.default_advance) for ch in text)
        return units * font_size / self.units_per_em

    def missing(self, text: str) -> set[str]:
        return {ch for ch in text if ord(ch) not in self.advances and ch != "\n"}


@lru_cache(maxsize=8)
def font_metrics(path: Path) -> FontMetrics:
    """Advance widths per code point from a TrueType file (cmap formats 4 and 12)."""
    data = Path(path).read_bytes()
    try:
        tables = _table_directory(data)
        units_per_em = struct.unpack_from(">H", data, tables["head"] + 18)[0]
        hhea = tables["hhea"]
        ascender, descender = struct.unpack_from(">hh", data, hhea + 4)
        metric_count = struct.unpack_from(">H", data, hhea + 34)[0]
        hmtx = tables["hmtx"]
        glyph_advances = [
            struct.unpack_from(">H", data, hmtx + 4 * i)[0] for i in range(metric_count)
        ]
        glyph_of = _cmap(data, tables["cmap"])
    except (KeyError, struct.error) as exc:
        raise FontMetricsError(
            f"{Path(path).name} is not a usable TrueType font."
        ) from exc
    last = glyph_advances[-1]
    advances = {
        cp: glyph_advances[g] if g < metric_count else last
        for cp, g in glyph_of.items()
        if g != 0
    }
    return FontMetrics(
        units_per_em=units_per_em,
        ascender=ascender,
        descender=descender,
        advances=advances,
        default_advance=glyph_advances[0],
    )


def _records(data: bytes, fmt: str, at: int, count: int) -> Iterator[tuple[Any, ...]]:
    """The `count` records of `fmt` that follow one another from `at` (a font's
    tables are counted arrays); a font cut short raises `struct.error`."""
    size = struct.calcsize(fmt)
    chunk = data[at : at + size * count]
    if len(chunk) != size * count:
        raise struct.error(f"{count} records of {fmt} do not fit at {at}")
    return struct.iter_unpack(fmt, chunk)


def _table_directory(data: bytes) -> dict[str, int]:
    count = struct.unpack_from(">H", data, 4)[0]
    return {
        tag.decode("latin-1"): offset
        for tag, _checksum, offset, _length in _records(data, ">4sIII", 12, count)
    }


def _cmap(data: bytes, cmap: int) -> dict[int, int]:
    count = struct.unpack_from(">H", data, cmap + 2)[0]
    subtables = {
        (platform, encoding): cmap + offset
        for platform, encoding, offset in _records(data, ">HHI", cmap + 4, count)
    }
    for key in ((3, 10), (0, 4), (0, 6)):
        if key in subtables and struct.unpack_from(">H", data, subtables[key])[0] == 12:
            return _cmap_format12(data, subtables[key])
    for key in ((3, 1), (0, 3), (0, 1), (0, 0)):
        if key in subtables and struct.unpack_from(">H", data, subtables[key])[0] == 4:
            return _cmap_format4(data, subtables[key])
    raise KeyError("cmap")


def _cmap_format4(data: bytes, at: int) -> dict[int, int]:
    seg_count = struct.unpack_from(">H", data, at + 6)[0] // 2
    ends = struct.unpack_from(f">{seg_count}H", data, at + 14)
    starts_at = at + 16 + 2 * seg_count
    starts = struct.unpack_from(f">{seg_count}H", data, starts_at)
    deltas = struct.unpack_from(f">{seg_count}h", data, starts_at + 2 * seg_count)
    ranges_at = starts_at + 4 * seg_count
    range_offsets = struct.unpack_from(f">{seg_count}H", data, ranges_at)
    mapping = {}
    for i in range(seg_count):
        for cp in range(starts[i], ends[i] + 1):
            if cp == 0xFFFF:
                continue
            if range_offsets[i] == 0:
                glyph = (cp + deltas[i]) & 0xFFFF
            else:
                where = ranges_at + 2 * i + range_offsets[i] + 2 * (cp - starts[i])
                glyph = struct.unpack_from(">H", data, where)[0]
                if glyph:
                    glyph = (glyph + deltas[i]) & 0xFFFF
            mapping[cp] = glyph
    return mapping


def _cmap_format12(data: bytes, at: int) -> dict[int, int]:
    groups = struct.unpack_from(">I", data, at + 12)[0]
    mapping = {}
    for start, end, glyph in _records(data, ">III", at + 16, groups):
        for offset, cp in enumerate(range(start, min(end, 0x10FFFF) + 1)):
            mapping[cp] = glyph + offset
    return mapping


@dataclass(frozen=True)
class SafeZone:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left


def safe_zone(width: int, height: int) -> SafeZone:
    """The area of the frame that Reels and Stories UI never covers."""
    return SafeZone(
        left=round(width * SAFE_SIDES),
        top=round(height * SAFE_TOP),
        right=width - round(width * SAFE_SIDES),
        bottom=height - round(height * SAFE_BOTTOM),
    )


@dataclass(frozen=True)
class TextLayout:
    lines: tuple[str, ...]
    font_size: int
    line_height: int
    box_border: int
    top: int  # y of the first line's text box (inside the box padding)
    zone: SafeZone

    def line_y(self, index: int) -> int:
        return self.top + index * self.line_height


def layout_text(
    text: str, *, width: int, height: int, metrics: FontMetrics
) -> TextLayout | None:
    """Wrap and size `text` so the whole block sits inside the safe zone."""
    words = " ".join(text.split())
    if not words:
        return None
    zone = safe_zone(width, height)
    size = round(width * FONT_SIZE_START)
    smallest = max(12, round(width * FONT_SIZE_MIN))
    while True:
        border = max(2, round(size * BOX_BORDER))
        line_height = round(size * LINE_HEIGHT) + border
        room = zone.width - 2 * border
        max_lines = min(MAX_LINES, (zone.bottom - zone.top - 2 * border) // line_height)
        lines = _wrap(words, room, size, metrics)
        if len(lines) <= max_lines or size <= smallest:
            break
        size = max(smallest, round(size * 0.9))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit(lines[-1].rstrip() + ELLIPSIS, room, size, metrics)
    return TextLayout(
        lines=tuple(lines),
        font_size=size,
        line_height=line_height,
        box_border=border,
        top=zone.top + border,
        zone=zone,
    )


def _wrap(text: str, room: float, size: int, metrics: FontMetrics) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if metrics.text_width(candidate, size) <= room:
            current = candidate
            continue
        if current:
            lines.append(current)
        # A word wider than the line is broken by characters.
        while metrics.text_width(word, size) > room:
            cut = len(word)
            while cut > 1 and metrics.text_width(word[:cut], size) > room:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def _fit(line: str, room: float, size: int, metrics: FontMetrics) -> str:
    while len(line) > 1 and metrics.text_width(line, size) > room:
        line = line[:-2] + ELLIPSIS
    return line
