"""Colour looks: .cube files checked before ffmpeg sees them, and grading objects as LUTs.

A style guide's `luts` maps a look name to either a path of a .cube file (relative to
MEDIA_ROOT/luts, or absolute under MEDIA_ROOT) or a grading object
{"contrast", "saturation", "brightness", "gamma", "warmth"}. The look "natural" means no
grade at all.

A .cube file is applied with a float RGB lut3d (what an arbitrary 3D LUT needs). A
grading object is defined on Y'CbCr, so it renders as three 1D tables on the decoded
planes with no RGB round trip; `grading_lut` builds the same look as a .cube (numpy)
for tools that want one and for the tests that compare both renders.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from productions.looks import GRADING_RANGES, LUTS_DIRNAME, NATURAL_LOOK

MAX_CUBE_BYTES = 64 * 1024 * 1024
MIN_CUBE_SIZE = 2
MAX_CUBE_SIZE = 129
GRADING_CUBE_SIZE = 33
_KNOWN_KEYWORDS = {"TITLE", "LUT_3D_SIZE", "DOMAIN_MIN", "DOMAIN_MAX"}


class LookError(ValueError):
    """A look cannot be used: unknown name, bad grading object or a path outside media."""


class LutParseError(LookError):
    """A .cube file does not parse; the message names the file and the line."""


@dataclass(frozen=True)
class CubeLut:
    """A 3D LUT; `table[b, g, r]` is the output RGB (red varies fastest in the file)."""

    size: int
    table: np.ndarray
    domain_min: tuple[float, float, float] = (0.0, 0.0, 0.0)
    domain_max: tuple[float, float, float] = (1.0, 1.0, 1.0)
    title: str = ""


def parse_cube(text: str, *, source: str = "<cube>") -> CubeLut:
    """Parse the text of an Adobe/Resolve .cube 3D LUT, strictly."""
    size: int | None = None
    title = ""
    domain_min = (0.0, 0.0, 0.0)
    domain_max = (1.0, 1.0, 1.0)
    rows: list[tuple[float, float, float]] = []
    expected = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head = line.split(None, 1)[0]
        if head[0].isalpha():
            if rows:
                raise LutParseError(
                    f"{source}, line {number}: keyword {head} after the table data."
                )
            if head == "LUT_1D_SIZE":
                raise LutParseError(
                    f"{source}, line {number}: 1D LUTs are not supported; "
                    "export a 3D LUT (LUT_3D_SIZE)."
                )
            if head not in _KNOWN_KEYWORDS:
                raise LutParseError(f"{source}, line {number}: unknown keyword {head}.")
            if head == "TITLE":
                title = line[len(head) :].strip().strip('"')
            elif head == "LUT_3D_SIZE":
                size = _parse_size(line, number, source)
                expected = size**3
            else:
                values = _parse_triplet(line.split()[1:], number, source)
                if head == "DOMAIN_MIN":
                    domain_min = values
                else:
                    domain_max = values
            continue
        if size is None:
            raise LutParseError(
                f"{source}, line {number}: table data before LUT_3D_SIZE."
            )
        rows.append(_parse_triplet(line.split(), number, source))
        if len(rows) > expected:
            raise LutParseError(
                f"{source}, line {number}: more than the {expected} rows that "
                f"LUT_3D_SIZE {size} announces."
            )
    if size is None:
        raise LutParseError(f"{source}: no LUT_3D_SIZE line; this is not a 3D .cube.")
    if len(rows) != expected:
        raise LutParseError(
            f"{source}: {len(rows)} table rows, LUT_3D_SIZE {size} needs {expected}."
        )
    if any(lo >= hi for lo, hi in zip(domain_min, domain_max, strict=True)):
        raise LutParseError(f"{source}: DOMAIN_MIN must be below DOMAIN_MAX.")
    table = np.asarray(rows, dtype=np.float64).reshape(size, size, size, 3)
    return CubeLut(
        size=size,
        table=table,
        domain_min=domain_min,
        domain_max=domain_max,
        title=title,
    )


def _parse_size(line: str, number: int, source: str) -> int:
    parts = line.split()
    if len(parts) != 2 or not parts[1].isdigit():
        raise LutParseError(f"{source}, line {number}: LUT_3D_SIZE needs one integer.")
    size = int(parts[1])
    if not MIN_CUBE_SIZE <= size <= MAX_CUBE_SIZE:
        raise LutParseError(
            f"{source}, line {number}: LUT_3D_SIZE {size} is outside "
            f"{MIN_CUBE_SIZE}..{MAX_CUBE_SIZE}."
        )
    return size


def _parse_triplet(
    parts: list[str], number: int, source: str
) -> tuple[float, float, float]:
    if len(parts) != 3:
        raise LutParseError(
            f"{source}, line {number}: expected 3 numbers, found {len(parts)}."
        )
    try:
        first, second, third = (float(p) for p in parts)
    except ValueError as exc:
        raise LutParseError(
            f"{source}, line {number}: {' '.join(parts)!r} is not three numbers."
        ) from exc
    if not all(math.isfinite(v) for v in (first, second, third)):
        raise LutParseError(f"{source}, line {number}: values must be finite numbers.")
    return first, second, third


def read_cube_file(path: Path) -> CubeLut:
    """Read and parse a .cube file, refusing huge or undecodable files."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CUBE_BYTES:
            raise LutParseError(
                f"{path.name}: {size} bytes; a .cube file may be at most "
                f"{MAX_CUBE_BYTES} bytes."
            )
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise LookError(f"The LUT file {path.name} does not exist.") from exc
    except OSError as exc:
        raise LookError(f"The LUT file {path.name} cannot be read: {exc}.") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LutParseError(f"{path.name}: not a text file ({exc}).") from exc
    return parse_cube(text, source=path.name)


def cube_text(lut: CubeLut) -> str:
    """The .cube text of a LUT (red varies fastest), 6 decimals."""
    lines = []
    if lut.title:
        lines.append(f'TITLE "{lut.title}"')
    lines.append(f"LUT_3D_SIZE {lut.size}")
    if lut.domain_min != (0.0, 0.0, 0.0):
        lines.append("DOMAIN_MIN " + " ".join(f"{v:.6f}" for v in lut.domain_min))
    if lut.domain_max != (1.0, 1.0, 1.0):
        lines.append("DOMAIN_MAX " + " ".join(f"{v:.6f}" for v in lut.domain_max))
    rows = lut.table.reshape(-1, 3)
    body = "\n".join(f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in rows.tolist())
    return "\n".join(lines) + "\n" + body + "\n"


@dataclass(frozen=True)
class Grading:
    """A look from five numbers, defined on the video's own Y'CbCr.

    Brightness, contrast and gamma shape luma; saturation scales chroma; warmth shifts
    chroma toward red-yellow (or blue). Defined this way it renders as three 256-entry
    tables (`lut` on yuv420p), about 15x cheaper than a float RGB lut3d; `grading_lut`
    gives the same look as a .cube for anything that wants RGB.
    """

    contrast: float = 1.0
    saturation: float = 1.0
    brightness: float = 0.0
    gamma: float = 1.0
    warmth: float = 0.0

    @property
    def is_neutral(self) -> bool:
        return self == Grading()

    def yuv_expressions(self) -> dict[str, str]:
        """ffmpeg `lut` expressions on 8-bit limited-range codes (`val`), per plane."""
        c, b, g = _num(self.contrast), _num(self.brightness), _num(self.gamma)
        s, shift = _num(self.saturation), _num(WARMTH_CHROMA_SHIFT * 224 * self.warmth)
        luma = f"clip(((val-16)/219+{b}-0.5)*{c}+0.5,0,1)"
        return {
            "y": f"clip(16+219*pow({luma},1/{g}),16,235)",
            "u": f"clip(128+{s}*(val-128)-{shift},16,240)",
            "v": f"clip(128+{s}*(val-128)+{shift},16,240)",
        }


# Chroma shift per unit of warmth, as a fraction of the chroma range.
WARMTH_CHROMA_SHIFT = 0.05
# BT.601 luma weights: what ffmpeg assumes for untagged video when it converts to RGB.
_KR, _KB = 0.299, 0.114
_KG = 1.0 - _KR - _KB

Look = Path | Grading


def _num(value: float) -> str:
    return f"{value:.6g}"


def validate_grading(grading: Mapping[str, Any] | Grading) -> Grading:
    """A grading object with every key known, numeric and in range; defaults filled."""
    if isinstance(grading, Grading):
        grading = {k: getattr(grading, k) for k in GRADING_RANGES}
    if not isinstance(grading, Mapping):
        raise LookError("A grading look must be an object of numbers.")
    unknown = sorted(set(grading) - set(GRADING_RANGES))
    if unknown:
        raise LookError(
            f"Unknown grading keys: {', '.join(unknown)}. "
            f"Allowed: {', '.join(GRADING_RANGES)}."
        )
    values: dict[str, float] = {}
    for key, (low, high, neutral) in GRADING_RANGES.items():
        value = grading.get(key, neutral)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise LookError(f"Grading {key!r} must be a number.")
        if not (math.isfinite(value) and low <= value <= high):
            raise LookError(f"Grading {key!r} must be between {low} and {high}.")
        values[key] = float(value)
    return Grading(**values)


def grading_lut(
    grading: Mapping[str, Any] | Grading, *, size: int = GRADING_CUBE_SIZE
) -> CubeLut:
    """The grading as a 3D LUT: RGB to Y'CbCr (BT.601), the grade, back, clipped."""
    v = validate_grading(grading)
    axis = np.linspace(0.0, 1.0, size)
    b, g, r = np.meshgrid(axis, axis, axis, indexing="ij")
    y = _KR * r + _KG * g + _KB * b
    cb = (b - y) / (2 * (1 - _KB))
    cr = (r - y) / (2 * (1 - _KR))
    y = np.clip((y + v.brightness - 0.5) * v.contrast + 0.5, 0.0, 1.0) ** (1 / v.gamma)
    cb = v.saturation * cb - WARMTH_CHROMA_SHIFT * v.warmth
    cr = v.saturation * cr + WARMTH_CHROMA_SHIFT * v.warmth
    r = y + 2 * (1 - _KR) * cr
    b = y + 2 * (1 - _KB) * cb
    g = (y - _KR * r - _KB * b) / _KG
    return CubeLut(size=size, table=np.clip(np.stack([r, g, b], axis=-1), 0.0, 1.0))


def lut_file_path(value: str, *, media_root: Path) -> Path:
    """Where a style guide's .cube path points; refused if it leaves MEDIA_ROOT."""
    root = Path(media_root).resolve()
    candidate = Path(value)
    if not candidate.is_absolute():
        candidate = root / LUTS_DIRNAME / candidate
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise LookError(f"The LUT path {value!r} is outside the media folder.")
    if resolved.suffix.lower() != ".cube":
        raise LookError(f"The LUT path {value!r} is not a .cube file.")
    return resolved


def resolve_look(
    name: str,
    *,
    luts: Mapping[str, Any] | None,
    media_root: Path,
) -> Look | None:
    """What to apply for the look `name`: a checked .cube path, a Grading, or None.

    A path is parsed here, so a broken LUT fails before any rendering starts.
    """
    if not name or name == NATURAL_LOOK:
        return None
    looks = luts or {}
    if name not in looks:
        known = ", ".join(sorted(looks)) or "none"
        raise LookError(
            f"The look {name!r} is not in the master's style guide (known: {known})."
        )
    value = looks[name]
    if isinstance(value, str):
        path = lut_file_path(value, media_root=media_root)
        read_cube_file(path)
        return path
    if isinstance(value, Mapping):
        grading = validate_grading(value)
        return None if grading.is_neutral else grading
    raise LookError(f"The look {name!r} must be a .cube path or a grading object.")
