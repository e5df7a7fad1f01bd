"""Plan a batch of 5-15 variants of one master: pure, deterministic for a given seed.

How a batch is planned:
1. The approved fragments are checked and grouped by type; a hook, a body and a CTA are
   required, and cuts shorter than half a second are set aside.
2. Every "first impression" a viewer could get is counted: an opening fragment (the
   hook, or the CTA in CTA-first structures) x a structure x a duration category whose
   lower bound the fragments can reach. Fewer than five → `PlanningError` naming what is
   missing. N is that count, capped by `max_variants` (or `count` when given).
3. Structures and duration categories follow a Latin square, so every prefix of the
   batch holds each structure and each reachable category equally often (± 1).
4. For each plan the fragments are Thompson-sampled from their measured performance,
   with repeats of a first impression and reuse within the batch penalised; the slots
   are scaled from SPEC.md's 12 s timings to a target length on the 30 fps grid.
5. Caption, hashtags and look are chosen from scored candidates; a plan whose signature
   is already taken (in this batch or `exclude_signatures`) is re-drawn.
6. Each plan is labelled with the lever it tests (`variant_type`), the batch with its
   diversity.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from productions.choices import FragmentType
from variants.choices import DurationCategory, VariantType
from variants.planning.assembly import (
    SIGNATURE_RETRIES,
    PlanLayout,
    PlannedPieces,
    PlanningContext,
    UsedChoices,
    assemble_plan,
    draw_dressing,
    fit_slots,
    planning_context,
    slots_for,
)
from variants.planning.diversity import batch_diversity, plan_distance
from variants.planning.hashtags import (
    DEFAULT_MAX_HASHTAGS,
)
from variants.planning.inputs import (
    MAX_VARIANTS,
    MIN_VARIANTS,
    BatchPlan,
    FragmentInput,
    MasterInput,
    PerformanceHints,
    PlanningError,
    VariantPlan,
)
from variants.planning.looks import look_floor
from variants.planning.pool import (
    _reachable_frames,
    possible_first_impressions,
    too_few_plans_error,
)
from variants.planning.scoring import fragment_evidence
from variants.planning.timing import (
    CATEGORIES,
    CATEGORY_FRAMES,
    PREFERRED_SECONDS,
    STRUCTURE_SEGMENTS,
    STRUCTURES,
    frames_to_seconds,
    seconds_to_frames,
)

# A first impression already in the batch is nearly always worse than any other choice.
REPEAT_FIRST_IMPRESSION_PENALTY = 1.0

# Each earlier use of a fragment in the same role lowers its draw by this much.
REUSE_PENALTY = 0.1

_DURATION_TYPES: dict[str, str] = {
    DurationCategory.SHORT: VariantType.DURATION_SHORT,
    DurationCategory.MEDIUM: VariantType.DURATION_MEDIUM,
    DurationCategory.LONG: VariantType.DURATION_LONG,
}


def _ranked(
    items: Sequence[str], scores: Mapping[str, float], rng: random.Random
) -> list[str]:
    """Best-scoring first; ties (and the no-data case) in a seeded random order."""
    shuffled = list(items)
    rng.shuffle(shuffled)
    return sorted(shuffled, key=lambda item: -scores.get(item, 0.5))


def structure_category_pair(
    index: int, structures: Sequence[str], categories: Sequence[str]
) -> tuple[str, str]:
    """The index-th cell of a Latin square: every prefix is balanced to within one.

    With three categories the structure shifts back by one every third plan, so the
    first-ranked structure is also the first to get a second plan (at the fifth). With
    one or two categories plain cycling visits every pair (3 and 2 are coprime).
    """
    if len(categories) == 3:
        return structures[(index - index // 3) % 3], categories[index % 3]
    return structures[index % 3], categories[index % len(categories)]


@dataclass
class _BatchState:
    """What the batch has drawn so far, and the seeded source it draws from."""

    rng: random.Random
    first_impressions: set[tuple[str, str, str]] = field(default_factory=set)
    role_uses: Counter[tuple[str, str]] = field(default_factory=Counter)
    category_counts: Counter[str] = field(default_factory=Counter)
    used: UsedChoices = field(default_factory=UsedChoices)
    # Signatures taken: the master's earlier variants' and this batch's plans'.
    signatures: set[str] = field(default_factory=set)


def _pick_fragment(
    *,
    candidates: Sequence[FragmentInput],
    role: str,
    structure: str,
    category: str,
    is_opener: bool,
    state: _BatchState,
) -> tuple[FragmentInput, float]:
    """Thompson draw per candidate, minus reuse penalties; the highest value wins."""
    best: tuple[float, str, FragmentInput] | None = None
    for fragment in candidates:
        draw = fragment_evidence(fragment, structure).sample(state.rng)
        value = draw - REUSE_PENALTY * state.role_uses[(role, fragment.id)]
        if is_opener and (fragment.id, structure, category) in state.first_impressions:
            value -= REPEAT_FIRST_IMPRESSION_PENALTY
        key = (value, fragment.id)
        if best is None or key > best[:2]:
            best = (value, fragment.id, fragment)
    assert best is not None  # candidates are never empty here
    return best[2], round(best[0], 4)


def _plan_once(
    *, ctx: PlanningContext, cell: tuple[str, str], state: _BatchState, attempt: int
) -> VariantPlan | None:
    """One plan of the Latin square's `cell` (structure, duration category), or None
    when its fragments cannot make it or its signature is taken."""
    structure, category = cell
    pool = ctx.pool
    segments = STRUCTURE_SEGMENTS[structure]
    opener_type = segments[0][0]
    low = CATEGORY_FRAMES[category][0]
    chosen: dict[str, FragmentInput] = {}
    draws: dict[str, float] = {}
    for role, _ in segments:
        candidates = pool.of_type(role)
        if role == opener_type:
            candidates = tuple(
                f for f in candidates if _reachable_frames(pool, structure, f) >= low
            )
            if not candidates:
                return None
        chosen[role], draws[role] = _pick_fragment(
            candidates=candidates,
            role=role,
            structure=structure,
            category=category,
            is_opener=role == opener_type,
            state=state,
        )
    outro = None
    if category == DurationCategory.LONG and pool.of_type(FragmentType.OUTRO):
        outro, draws[FragmentType.OUTRO] = _pick_fragment(
            candidates=pool.of_type(FragmentType.OUTRO),
            role=FragmentType.OUTRO,
            structure=structure,
            category=category,
            is_opener=False,
            state=state,
        )
    options = PREFERRED_SECONDS[category]
    preferred = seconds_to_frames(
        options[(state.category_counts[category] + attempt) % len(options)]
    )
    fitted = fit_slots(
        ctx=ctx,
        structure=structure,
        category=category,
        chosen=chosen,
        outro=outro,
        preferred_frames=preferred,
    )
    if fitted is None:
        return None
    placed, fit_notes = fitted
    slots = slots_for(pool, placed)
    layout = PlanLayout(
        structure=structure,
        category=category,
        slots=slots,
        duration_seconds=frames_to_seconds(sum(s.frames for s in slots)),
    )
    dressing = draw_dressing(
        ctx=ctx, layout=layout, used=state.used, rng=state.rng, attempt=attempt
    )
    if dressing.signature in state.signatures:
        return None
    rationale: dict[str, Any] = {
        "first_impression": {
            "opening_fragment_id": slots[0].fragment_id,
            "structure": structure,
            "duration_category": category,
        },
        "fragments": [
            {
                "fragment_id": f.id,
                "role": f.fragment_type,
                "frames": frames,
                "evidence_mean": fragment_evidence(f, structure).mean,
                "evidence_count": fragment_evidence(f, structure).count,
                "draw": draws.get(f.fragment_type),
            }
            for f, frames in placed
        ],
        "preferred_seconds": frames_to_seconds(preferred),
        "fit_notes": fit_notes,
        "outro_appended": any(f.fragment_type == FragmentType.OUTRO for f, _ in placed),
        "attempt": attempt,
    }
    if ctx.master.human_instructions:
        rationale["human_instructions"] = ctx.master.human_instructions
    return assemble_plan(
        ctx=ctx,
        dressing=dressing,
        variant_number=0,  # numbered once the batch is complete
        variant_type=VariantType.FRAGMENT_REORDER,  # labelled once the batch is done
        rationale=rationale,
    )


def _record(state: _BatchState, plan: VariantPlan) -> None:
    state.first_impressions.add(
        (plan.opening_fragment_id, plan.narrative_structure, plan.duration_category)
    )
    for slot in plan.slots:
        state.role_uses[(slot.fragment_type, slot.fragment_id)] += 1
    state.category_counts[plan.duration_category] += 1
    state.used.captions[plan.caption] += 1
    state.used.hashtags.update(plan.hashtags)
    state.used.looks[plan.color_look] += 1
    state.used.record_pieces(
        look=plan.color_look, overlay=plan.text_overlay, slots=plan.slots
    )
    state.signatures.add(plan.signature)


def variant_lever(plan: VariantPlan, earlier: Sequence[VariantPlan]) -> tuple[str, str]:
    """(variant_type, reason): what this plan tests against the batch so far.

    The first plan of each duration category tests that length. Any other plan is
    compared with its nearest earlier plan, and labelled by the first difference in the
    order a viewer notices: opening or hook fragment, structure, length, the other
    fragments, caption, hashtags, look.
    """
    category = plan.duration_category
    if all(p.duration_category != category for p in earlier):
        return _DURATION_TYPES[category], f"first {category} variant of the batch"
    nearest = min(earlier, key=lambda p: (plan_distance(plan, p), p.variant_number))
    ref = f"variant {nearest.variant_number}"
    if (nearest.opening_fragment_id, nearest.hook_fragment_id) != (
        plan.opening_fragment_id,
        plan.hook_fragment_id,
    ):
        return VariantType.FRAGMENT_REORDER, f"other opening or hook than {ref}"
    if nearest.narrative_structure != plan.narrative_structure:
        return VariantType.STRUCTURE_TEST, f"other structure than {ref}"
    if nearest.duration_category != category or round(
        nearest.duration_seconds
    ) != round(plan.duration_seconds):
        return _DURATION_TYPES[category], f"other length than {ref}"
    if nearest.fragment_ids != plan.fragment_ids:
        return VariantType.FRAGMENT_REORDER, f"other fragments than {ref}"
    if nearest.caption != plan.caption:
        return VariantType.CAPTION_OPTIMIZED, f"other caption than {ref}"
    if set(nearest.hashtags) != set(plan.hashtags):
        return VariantType.HASHTAG_VARIANT, f"other hashtags than {ref}"
    return VariantType.COLOR_LUT, f"other colour look than {ref}"


def plan_batch(
    *,
    master: MasterInput,
    fragments: Sequence[FragmentInput],
    hints: PerformanceHints | None = None,
    seed: int,
    max_variants: int = MAX_VARIANTS,
    count: int | None = None,
    exclude_signatures: frozenset[str] = frozenset(),
    max_hashtags: int = DEFAULT_MAX_HASHTAGS,
    earlier_pieces: PlannedPieces | None = None,
) -> BatchPlan:
    """Plan N distinct variants (5 ≤ N ≤ 15) of `master` from its approved `fragments`.

    `earlier_pieces` (`planned_pieces` of the master's earlier variants) lets the look
    lean towards pieces the renderers already have.

    N is the number of distinct first impressions the fragments allow, capped by
    `max_variants`; `count` asks for an exact N instead. Raises `PlanningError` naming
    what is missing when the inputs cannot yield five distinct variants.
    """
    if not MIN_VARIANTS <= max_variants <= MAX_VARIANTS:
        raise PlanningError(
            f"max_variants must be {MIN_VARIANTS}-{MAX_VARIANTS}, got {max_variants}."
        )
    if count is not None and not MIN_VARIANTS <= count <= MAX_VARIANTS:
        raise PlanningError(
            f"A batch has {MIN_VARIANTS}-{MAX_VARIANTS} variants; {count} were asked."
        )
    rng = random.Random(seed)
    ctx = planning_context(master, fragments, hints=hints, max_hashtags=max_hashtags)
    found = possible_first_impressions(ctx.pool)
    if len(found) < MIN_VARIANTS:
        raise too_few_plans_error(master, ctx.pool, found)
    wanted = count if count is not None else min(max_variants, len(found))
    categories = {c for _, _, c in found}
    structures = _ranked(STRUCTURES, ctx.hints.structure_scores, rng)
    ordered_categories = _ranked(
        [c for c in CATEGORIES if c in categories], ctx.hints.duration_scores, rng
    )
    notes = list(ctx.pool.set_aside)
    notes += [
        f"no {c} variants: the approved fragments are too short"
        for c in CATEGORIES
        if c not in categories
    ]

    state = _BatchState(rng=rng, signatures=set(exclude_signatures))
    state.used.pieces = dict(earlier_pieces or {})
    state.used.look_floor = look_floor(plans=wanted, looks=len(ctx.looks))
    plans: list[VariantPlan] = []
    index = 0
    while len(plans) < wanted and index < wanted * 3:
        cell = structure_category_pair(index, structures, ordered_categories)
        index += 1
        for attempt in range(SIGNATURE_RETRIES):
            plan = _plan_once(ctx=ctx, cell=cell, state=state, attempt=attempt)
            if plan is not None:
                _record(state, plan)
                plans.append(plan)
                break
    if len(plans) < wanted:
        if count is not None or len(plans) < MIN_VARIANTS:
            raise PlanningError(
                f"Only {len(plans)} variants of master {master.id} differ from each "
                f"other and from its {len(exclude_signatures)} earlier variants; "
                f"{wanted} were wanted. Approve more fragments or captions."
            )
        notes.append(f"{wanted} variants wanted, {len(plans)} distinct ones found")

    labelled: list[VariantPlan] = []
    for number, plan in enumerate(plans, start=1):
        numbered = dataclasses.replace(plan, variant_number=number)
        variant_type, reason = variant_lever(numbered, labelled)
        labelled.append(
            dataclasses.replace(
                numbered,
                variant_type=variant_type,
                rationale={**plan.rationale, "lever": reason},
            )
        )
    return BatchPlan(
        plans=tuple(labelled),
        diversity=batch_diversity(labelled),
        seed=seed,
        notes=tuple(notes),
    )
