"""The pieces batch and refresh planning share: from a layout of slots to a plan.

A planning context (the human inputs validated once), slots cut from fragment windows
and fitted to a target length, the dressing (caption, hashtags, look, signature)
drawn for a layout, its estimate, and the `VariantPlan` assembled from them.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from productions.choices import FragmentType
from variants.planning.captions import (
    CaptionCandidate,
    CaptionRules,
    caption_candidates,
    check_caption_rules_satisfiable,
    choose_caption,
    text_overlay,
)
from variants.planning.diversity import plan_signature
from variants.planning.hashtags import (
    approved_hashtag_set,
    choose_hashtags,
)
from variants.planning.inputs import (
    FragmentInput,
    MasterInput,
    PerformanceHints,
    PlanningError,
    SlotPlan,
    VariantPlan,
)
from variants.planning.looks import available_looks, choose_look, choose_pixel
from variants.planning.pool import (
    FragmentPool,
    build_fragment_pool,
    require_fragment_types,
)
from variants.planning.scoring import estimate_plan, fragment_evidence
from variants.planning.timing import (
    CATEGORY_FRAMES,
    OUTRO_WEIGHT,
    STRUCTURE_SEGMENTS,
    allocate_slot_frames,
    frames_to_seconds,
    seconds_to_frames,
)

SIGNATURE_RETRIES = 8

# When fragments are too short for a length, longer ones are swapped in in this order.
_STRETCH_ORDER = (FragmentType.BODY, FragmentType.CTA, FragmentType.HOOK)


@dataclass
class UsedChoices:
    """How often each caption, hashtag and look is taken already: draws avoid them.

    `pieces` is what the renderer will have encoded for the batch so far: per (look,
    overlay, cut start), the longest cut planned from there. Every cut keeps its
    fragment's start, so a later cut from the same start with the same look and
    overlay is rendered from those pieces instead of being encoded again.
    """

    captions: Counter[str] = field(default_factory=Counter)
    hashtags: Counter[str] = field(default_factory=Counter)
    looks: Counter[str] = field(default_factory=Counter)
    pieces: dict[tuple[str, str, int], int] = field(default_factory=dict)
    # Each look is drawn towards until it has been taken this often (`look_floor`).
    look_floor: int = 0

    def record_pieces(
        self, *, look: str, overlay: str, slots: Sequence[SlotPlan]
    ) -> None:
        for slot in slots:
            key = (look, overlay, seconds_to_frames(slot.source_in))
            self.pieces[key] = max(self.pieces.get(key, 0), slot.frames)

    def shared_fraction(
        self, *, look: str, overlay: str, slots: Sequence[SlotPlan]
    ) -> float:
        """The share of `slots`' frames already planned with `look` and `overlay`."""
        total = sum(slot.frames for slot in slots)
        shared = sum(
            min(
                slot.frames,
                self.pieces.get((look, overlay, seconds_to_frames(slot.source_in)), 0),
            )
            for slot in slots
        )
        return shared / total if total else 0.0


PlannedPieces = dict[tuple[str, str, int], int]


def planned_pieces(
    variants: Iterable[tuple[str, str, Sequence[SlotPlan]]],
) -> PlannedPieces:
    """`UsedChoices.pieces` of earlier variants, each given as (look, overlay, slots):
    what a render worker's piece cache holds from them."""
    used = UsedChoices()
    for look, overlay, slots in variants:
        used.record_pieces(look=look, overlay=overlay, slots=slots)
    return used.pieces


@dataclass(frozen=True)
class PlanningContext:
    """What every plan of a master draws from (see `planning_context`)."""

    master: MasterInput
    pool: FragmentPool
    hints: PerformanceHints
    rules: CaptionRules
    captions: tuple[CaptionCandidate, ...]
    hashtags: tuple[str, ...]
    looks: tuple[str, ...]
    pixel_id: str | None
    max_hashtags: int


@dataclass(frozen=True)
class PlanLayout:
    """A plan's cuts, before its caption, hashtags and look are drawn."""

    structure: str
    category: str
    slots: tuple[SlotPlan, ...]
    duration_seconds: float

    @property
    def opening_fragment_id(self) -> str:
        return self.slots[0].fragment_id

    @property
    def hook_fragment_id(self) -> str:
        return next(
            s.fragment_id for s in self.slots if s.fragment_type == FragmentType.HOOK
        )


@dataclass(frozen=True)
class Dressing:
    """A layout as it is shown: besides its cuts, its caption, hashtags, look and text
    overlay, and the signature of the ad they make."""

    layout: PlanLayout
    caption: CaptionCandidate
    hashtags: tuple[str, ...]
    look: str
    overlay: str
    signature: str


def draw_dressing(
    *,
    ctx: PlanningContext,
    layout: PlanLayout,
    used: UsedChoices,
    rng: random.Random,
    attempt: int,
) -> Dressing:
    """Caption, hashtags and look for `layout`, each drawn away from what is `used`;
    each further attempt explores the captions a little more. The text overlay
    follows from the structure and the master's rules."""
    caption = choose_caption(
        candidates=ctx.captions,
        rng=rng,
        used=used.captions,
        exploration=0.05 * (1 + attempt),
    )
    hashtags = choose_hashtags(
        approved=ctx.hashtags,
        hints=ctx.hints,
        rng=rng,
        used=used.hashtags,
        max_count=ctx.max_hashtags,
    )
    overlay = text_overlay(
        structure=layout.structure, title=ctx.master.title, rules=ctx.rules
    )
    look = choose_look(
        looks=ctx.looks,
        hints=ctx.hints,
        rng=rng,
        used=used.looks,
        floor=used.look_floor,
        sharing={
            name: used.shared_fraction(look=name, overlay=overlay, slots=layout.slots)
            for name in ctx.looks
        },
    )
    signature = plan_signature(
        opening_fragment_id=layout.opening_fragment_id,
        hook_fragment_id=layout.hook_fragment_id,
        structure=layout.structure,
        duration_category=layout.category,
        duration_seconds=layout.duration_seconds,
        caption=caption.text,
        color_look=look,
        hashtags=hashtags,
    )
    return Dressing(
        layout=layout,
        caption=caption,
        hashtags=hashtags,
        look=look,
        overlay=overlay,
        signature=signature,
    )


def estimate_dressed_plan(
    *, ctx: PlanningContext, dressing: Dressing
) -> tuple[float, float, dict[str, float]]:
    """`estimate_plan` of the dressed layout's fragments, shown with its dressing."""
    layout = dressing.layout
    fragments = [ctx.pool.by_id[slot.fragment_id] for slot in layout.slots]
    return estimate_plan(
        fragments=[
            (f.fragment_type, fragment_evidence(f, layout.structure)) for f in fragments
        ],
        structure=layout.structure,
        duration_category=layout.category,
        caption_score=dressing.caption.score,
        look=dressing.look,
        hints=ctx.hints,
    )


def assemble_plan(
    *,
    ctx: PlanningContext,
    dressing: Dressing,
    variant_number: int,
    variant_type: str,
    rationale: Mapping[str, Any],
) -> VariantPlan:
    """The `VariantPlan` of a dressed layout, with its estimate. Its rationale adds
    what every plan says of its caption and score."""
    layout = dressing.layout
    score, confidence, parts = estimate_dressed_plan(ctx=ctx, dressing=dressing)
    return VariantPlan(
        variant_number=variant_number,
        variant_type=variant_type,
        narrative_structure=layout.structure,
        slots=layout.slots,
        duration_seconds=layout.duration_seconds,
        duration_category=layout.category,
        caption=dressing.caption.text,
        hashtags=dressing.hashtags,
        text_overlay=dressing.overlay,
        color_look=dressing.look,
        pixel_id=ctx.pixel_id,
        estimated_score=score,
        confidence=confidence,
        signature=dressing.signature,
        rationale={
            **rationale,
            "caption_template": dressing.caption.template,
            "caption_score": dressing.caption.score,
            "score_parts": parts,
        },
    )


def fit_slots(
    *,
    ctx: PlanningContext,
    structure: str,
    category: str,
    chosen: dict[str, FragmentInput],
    outro: FragmentInput | None,
    preferred_frames: int,
) -> tuple[list[tuple[FragmentInput, int]], list[str]] | None:
    """Slot lengths for the target; longer fragments swap in for too short ones."""
    pool = ctx.pool
    segments = STRUCTURE_SEGMENTS[structure]
    low, high = CATEGORY_FRAMES[category]
    notes: list[str] = []

    def total() -> int:
        extra = pool.capacity(outro.id) if outro else 0
        return sum(pool.capacity(f.id) for f in chosen.values()) + extra

    if total() < low:
        longest_outro = pool.longest(FragmentType.OUTRO)
        if longest_outro is not None and outro != longest_outro:
            outro = longest_outro
            notes.append(f"outro {outro.id} appended to reach {category} length")
    for role in _STRETCH_ORDER:
        if total() >= low or role == segments[0][0]:
            continue
        longest = pool.longest(role)
        if longest is not None and longest != chosen[role]:
            notes.append(
                f"{role} {chosen[role].id} too short for {category}; "
                f"used {longest.id} instead"
            )
            chosen[role] = longest
    available = total()
    if available < low:
        return None
    target = max(low, min(preferred_frames, high, available))
    if target < preferred_frames:
        notes.append(
            f"shortened to {frames_to_seconds(target):g} s: the fragments last only "
            f"{frames_to_seconds(available):g} s"
        )
    ordered = [chosen[role] for role, _ in segments]
    weights = [weight for _, weight in segments]
    if outro is not None:
        ordered.append(outro)
        weights.append(OUTRO_WEIGHT)
    frames = allocate_slot_frames(
        target_frames=target,
        weights=weights,
        capacities=[pool.capacity(f.id) for f in ordered],
    )
    if frames is None:
        return None
    return list(zip(ordered, frames, strict=True)), notes


def slots_for(
    pool: FragmentPool, fitted: Iterable[tuple[FragmentInput, int]]
) -> tuple[SlotPlan, ...]:
    """Each slot keeps the start of its fragment: the first frames are what was approved
    as the moment that opens the cut."""
    slots = []
    for fragment, frames in fitted:
        first, _ = pool.windows[fragment.id]
        slots.append(
            SlotPlan(
                fragment_id=fragment.id,
                fragment_type=fragment.fragment_type,
                source_in=frames_to_seconds(first),
                source_out=frames_to_seconds(first + frames),
            )
        )
    return tuple(slots)


def planning_context(
    master: MasterInput,
    fragments: Iterable[FragmentInput],
    *,
    hints: PerformanceHints | None,
    max_hashtags: int,
) -> PlanningContext:
    """Validate the human inputs once and prepare what every plan draws from."""
    hints = hints or PerformanceHints()
    if master.duration is None or master.duration <= 0:
        raise PlanningError(f"Master {master.id} has no usable duration.")
    pool = build_fragment_pool(master=master, fragments=fragments)
    require_fragment_types(master=master, pool=pool)
    rules = CaptionRules.from_style_guide(master.style_guide)
    check_caption_rules_satisfiable(rules)
    return PlanningContext(
        master=master,
        pool=pool,
        hints=hints,
        rules=rules,
        captions=tuple(
            caption_candidates(title=master.title, rules=rules, hints=hints)
        ),
        hashtags=approved_hashtag_set(master),
        looks=available_looks(master.style_guide),
        pixel_id=choose_pixel(
            authorized_pixels=[str(p) for p in master.authorized_pixels], hints=hints
        ),
        max_hashtags=max_hashtags,
    )
