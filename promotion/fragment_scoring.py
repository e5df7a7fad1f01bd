"""The creative analyzer's maths (10.15): fragment performance from variant results.

Pure: plain data in, plain data out. Scores are on [0, 1] with 0.5 = the master's
average, the scale the variant planner reads (variants/planning/inputs.py).

How a fragment is scored, per master:
1. The master's event is what its objective counts (`promotion.evidence.
   judging_metric`, the one rule ranking and fatigue use); its rate is events per
   impression over all its variants (the master average).
2. A fragment's rate pools the impressions and events of every variant that used it,
   smoothed towards the master average by `prior_impressions` of pseudo-evidence, so
   a fragment seen in one small variant stays near average.
3. Relative performance r = fragment rate / master average (1 = average) is mapped to
   r / (1 + r): 0.5 at average, towards 1 for better, towards 0 for worse.
4. Success rate: the share of its measured variants whose smoothed rate beats the
   master's median variant.
5. The same score per narrative structure and per pixel; the best structure and the
   best pixels need `min_impressions` of evidence.
6. Retention (`retention_by_fragment`), attributed by what is on screen when: the
   hook rate (3-second views per impression) to the fragments playing in the first
   `HOOK_SECONDS` (the structure and the cut lengths say which: the CTA opens a
   CTA-first variant), the hold rate (ThruPlays per impression) to every fragment by
   its share of the screen time. A hook is judged by whether people stop, long
   before clicks can tell: an opening fragment's smoothing prior (step 2) is the
   master average times its hook rate relative to the master's (`hook_priors`),
   so generation reaches for hooks that stop people before their clicks add up.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from productions.choices import Objective
from promotion.evidence import MIN_CONVERSIONS, judging_metric


@dataclass(frozen=True)
class VariantResult:
    variant_id: str
    fragment_ids: tuple[str, ...]
    structure: str
    pixel_id: str
    impressions: int
    clicks: int
    conversions: int
    # The cut in play order, (fragment id, seconds on screen), and its retention.
    slots: tuple[tuple[str, float], ...] = ()
    views_3s: int = 0
    thruplays: int = 0


HOOK_SECONDS = 3.0


@dataclass(frozen=True)
class Retention:
    hook_rate: float | None  # 3-second views per impression while it opens
    hold_rate: float | None  # ThruPlays per impression, by its screen time


def slots_in_play_order(
    fragments_order: Sequence[Any],
) -> tuple[tuple[str, float], ...]:
    """(fragment id, seconds) of a variant's cut, from `fragments_order` slots."""
    slots = []
    for slot in fragments_order or []:
        if not isinstance(slot, Mapping):
            continue
        seconds = float(slot.get("source_out", 0.0)) - float(slot.get("source_in", 0.0))
        fragment_id = _slot_fragment_id(slot)
        if fragment_id and seconds > 0:
            slots.append((str(fragment_id), seconds))
    return tuple(slots)


def retention_by_fragment(variants: Sequence[VariantResult]) -> dict[str, Retention]:
    """Each fragment's hook and hold rate from the variants that showed it.

    A variant's impressions count for a fragment by the share of the first
    `HOOK_SECONDS` it fills (hook rate) or of the whole cut (hold rate), so a
    fragment that opens many variants is judged on their stops."""
    hook: dict[str, list[float]] = {}
    hold: dict[str, list[float]] = {}
    for v in variants:
        if not v.slots or v.impressions <= 0:
            continue
        total = sum(seconds for _, seconds in v.slots)
        at = 0.0
        for fragment_id, seconds in v.slots:
            opening = max(0.0, min(at + seconds, HOOK_SECONDS) - at) / HOOK_SECONDS
            at += seconds
            if opening > 0:
                cell = hook.setdefault(fragment_id, [0.0, 0.0])
                cell[0] += opening * v.views_3s
                cell[1] += opening * v.impressions
            weight = seconds / total
            cell = hold.setdefault(fragment_id, [0.0, 0.0])
            cell[0] += weight * v.thruplays
            cell[1] += weight * v.impressions

    def rate(cells: dict[str, list[float]], fragment_id: str) -> float | None:
        events, shown = cells.get(fragment_id, (0.0, 0.0))
        return round(events / shown, 6) if shown > 0 else None

    return {
        f: Retention(hook_rate=rate(hook, f), hold_rate=rate(hold, f))
        for f in set(hook) | set(hold)
    }


@dataclass(frozen=True)
class FragmentPerformance:
    fragment_id: str
    performance_score: float | None
    usage_count: int
    success_rate: float | None
    performance_by_structure: dict[str, float] = field(default_factory=dict)
    best_for_structure: str = ""
    best_with_pixels: list[str] = field(default_factory=list)
    hook_rate: float | None = None
    hold_rate: float | None = None


@dataclass(frozen=True)
class ScoringRules:
    prior_impressions: float = 1000.0
    min_impressions: int = 500  # a variant (or group) counts as measured from here
    min_conversions: int = MIN_CONVERSIONS  # below this, clicks are the event
    max_best_pixels: int = 3
    # How far a hook's stopping power alone may move its prior (relative rate).
    hook_prior_bounds: tuple[float, float] = (0.5, 2.0)


def fragment_ids_in_order(fragments_order: Sequence[Any]) -> list[str]:
    """Fragment ids of a variant's slots (`CreativeVariant.fragments_order`)."""
    ids: list[str] = []
    for slot in fragments_order or []:
        value = _slot_fragment_id(slot)
        if value:
            ids.append(str(value))
    return ids


def _slot_fragment_id(slot: Any) -> Any:
    if isinstance(slot, Mapping):
        return slot.get("fragment_id") or slot.get("id")
    return slot


def hook_fragment_id(fragments_order: Sequence[Any]) -> str:
    """The hook slot's fragment (what the viewer is hooked by), else the first slot."""
    for slot in fragments_order or []:
        if isinstance(slot, Mapping) and slot.get("fragment_type") == "hook":
            return str(_slot_fragment_id(slot) or "")
    ids = fragment_ids_in_order(fragments_order)
    return ids[0] if ids else ""


def score_fragments(
    *,
    fragment_ids: Iterable[str],
    variants: Sequence[VariantResult],
    rules: ScoringRules | None = None,
    objective: str = Objective.CPA,
) -> dict[str, FragmentPerformance]:
    """Performance of each fragment of one master from that master's variants."""
    rules = rules or ScoringRules()
    total_impressions = sum(v.impressions for v in variants)
    metric = judging_metric(
        objective,
        conversions=sum(v.conversions for v in variants),
        min_conversions=rules.min_conversions,
    )
    use_conversions = metric == "cvr"

    def events(v: VariantResult) -> int:
        return v.conversions if use_conversions else v.clicks

    total_events = sum(events(v) for v in variants)
    mean_rate = total_events / total_impressions if total_impressions else 0.0

    def smoothed(impressions: float, hits: float, prior: float = 1.0) -> float:
        k = rules.prior_impressions
        return (hits + k * mean_rate * prior) / (impressions + k)

    def score(group: Sequence[VariantResult], prior: float = 1.0) -> float | None:
        impressions = sum(v.impressions for v in group)
        if impressions == 0 or mean_rate == 0:
            return None
        ratio = smoothed(impressions, sum(events(v) for v in group), prior) / mean_rate
        return round(ratio / (1 + ratio), 4)

    measured = [v for v in variants if v.impressions >= rules.min_impressions]
    median = (
        statistics.median(smoothed(v.impressions, events(v)) for v in measured)
        if measured
        else None
    )

    retention = retention_by_fragment(variants)
    stops = hook_priors(variants, retention, rules)
    results: dict[str, FragmentPerformance] = {}
    for fragment_id in fragment_ids:
        using = [v for v in variants if fragment_id in v.fragment_ids]
        mine_measured = [v for v in using if v.impressions >= rules.min_impressions]
        success_rate = None
        if mine_measured and median is not None:
            wins = sum(
                1 for v in mine_measured if smoothed(v.impressions, events(v)) > median
            )
            success_rate = round(wins / len(mine_measured), 4)

        by_structure, best_structure = _grouped(
            using, key=lambda v: v.structure, score=score, rules=rules
        )
        by_pixel, _ = _grouped(
            [v for v in using if v.pixel_id],
            key=lambda v: v.pixel_id,
            score=score,
            rules=rules,
        )
        pixel_evidence = {
            p: sum(v.impressions for v in using if v.pixel_id == p) for p in by_pixel
        }
        best_pixels = sorted(
            (p for p in by_pixel if pixel_evidence[p] >= rules.min_impressions),
            key=lambda p: (-by_pixel[p], p),
        )[: rules.max_best_pixels]

        results[fragment_id] = FragmentPerformance(
            fragment_id=fragment_id,
            performance_score=score(using, stops.get(fragment_id, 1.0)),
            usage_count=len(using),
            success_rate=success_rate,
            performance_by_structure=by_structure,
            best_for_structure=best_structure,
            best_with_pixels=best_pixels,
            hook_rate=retention[fragment_id].hook_rate
            if fragment_id in retention
            else None,
            hold_rate=retention[fragment_id].hold_rate
            if fragment_id in retention
            else None,
        )
    return results


def hook_priors(
    variants: Sequence[VariantResult],
    retention: Mapping[str, Retention],
    rules: ScoringRules,
) -> dict[str, float]:
    """Each opening fragment's expected rate relative to the master's, from how
    well it stops the scroll: clicks per impression are stops per impression times
    clicks per stop, so a hook stopping twice as many people starts at twice the
    average before its own events say more. Clipped to `hook_prior_bounds`, and
    only once the master reports 3-second views."""
    views = sum(v.views_3s for v in variants if v.slots)
    shown = sum(v.impressions for v in variants if v.slots)
    if views <= 0 or shown <= 0:
        return {}
    master = views / shown
    low, high = rules.hook_prior_bounds
    return {
        f: min(max(r.hook_rate / master, low), high)
        for f, r in retention.items()
        if r.hook_rate is not None
    }


def _grouped(
    variants: Sequence[VariantResult],
    *,
    key: Any,
    score: Any,
    rules: ScoringRules,
) -> tuple[dict[str, float], str]:
    """Scores per group, and the best group with enough evidence ("" if none)."""
    groups: dict[str, list[VariantResult]] = {}
    for v in variants:
        groups.setdefault(key(v), []).append(v)
    scores: dict[str, float] = {}
    best = ""
    best_score = -1.0
    for name in sorted(groups):
        value = score(groups[name])
        if value is None:
            continue
        scores[name] = value
        evidence = sum(v.impressions for v in groups[name])
        if evidence >= rules.min_impressions and value > best_score:
            best, best_score = name, value
    return scores, best
