"""Creative analyzer (10.15): write each approved fragment's measured performance.

The maths is in `promotion.fragment_scoring` (pure); this service reads variant
results, calls it per master, and writes only the fragments' system fields. It never
touches `approved` or anything a human owns.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any
from uuid import UUID

from django.db import transaction

from productions.models import CreativeFragment, CreativeProduction
from promotion.delivery import DeliveryTotals, delivery_sums
from promotion.fragment_scoring import (
    VariantResult,
    fragment_ids_in_order,
    score_fragments,
    slots_in_play_order,
)
from promotion.models import VariantDailyMetric
from promotion.selectors import master_objectives
from variants.models import CreativeVariant

logger = logging.getLogger(__name__)

SYSTEM_FIELDS = [
    "performance_score",
    "usage_count",
    "success_rate",
    "performance_by_structure",
    "best_for_structure",
    "best_with_pixels",
    "hook_rate",
    "hold_rate",
]


@transaction.atomic
def fragments_update_performance(*, master_id: UUID | str | None = None) -> int:
    """Score the approved fragments of one master (or of all); returns how many.

    1. Load the approved fragments and, per master, its variants with their totals
       summed from the daily metrics (three queries, whatever the number of masters).
    2. Score each master's fragments (`score_fragments`).
    3. Keep only pixels the master authorizes in `best_with_pixels`.
    4. Write the system fields in one bulk update.
    """
    fragments = CreativeFragment.objects.filter(approved=True)
    variants = CreativeVariant.objects.all()
    if master_id is not None:
        fragments = fragments.filter(master_creative_id=UUID(str(master_id)))
        variants = variants.filter(parent_id=UUID(str(master_id)))
    fragment_list = list(fragments)
    master_ids = {f.master_creative_id for f in fragment_list}
    if not master_ids:
        return 0
    variant_rows = list(
        variants.filter(parent_id__in=master_ids).values(
            "id", "parent_id", "fragments_order", "narrative_structure", "pixel_id"
        )
    )
    totals = {
        t["variant_id"]: DeliveryTotals.from_sums(t)
        for t in VariantDailyMetric.objects.filter(variant__parent_id__in=master_ids)
        .values("variant_id")
        .annotate(**delivery_sums())
    }
    results_by_master: dict[UUID, list[VariantResult]] = defaultdict(list)
    for row in variant_rows:
        total = totals.get(row["id"], DeliveryTotals())
        results_by_master[row["parent_id"]].append(
            VariantResult(
                variant_id=str(row["id"]),
                fragment_ids=tuple(fragment_ids_in_order(row["fragments_order"])),
                structure=row["narrative_structure"],
                pixel_id=row["pixel_id"],
                impressions=total.impressions,
                clicks=total.clicks,
                conversions=total.conversions,
                slots=slots_in_play_order(row["fragments_order"]),
                views_3s=total.views_3s,
                thruplays=total.thruplays,
            )
        )
    authorized = {
        m.pk: {str(p) for p in (m.authorized_pixels or [])}
        for m in CreativeProduction.objects.filter(pk__in=master_ids).only(
            "id", "authorized_pixels"
        )
    }
    fragments_by_master: dict[UUID, list[CreativeFragment]] = defaultdict(list)
    for fragment in fragment_list:
        fragments_by_master[fragment.master_creative_id].append(fragment)

    objectives = master_objectives(master_ids=list(fragments_by_master))
    changed: list[CreativeFragment] = []
    for master, own in fragments_by_master.items():
        scores = score_fragments(
            fragment_ids=[str(f.id) for f in own],
            variants=results_by_master.get(master, []),
            objective=objectives[str(master)],
        )
        for fragment in own:
            before = _system_values(fragment)
            score = scores[str(fragment.id)]
            fragment.performance_score = score.performance_score
            fragment.usage_count = score.usage_count
            fragment.success_rate = score.success_rate
            fragment.performance_by_structure = score.performance_by_structure
            fragment.best_for_structure = score.best_for_structure
            fragment.hook_rate = score.hook_rate
            fragment.hold_rate = score.hold_rate
            fragment.best_with_pixels = [
                p for p in score.best_with_pixels if p in authorized.get(master, set())
            ]
            if _system_values(fragment) != before:
                changed.append(fragment)
    # Only what moved is written: a fragment whose variants measured nothing new keeps
    # its row (bulk_update's CASE expressions cost milliseconds per row to build).
    CreativeFragment.objects.bulk_update(changed, SYSTEM_FIELDS, batch_size=200)
    logger.info(
        "analyzer: scored %d fragments of %d masters (%d changed)",
        len(fragment_list),
        len(master_ids),
        len(changed),
    )
    return len(fragment_list)


def _system_values(fragment: CreativeFragment) -> list[Any]:
    return [getattr(fragment, name) for name in SYSTEM_FIELDS]
