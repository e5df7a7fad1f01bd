"""Colour looks: a name from the style guide's `luts`, or the neutral "natural".

Only the name is chosen here; the renderer turns it into a filter.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from productions.looks import NATURAL_LOOK
from variants.planning.inputs import PerformanceHints
from variants.planning.scoring import hint_score


def available_looks(style_guide: Mapping[str, Any]) -> tuple[str, ...]:
    luts = style_guide.get("luts") or {}
    names = sorted(str(n) for n in luts if str(n) != NATURAL_LOOK)
    return (NATURAL_LOOK, *names)


# A look whose frames the batch has already planned (same cuts, same overlay) renders
# from pieces encoded once: worth this much of a score (per share of the plan's frames
# already planned in it). The near-duplicate rule is about what a viewer notices first
# (opening, structure, length), which the look is not, so leaning on shared pieces
# costs no diversity. On its own this weight lets one look take every plan of an
# overlay and leave another look untried, hence the floor below.
PIECE_SHARING_WEIGHT = 1.0
# A look not yet drawn in the batch is worth this much more, more than any sharing:
# every look is tried before sharing decides (on the bench master each look then
# still gets 3-5 of 15 plans), so the batch still learns which look performs.
LOOK_FLOOR_BONUS = 1.5


def look_floor(*, plans: int, looks: int) -> int:
    """How often each look is drawn towards in a batch of `plans`: once, when the
    batch has room for every look."""
    return 1 if 0 < looks <= plans else 0


def choose_look(
    *,
    looks: Sequence[str],
    hints: PerformanceHints,
    rng: random.Random,
    used: Counter[str],
    sharing: Mapping[str, float] | None = None,
    floor: int = 0,
) -> str:
    """Better-performing looks first, with noise, each reuse in the batch damped,
    looks whose pieces the batch already has (`sharing`, 0-1 of the frames)
    preferred, and any look drawn fewer than `floor` times preferred above all."""
    shared = sharing or {}
    return max(
        looks,
        key=lambda look: (
            hint_score(hints.look_scores, look)
            + rng.gauss(0.0, 0.1)
            - 0.1 * used[look]
            + PIECE_SHARING_WEIGHT * shared.get(look, 0.0)
            + (LOOK_FLOOR_BONUS if used[look] < floor else 0.0)
        ),
    )


def choose_pixel(
    *, authorized_pixels: Sequence[str], hints: PerformanceHints
) -> str | None:
    """The authorized pixel that performed best, else the first one humans listed."""
    if not authorized_pixels:
        return None
    scored = [p for p in authorized_pixels if p in hints.pixel_scores]
    if not scored:
        return str(authorized_pixels[0])
    return str(max(scored, key=lambda p: hints.pixel_scores[p]))
