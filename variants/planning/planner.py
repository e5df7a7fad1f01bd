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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from productions.choices import FragmentType
from variants.choices import DURATION_BOUNDS, DurationCategory, VariantType
from variants.planning.captions import (
    CaptionCandidate,
    CaptionRules,
    caption_candidates,
    check_caption_rules_satisfiable,
    choose_caption,
    text_overlay,
)
from variants.planning.diversity import batch_diversity, plan_distance, plan_signature
from variants.planning.hashtags import (
    DEFAULT_MAX_HASHTAGS,
    approved_hashtag_set,
    choose_hashtags,
)
from variants.planning.inputs import (
    BatchPlan,
    FragmentInput,
    MasterInput,
    PerformanceHints,
    PlanningError,
    SlotPlan,
    VariantPlan,
)
from variants.planning.looks import available_looks, choose_look, choose_pixel
from variants.planning.scoring import estimate_plan, fragment_evidence
from variants.planning.timing import (
    CATEGORIES,
    CATEGORY_FRAMES,
    MIN_SLOT_FRAMES,
    OUTRO_WEIGHT,
    PREFERRED_SECONDS,
    REQUIRED_TYPES,
    STRUCTURE_SEGMENTS,
    STRUCTURES,
    allocate_slot_frames,
    fragment_window,
    frames_to_seconds,
    seconds_to_frames,
)

MIN_VARIANTS = 5
MAX_VARIANTS = 15
# A first impression already in the batch is nearly always worse than any other choice.
REPEAT_FIRST_IMPRESSION_PENALTY = 1.0
# Each earlier use of a fragment in the same role lowers its draw by this much.
REUSE_PENALTY = 0.1
SIGNATURE_RETRIES = 8
# When fragments are too short for a length, longer ones are swapped in in this order.
_STRETCH_ORDER = (FragmentType.BODY, FragmentType.CTA, FragmentType.HOOK)
_DURATION_TYPES: dict[str, str] = {
    DurationCategory.SHORT: VariantType.DURATION_SHORT,
    DurationCategory.MEDIUM: VariantType.DURATION_MEDIUM,
    DurationCategory.LONG: VariantType.DURATION_LONG,
}


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


def _too_few_plans_error(
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
class UsedChoices:
    """How often each caption, hashtag and look is taken already: draws avoid them."""

    captions: Counter[str] = field(default_factory=Counter)
    hashtags: Counter[str] = field(default_factory=Counter)
    looks: Counter[str] = field(default_factory=Counter)


@dataclass
class _BatchState:
    first_impressions: set[tuple[str, str, str]] = field(default_factory=set)
    role_uses: Counter[tuple[str, str]] = field(default_factory=Counter)
    category_counts: Counter[str] = field(default_factory=Counter)
    used: UsedChoices = field(default_factory=UsedChoices)
    signatures: set[str] = field(default_factory=set)


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
    excluded: frozenset[str]


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
    """What a plan shows besides its cuts, and the signature of the ad they make."""

    caption: CaptionCandidate
    hashtags: tuple[str, ...]
    look: str
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
    each further attempt explores the captions a little more."""
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
    look = choose_look(looks=ctx.looks, hints=ctx.hints, rng=rng, used=used.looks)
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
    return Dressing(caption=caption, hashtags=hashtags, look=look, signature=signature)


def estimate_dressed_plan(
    *,
    ctx: PlanningContext,
    layout: PlanLayout,
    dressing: Dressing,
    fragments: Sequence[FragmentInput],
) -> tuple[float, float, dict[str, float]]:
    """`estimate_plan` of `fragments` cut to `layout` and shown with `dressing`."""
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
    layout: PlanLayout,
    dressing: Dressing,
    score: float,
    confidence: float,
    variant_number: int,
    variant_type: str,
    rationale: Mapping[str, Any],
) -> VariantPlan:
    """The `VariantPlan` of a layout and its dressing (the text overlay follows from
    the structure and the master's rules)."""
    return VariantPlan(
        variant_number=variant_number,
        variant_type=variant_type,
        narrative_structure=layout.structure,
        slots=layout.slots,
        duration_seconds=layout.duration_seconds,
        duration_category=layout.category,
        caption=dressing.caption.text,
        hashtags=dressing.hashtags,
        text_overlay=text_overlay(
            structure=layout.structure, title=ctx.master.title, rules=ctx.rules
        ),
        color_look=dressing.look,
        pixel_id=ctx.pixel_id,
        estimated_score=score,
        confidence=confidence,
        signature=dressing.signature,
        rationale=rationale,
    )


def _pick_fragment(
    *,
    candidates: Sequence[FragmentInput],
    role: str,
    structure: str,
    category: str,
    is_opener: bool,
    state: _BatchState,
    rng: random.Random,
) -> tuple[FragmentInput, float]:
    """Thompson draw per candidate, minus reuse penalties; the highest value wins."""
    best: tuple[float, str, FragmentInput] | None = None
    for fragment in candidates:
        draw = fragment_evidence(fragment, structure).sample(rng)
        value = draw - REUSE_PENALTY * state.role_uses[(role, fragment.id)]
        if is_opener and (fragment.id, structure, category) in state.first_impressions:
            value -= REPEAT_FIRST_IMPRESSION_PENALTY
        key = (value, fragment.id)
        if best is None or key > best[:2]:
            best = (value, fragment.id, fragment)
    assert best is not None  # candidates are never empty here
    return best[2], round(best[0], 4)


def _fit_slots(
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


def _plan_once(
    *,
    ctx: PlanningContext,
    structure: str,
    category: str,
    state: _BatchState,
    rng: random.Random,
    attempt: int,
) -> VariantPlan | None:
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
            rng=rng,
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
            rng=rng,
        )
    options = PREFERRED_SECONDS[category]
    preferred = seconds_to_frames(
        options[(state.category_counts[category] + attempt) % len(options)]
    )
    fitted = _fit_slots(
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
        ctx=ctx, layout=layout, used=state.used, rng=rng, attempt=attempt
    )
    if dressing.signature in state.signatures or dressing.signature in ctx.excluded:
        return None
    score, confidence, parts = estimate_dressed_plan(
        ctx=ctx, layout=layout, dressing=dressing, fragments=[f for f, _ in placed]
    )
    caption = dressing.caption
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
        "caption_template": caption.template,
        "caption_score": caption.score,
        "score_parts": parts,
        "attempt": attempt,
    }
    if ctx.master.human_instructions:
        rationale["human_instructions"] = ctx.master.human_instructions
    return assemble_plan(
        ctx=ctx,
        layout=layout,
        dressing=dressing,
        score=score,
        confidence=confidence,
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


def planning_context(
    *,
    master: MasterInput,
    fragments: Iterable[FragmentInput],
    hints: PerformanceHints | None,
    max_hashtags: int,
    exclude_signatures: Iterable[str],
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
        excluded=frozenset(exclude_signatures),
    )


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
) -> BatchPlan:
    """Plan N distinct variants (5 ≤ N ≤ 15) of `master` from its approved `fragments`.

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
    ctx = planning_context(
        master=master,
        fragments=fragments,
        hints=hints,
        max_hashtags=max_hashtags,
        exclude_signatures=exclude_signatures,
    )
    found = possible_first_impressions(ctx.pool)
    if len(found) < MIN_VARIANTS:
        raise _too_few_plans_error(master, ctx.pool, found)
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

    state = _BatchState()
    plans: list[VariantPlan] = []
    index = 0
    while len(plans) < wanted and index < wanted * 3:
        structure, category = structure_category_pair(
            index, structures, ordered_categories
        )
        index += 1
        for attempt in range(SIGNATURE_RETRIES):
            plan = _plan_once(
                ctx=ctx,
                structure=structure,
                category=category,
                state=state,
                rng=rng,
                attempt=attempt,
            )
            if plan is not None:
                _record(state, plan)
                plans.append(plan)
                break
    if len(plans) < wanted:
        if count is not None or len(plans) < MIN_VARIANTS:
            raise PlanningError(
                f"Only {len(plans)} variants of master {master.id} differ from each "
                f"other and from its {len(ctx.excluded)} earlier variants; "
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
