"""What earlier variants measured, as the `PerformanceHints` the variant planner reads.

Pure: plain rows in (`promotion.selectors.master_performance_sums`), hints out. The
planner (variants) may not read promotion's tables, so promotion turns its
measurements into the planner's own type and the caller hands them in.

1. Variants below `min_impressions` say nothing yet (Meta's learning phase).
2. The event is conversions when the measured variants have enough of them, else
   clicks (`promotion.evidence`, as the analyzer and ranking decide).
3. A group's rate (a structure, a length, a word...) is smoothed towards the overall
   rate by `PRIOR_IMPRESSIONS` of pseudo-evidence; its relative rate r maps to
   r / (1 + r), so 0.5 is "average" (the planner's prior) and a group with little
   data stays near it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from productions.choices import Objective
from promotion.evidence import judging_metric
from variants.planning import PerformanceHints

MIN_IMPRESSIONS = 500
# Each group starts from this many impressions at the overall rate.
PRIOR_IMPRESSIONS = 1000
_WORD = re.compile(r"\w{4,}")


@dataclass(frozen=True)
class MeasuredVariant:
    """One variant's planned attributes and its delivery summed over every day."""

    variant_id: str
    narrative_structure: str
    duration_category: str
    caption_template: str
    caption: str
    color_look: str
    pixel_id: str
    hashtags: tuple[str, ...]
    impressions: int
    clicks: int
    conversions: int


def hints_from_measurements(
    variants: Sequence[MeasuredVariant],
    *,
    min_impressions: int = MIN_IMPRESSIONS,
    objective: str = Objective.CPA,
) -> PerformanceHints:
    """Scores per structure, length, caption template, word, look, pixel and hashtag."""
    measured = [v for v in variants if v.impressions >= min_impressions]
    if not measured:
        return PerformanceHints()
    metric = judging_metric(objective, conversions=sum(v.conversions for v in measured))

    def events(v: MeasuredVariant) -> int:
        return v.conversions if metric == "cvr" else v.clicks

    impressions = sum(v.impressions for v in measured)
    overall = sum(events(v) for v in measured) / impressions
    if overall == 0:
        return PerformanceHints(evidence=len(measured))

    def scores(keys: Callable[[MeasuredVariant], Iterable[str]]) -> dict[str, float]:
        grouped: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for v in measured:
            for key in set(keys(v)):
                if key:
                    grouped[key][0] += v.impressions
                    grouped[key][1] += events(v)
        result = {}
        for key, (shown, happened) in grouped.items():
            rate = (happened + overall * PRIOR_IMPRESSIONS) / (
                shown + PRIOR_IMPRESSIONS
            )
            relative = rate / overall
            result[key] = round(relative / (1 + relative), 4)
        return result

    return PerformanceHints(
        structure_scores=scores(lambda v: [v.narrative_structure]),
        duration_scores=scores(lambda v: [v.duration_category]),
        caption_template_scores=scores(lambda v: [v.caption_template]),
        word_scores=scores(lambda v: _WORD.findall(v.caption.lower())),
        look_scores=scores(lambda v: [v.color_look]),
        pixel_scores=scores(lambda v: [v.pixel_id]),
        hashtag_scores=scores(lambda v: v.hashtags),
        evidence=len(measured),
    )
