"""Plan a refresh of a fatigued variant: same structure and length, a fresher fragment.

The weakest fragment (lowest measured score in the fatigued variant) gives way to the
best approved fragment of the same type that the variant does not use yet; if the
weakest has no such alternative, the next weakest is tried. A fragment that is no
longer approved is always replaced. The caption (and, if needed, the hashtags and look)
change too, so that Meta does not see the refresh as the same ad.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from productions.choices import FragmentType
from variants.choices import VariantType
from variants.planning.assembly import (
    SIGNATURE_RETRIES,
    PlanLayout,
    PlannedPieces,
    UsedChoices,
    assemble_plan,
    draw_dressing,
    planning_context,
    slots_for,
)
from variants.planning.hashtags import DEFAULT_MAX_HASHTAGS
from variants.planning.inputs import (
    FatiguedVariant,
    FragmentInput,
    MasterInput,
    PerformanceHints,
    PlanningError,
    VariantPlan,
)
from variants.planning.scoring import PRIOR_MEAN, fragment_evidence
from variants.planning.timing import (
    CATEGORY_FRAMES,
    OUTRO_WEIGHT,
    STRUCTURE_SEGMENTS,
    allocate_slot_frames,
    category_for_frames,
    frames_to_seconds,
    seconds_to_frames,
)


def plan_refresh(
    *,
    master: MasterInput,
    fragments: Sequence[FragmentInput],
    fatigued: FatiguedVariant,
    fragment_scores: Mapping[str, float],
    seed: int,
    variant_number: int,
    hints: PerformanceHints | None = None,
    exclude_signatures: frozenset[str] = frozenset(),
    max_hashtags: int = DEFAULT_MAX_HASHTAGS,
    earlier_pieces: PlannedPieces | None = None,
) -> VariantPlan:
    """A refresh plan (variant_type "refresh") of `fatigued`.

    `earlier_pieces` (`planned_pieces` of the master's variants) lets the new look
    lean towards pieces the renderers already have.

    `fragment_scores` are the measured scores (0-1) of the fatigued variant's fragments;
    a fragment without one falls back to its overall evidence. Raises `PlanningError`
    when no fragment of the variant has an unused approved alternative of its type.
    """
    rng = random.Random(seed)
    ctx = planning_context(master, fragments, hints=hints, max_hashtags=max_hashtags)
    pool = ctx.pool
    structure = fatigued.narrative_structure
    if structure not in STRUCTURE_SEGMENTS:
        raise PlanningError(f"Unknown narrative structure {structure!r}.")
    by_id = pool.by_id
    old = list(fatigued.slots)
    expected = [t for t, _ in STRUCTURE_SEGMENTS[structure]]
    types = [s.fragment_type for s in old]
    if types[: len(expected)] != expected or any(
        t != FragmentType.OUTRO for t in types[len(expected) :]
    ):
        raise PlanningError(
            f"The fatigued variant's slots ({', '.join(types) or 'none'}) do not "
            f"follow "
            f"its structure {structure} ({', '.join(expected)}, then outros)."
        )
    in_use = {s.fragment_id for s in old}

    def score_of(fragment_id: str) -> float:
        if fragment_id in fragment_scores:
            return float(fragment_scores[fragment_id])
        fragment = by_id.get(fragment_id)
        if fragment is None:
            return PRIOR_MEAN
        return fragment_evidence(fragment, structure).posterior_mean

    def best_unused(fragment_type: str, taken: set[str]) -> FragmentInput | None:
        candidates = [f for f in pool.of_type(fragment_type) if f.id not in taken]
        if not candidates:
            return None
        rng.shuffle(candidates)  # seeded tie-break among equals
        return max(
            candidates,
            key=lambda f: fragment_evidence(f, structure).posterior_mean,
        )

    new_ids = [s.fragment_id for s in old]
    replaced: list[dict[str, Any]] = []
    taken = set(in_use)

    def replace(index: int, substitute: FragmentInput, reason: str) -> None:
        new_ids[index] = substitute.id
        taken.add(substitute.id)
        replaced.append(
            {
                "slot": index,
                "old": old[index].fragment_id,
                "new": substitute.id,
                "reason": reason,
            }
        )

    for index, slot in enumerate(old):
        if slot.fragment_id in by_id:
            continue
        substitute = best_unused(slot.fragment_type, taken)
        if substitute is None:
            raise PlanningError(
                f"Fragment {slot.fragment_id} of the fatigued variant is no longer "
                f"approved and master {master.id} has no other approved "
                f"{slot.fragment_type} fragment to replace it."
            )
        replace(index, substitute, "no longer approved")
    weakest_first = sorted(
        (i for i, s in enumerate(old) if s.fragment_id in by_id),
        key=lambda i: (score_of(old[i].fragment_id), i),
    )
    for index in weakest_first:
        substitute = best_unused(old[index].fragment_type, taken)
        if substitute is None:
            continue
        replace(
            index,
            substitute,
            f"weakest fragment with an alternative (score {score_of(old[index].fragment_id):.3f})",
        )
        break
    else:
        if not replaced:
            types = sorted({s.fragment_type for s in old})
            raise PlanningError(
                f"No unused approved {'/'.join(types)} fragment of master {master.id} "
                "can replace a fragment of the fatigued variant: approve new fragments "
                "to refresh it."
            )

    placed = [by_id[i] for i in new_ids]
    weights = _weights(structure, placed)
    target = seconds_to_frames(fatigued.duration_seconds)
    category = category_for_frames(target)
    if category is None:
        raise PlanningError(
            f"The fatigued variant's length {fatigued.duration_seconds} s is outside "
            "every duration category."
        )
    low, _ = CATEGORY_FRAMES[category]
    capacities = [pool.capacity(f.id) for f in placed]
    target = max(low, min(target, sum(capacities)))
    frames = allocate_slot_frames(
        target_frames=target, weights=weights, capacities=capacities
    )
    if frames is None:
        raise PlanningError(
            f"The replacement fragments are too short for a {category} refresh of "
            f"{fatigued.duration_seconds} s."
        )
    layout = PlanLayout(
        structure=structure,
        category=category,
        slots=slots_for(pool, zip(placed, frames, strict=True)),
        duration_seconds=frames_to_seconds(sum(frames)),
    )

    # Viewers tired of the fatigued caption, hashtags and look: steer away from them.
    used = UsedChoices(
        captions=Counter({fatigued.caption: 2}),
        hashtags=Counter(fatigued.hashtags),
        looks=Counter({fatigued.color_look: 1}),
        pieces=dict(earlier_pieces or {}),
    )
    for attempt in range(SIGNATURE_RETRIES):
        dressing = draw_dressing(
            ctx=ctx, layout=layout, used=used, rng=rng, attempt=attempt
        )
        if dressing.signature not in exclude_signatures:
            break
        used.captions[dressing.caption.text] += 1
    else:
        raise PlanningError(
            "Every refresh drawn repeats an earlier variant of master "
            f"{master.id}; approve more fragments or captions."
        )
    return assemble_plan(
        ctx=ctx,
        dressing=dressing,
        variant_number=variant_number,
        variant_type=VariantType.REFRESH,
        rationale={"lever": "refresh of a fatigued variant", "replaced": replaced},
    )


def _weights(structure: str, placed: Sequence[FragmentInput]) -> list[int]:
    """The structure's shares for its slots, plus the outro share for any outro."""
    shares = [w for _, w in STRUCTURE_SEGMENTS[structure]]
    return [shares[i] if i < len(shares) else OUTRO_WEIGHT for i in range(len(placed))]
