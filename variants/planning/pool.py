"""The approved fragments a master offers the planner, and what they can make.

Grouped by type (hook, body, CTA, outro; cuts under half a second set aside), checked
for the types every variant needs, and counted as "first impressions": an opening
fragment x a structure x a duration category the fragments can reach.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from productions.choices import FragmentType
from variants.choices import DURATION_BOUNDS
from variants.planning.inputs import (
    MIN_VARIANTS,
    FragmentInput,
    MasterInput,
    PlanningError,
)
from variants.planning.timing import (
    CATEGORIES,
    CATEGORY_FRAMES,
    MIN_SLOT_FRAMES,
    REQUIRED_TYPES,
    STRUCTURE_SEGMENTS,
    STRUCTURES,
    fragment_window,
    frames_to_seconds,
)


@dataclass(frozen=True)
class FragmentPool:
    """Usable approved fragments by type, with their whole-frame windows."""

    by_type: Mapping[str, tuple[FragmentInput, ...]]
    windows: Mapping[str, tuple[int, int]]
    set_aside: tuple[str, ...] = ()

    def capacity(self, fragment_id: str) -> int:
        first, last = self.windows[fragment_id]
        return last - first

    def of_type(self, fragment_type: str) -> tuple[FragmentInput, ...]:
        return self.by_type.get(fragment_type, ())

    def max_capacity(self, fragment_type: str) -> int:
        return max(
            (self.capacity(f.id) for f in self.of_type(fragment_type)), default=0
        )

    def longest(self, fragment_type: str) -> FragmentInput | None:
        candidates = self.of_type(fragment_type)
        if not candidates:
            return None
        return max(candidates, key=lambda f: (self.capacity(f.id), f.id))

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self.windows)

    @cached_property
    def by_id(self) -> Mapping[str, FragmentInput]:
        return {f.id: f for fragments in self.by_type.values() for f in fragments}


def build_fragment_pool(
    *, master: MasterInput, fragments: Iterable[FragmentInput]
) -> FragmentPool:
    """Check the fragments against the master and group the usable ones by type."""
    by_type: dict[str, list[FragmentInput]] = {}
    windows: dict[str, tuple[int, int]] = {}
    set_aside: list[str] = []
    for fragment in fragments:
        if fragment.fragment_type not in FragmentType.values:
            raise PlanningError(
                f"Fragment {fragment.id} has unknown type {fragment.fragment_type!r}; "
                f"expected one of {', '.join(FragmentType.values)}."
            )
        if fragment.start_time < 0 or fragment.end_time <= fragment.start_time:
            raise PlanningError(
                f"Fragment {fragment.id} must start at 0 s or later and end after it "
                f"starts (got {fragment.start_time}-{fragment.end_time} s)."
            )
        if fragment.end_time > master.duration + 1e-6:
            raise PlanningError(
                f"Fragment {fragment.id} ends at {fragment.end_time} s, after the end "
                f"of master {master.id} ({master.duration} s)."
            )
        if fragment.id in windows:
            raise PlanningError(f"Fragment {fragment.id} is listed twice.")
        window = fragment_window(fragment.start_time, fragment.end_time)
        if window[1] - window[0] < MIN_SLOT_FRAMES:
            set_aside.append(
                f"{fragment.fragment_type} fragment {fragment.id} is shorter than "
                f"{MIN_SLOT_FRAMES} frames and was not used"
            )
            continue
        windows[fragment.id] = window
        by_type.setdefault(fragment.fragment_type, []).append(fragment)
    return FragmentPool(
        by_type={
            t: tuple(sorted(fs, key=lambda f: (f.start_time, f.id)))
            for t, fs in by_type.items()
        },
        windows=windows,
        set_aside=tuple(set_aside),
    )


def require_fragment_types(*, master: MasterInput, pool: FragmentPool) -> None:
    missing = [t for t in REQUIRED_TYPES if not pool.of_type(t)]
    if missing:
        labels = ", ".join(FragmentType(t).label.lower() for t in missing)
        hint = f" ({'; '.join(pool.set_aside)})" if pool.set_aside else ""
        raise PlanningError(
            f"Master {master.id} has no approved {labels} fragment of at least "
            f"{frames_to_seconds(MIN_SLOT_FRAMES)} s{hint}: every variant needs an "
            "approved hook, body and call to action."
        )


def _reachable_frames(pool: FragmentPool, structure: str, opener: FragmentInput) -> int:
    """The longest variant this opening fragment allows, with the longest others."""
    rest = [t for t, _ in STRUCTURE_SEGMENTS[structure][1:]]
    return (
        pool.capacity(opener.id)
        + sum(pool.max_capacity(t) for t in rest)
        + pool.max_capacity(FragmentType.OUTRO)
    )


def possible_first_impressions(pool: FragmentPool) -> list[tuple[str, str, str]]:
    """Every (opening fragment, structure, duration category) the fragments can make."""
    found = []
    for structure in STRUCTURES:
        opener_type = STRUCTURE_SEGMENTS[structure][0][0]
        for opener in pool.of_type(opener_type):
            reach = _reachable_frames(pool, structure, opener)
            for category in CATEGORIES:
                if reach >= CATEGORY_FRAMES[category][0]:
                    found.append((opener.id, structure, category))
    return found


def too_few_plans_error(
    master: MasterInput, pool: FragmentPool, found: list[tuple[str, str, str]]
) -> PlanningError:
    categories = sorted({c for _, _, c in found}, key=CATEGORIES.index)
    unreachable = [c for c in CATEGORIES if c not in categories]
    longest = frames_to_seconds(
        sum(pool.max_capacity(t) for t in (*REQUIRED_TYPES, FragmentType.OUTRO))
    )
    missing = []
    if unreachable:
        bounds = ", ".join(
            f"{c} ({DURATION_BOUNDS[c][0]:g}-{DURATION_BOUNDS[c][1]:g} s)"
            for c in unreachable
        )
        missing.append(
            f"longer approved fragments for {bounds}: the longest hook, body, CTA and "
            f"outro together last only {longest:g} s"
        )
    missing.append(
        "more approved hook or CTA fragments (each opens different variants)"
    )
    return PlanningError(
        f"Only {len(found)} distinct variants are possible for master {master.id}, "
        f"at least {MIN_VARIANTS} are needed ({len(pool.of_type(FragmentType.HOOK))} "
        f"hook(s), {len(pool.of_type(FragmentType.CTA))} CTA(s), reachable lengths: "
        f"{', '.join(categories) or 'none'}). Missing: {'; '.join(missing)}."
    )
