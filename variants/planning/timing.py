"""Narrative structures and durations on the 30 fps frame grid.

All arithmetic is in whole frames so that slot lengths add up exactly to the variant's
length; seconds appear only at the edges (frames / 30, rounded to 6 decimals).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from productions.choices import FragmentType, NarrativeStructure
from variants.choices import DURATION_BOUNDS, DurationCategory

FPS = 30
_EPS = 1e-6

# Shorter cuts flash by unread, and renderers dislike sub-half-second segments.
MIN_SLOT_FRAMES = 15

# SPEC.md's 12 s standard, in frames: each structure's segments and their share of it.
STRUCTURE_SEGMENTS: dict[str, tuple[tuple[str, int], ...]] = {
    NarrativeStructure.HOOK_BODY_CTA: (
        (FragmentType.HOOK, 90),  # 0-3 s
        (FragmentType.BODY, 150),  # 3-8 s
        (FragmentType.CTA, 120),  # 8-12 s
    ),
    NarrativeStructure.HOOK_INVERTED: (
        (FragmentType.CTA, 90),
        (FragmentType.BODY, 150),
        (FragmentType.HOOK, 120),
    ),
    NarrativeStructure.CTA_FORWARD: (
        (FragmentType.CTA, 90),  # 0-3 s
        (FragmentType.HOOK, 90),  # 3-6 s
        (FragmentType.BODY, 180),  # 6-12 s
    ),
}
STRUCTURES: tuple[str, ...] = tuple(STRUCTURE_SEGMENTS)
REQUIRED_TYPES: tuple[str, ...] = (
    FragmentType.HOOK,
    FragmentType.BODY,
    FragmentType.CTA,
)
# An appended outro takes the share a 2 s outro would have next to the 12 s standard.
OUTRO_WEIGHT = 60

CATEGORIES: tuple[str, ...] = tuple(DurationCategory.values)
CATEGORY_FRAMES: dict[str, tuple[int, int]] = {
    str(category): (round(low * FPS), round(high * FPS))
    for category, (low, high) in DURATION_BOUNDS.items()
}
# Lengths tried in turn by successive plans of one category (whole seconds): the first
# is the middle of the range, later ones spread out so that lengths differ too.
PREFERRED_SECONDS: dict[str, tuple[int, ...]] = {
    DurationCategory.SHORT: (6, 5, 7),
    DurationCategory.MEDIUM: (10, 8, 12, 9, 11),
    DurationCategory.LONG: (15, 13, 18, 14, 16, 17),
}


def frames_to_seconds(frames: int) -> float:
    return round(frames / FPS, 6)


def seconds_to_frames(seconds: float) -> int:
    return round(seconds * FPS)


def fragment_window(start_time: float, end_time: float) -> tuple[int, int]:
    """The whole frames inside a fragment: [first, last) frame numbers of the master."""
    first = math.ceil(start_time * FPS - _EPS)
    last = math.floor(end_time * FPS + _EPS)
    return first, max(first, last)


def fragment_capacity(start_time: float, end_time: float) -> int:
    first, last = fragment_window(start_time, end_time)
    return last - first


def category_for_frames(frames: int) -> str | None:
    for category, (low, high) in CATEGORY_FRAMES.items():
        if low <= frames <= high:
            return category
    return None


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` frames in proportion to `weights` (largest remainder)."""
    weight_sum = sum(weights)
    if weight_sum <= 0:
        raise ValueError("apportion needs positive weights")
    shares = [total * w // weight_sum for w in weights]
    remainders = sorted(
        range(len(weights)),
        key=lambda i: (-(total * weights[i] % weight_sum), i),
    )
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


def allocate_slot_frames(
    *,
    target_frames: int,
    weights: Sequence[int],
    capacities: Sequence[int],
    min_frames: int = MIN_SLOT_FRAMES,
) -> list[int] | None:
    """Scale the structure's shares to `target_frames`, never past a fragment's length.

    A slot whose fragment is too short is cut to the fragment and its shortfall moves to
    the other slots in proportion to their shares. None when the fragments together are
    too short, or a slot would fall under `min_frames`.
    """
    if sum(capacities) < target_frames:
        return None
    frames = apportion(target_frames, weights)
    capped = [False] * len(frames)
    while True:
        over = [i for i, f in enumerate(frames) if f > capacities[i]]
        if not over:
            break
        excess = 0
        for i in over:
            excess += frames[i] - capacities[i]
            frames[i] = capacities[i]
            capped[i] = True
        free = [i for i in range(len(frames)) if not capped[i]]
        if not free:
            return None
        for i, extra in zip(
            free, apportion(excess, [weights[i] for i in free]), strict=True
        ):
            frames[i] += extra
    if any(f < min_frames for f in frames):
        return None
    return frames
