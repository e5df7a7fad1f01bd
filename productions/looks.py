"""The colour looks a style guide may name, known below every app that renders them.

A style guide's `luts` maps a look name to a .cube file under MEDIA_ROOT/luts or to a
grading object of the keys below; "natural" means no grade. `productions.validators`
checks a style guide against these as it arrives, and `variants.rendering.looks` renders
from the same table, so a look the admin accepts is a look the renderer knows.
"""

from __future__ import annotations

NATURAL_LOOK = "natural"
LUTS_DIRNAME = "luts"
CUBE_SUFFIX = ".cube"

# The grading keys a look object may carry: name: (lowest, highest, neutral).
GRADING_RANGES: dict[str, tuple[float, float, float]] = {
    "contrast": (0.5, 2.0, 1.0),
    "saturation": (0.0, 2.0, 1.0),
    "brightness": (-0.5, 0.5, 0.0),
    "gamma": (0.2, 5.0, 1.0),
    "warmth": (-1.0, 1.0, 0.0),
}

# The looks a person picks from on the master page: named grading objects (keys and
# ranges above), so a picked look needs no file and renders the same everywhere.
KNOWN_LOOKS: dict[str, dict[str, float]] = {
    "warm_film": {"contrast": 1.05, "saturation": 0.9, "warmth": 0.12, "gamma": 0.95},
    "neon_pop": {"contrast": 1.15, "saturation": 1.3, "warmth": -0.05},
    "cool_blue": {"saturation": 0.95, "warmth": -0.25},
    "high_contrast": {"contrast": 1.35, "saturation": 1.05},
    "bright_airy": {"brightness": 0.06, "contrast": 0.95, "gamma": 1.1},
    "muted": {"contrast": 0.95, "saturation": 0.6},
    "mono": {"contrast": 1.1, "saturation": 0.0},
}
