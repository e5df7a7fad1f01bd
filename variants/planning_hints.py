"""Selector: what earlier variants measured, as `PerformanceHints` for the planner.

Scope: the variants of every master in the master's campaign (SPEC: the best structure
is detected per campaign), or the master's own variants when it names no campaign.
The event counted is conversions when the scope has enough of them, else clicks (as the
creative analyzer does). A group's rate is smoothed towards the overall rate; its
relative rate r maps to r / (1 + r), so 0.5 is "average" (the planner's prior) and a
group with little data stays near it. Fragment scores come from the fragments
themselves (promotion/fragment_scoring.py).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db.models import Q, Sum

from productions.models import CreativeProduction
from promotion.models import VariantDailyMetric
from variants.models import CreativeVariant
from variants.planning import PerformanceHints

# Variants below this many impressions say nothing yet (Meta's learning phase).
MIN_IMPRESSIONS = 500
# Each group starts from this many impressions at the overall rate.
PRIOR_IMPRESSIONS = 1000
# Below this many conversions in scope, clicks are the event (conversions too sparse).
MIN_CONVERSIONS = 30
_WORD = re.compile(r"\w{4,}")


def performance_hints_for_master(
    *, master: CreativeProduction, min_impressions: int = MIN_IMPRESSIONS
) -> PerformanceHints:
    """Two queries: per-variant totals, then the attributes of the measured variants."""
    scope = (
        Q(parent__campaign_id=master.campaign_id)
        if master.campaign_id
        else Q(parent_id=master.pk)
    )
    sums = [
        row
        for row in VariantDailyMetric.objects.filter(
            variant__in=CreativeVariant.objects.filter(scope).values("pk")
        )
        .values("variant_id")
        .annotate(
            impressions=Sum("impressions"),
            clicks=Sum("clicks"),
            conversions=Sum("conversions"),
        )
        if (row["impressions"] or 0) >= min_impressions
    ]
    if not sums:
        return PerformanceHints()
    use_conversions = sum(r["conversions"] or 0 for r in sums) >= MIN_CONVERSIONS
    totals = {
        r["variant_id"]: (
            r["impressions"],
            (r["conversions"] if use_conversions else r["clicks"]) or 0,
        )
        for r in sums
    }
    impressions = sum(i for i, _ in totals.values())
    events = sum(e for _, e in totals.values())
    if events == 0:
        return PerformanceHints(evidence=len(totals))
    overall = events / impressions
    rows = list(
        CreativeVariant.objects.filter(pk__in=totals).values(
            "pk",
            "narrative_structure",
            "duration_category",
            "color_look",
            "pixel_id",
            "hashtags",
            "caption",
            "plan_details",
        )
    )

    def scores(keys: Callable[[Mapping[str, Any]], Iterable[str]]) -> dict[str, float]:
        grouped: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for row in rows:
            shown, clicked = totals[row["pk"]]
            for key in set(keys(row)):
                if key:
                    grouped[key][0] += shown
                    grouped[key][1] += clicked
        result = {}
        for key, (shown, happened) in grouped.items():
            rate = (happened + overall * PRIOR_IMPRESSIONS) / (
                shown + PRIOR_IMPRESSIONS
            )
            relative = rate / overall
            result[key] = round(relative / (1 + relative), 4)
        return result

    def template(row: Mapping[str, Any]) -> list[str]:
        details = row["plan_details"] if isinstance(row["plan_details"], dict) else {}
        return [str(details.get("caption_template") or "")]

    return PerformanceHints(
        structure_scores=scores(lambda r: [r["narrative_structure"]]),
        duration_scores=scores(lambda r: [r["duration_category"]]),
        caption_template_scores=scores(template),
        word_scores=scores(lambda r: _WORD.findall(r["caption"].lower())),
        look_scores=scores(lambda r: [r["color_look"]]),
        pixel_scores=scores(lambda r: [r["pixel_id"]]),
        hashtag_scores=scores(lambda r: [str(t) for t in r["hashtags"] or []]),
        evidence=len(totals),
    )
