"""Reads behind the leaderboards: each variant's delivery over a date range, what it
is made of, and the fragments it used, in a constant number of queries (three,
whatever the number of variants); the ranking itself is `promotion.leaderboards`."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from productions.models import CreativeFragment, CreativeProduction
from promotion.delivery import DeliveryTotals, delivery_sums
from promotion.leaderboards import FragmentInfo, VariantTotals
from promotion.models import VariantDailyMetric
from variants.models import CreativeVariant


@dataclass(frozen=True)
class LeaderboardScope:
    """Which delivery counts: days from `since` to `until` (inclusive), optionally one
    master's variants or one campaign's."""

    since: dt.date
    until: dt.date
    master_id: str = ""
    campaign_id: str = ""


def leaderboard_variant_totals(
    scope: LeaderboardScope,
) -> tuple[list[VariantTotals], dict[str, FragmentInfo]]:
    """Each measured variant's sums in the scope, and the fragments they used.

    Queries: (1) the metric sums per variant; (2) those variants' fragment slots and
    campaign; (3) the fragments with their master's title.
    """
    in_scope = CreativeVariant.objects.order_by()
    if scope.master_id:
        try:
            master_id = uuid.UUID(scope.master_id)
        except ValueError:
            return [], {}
        in_scope = in_scope.filter(parent_id=master_id)
    if scope.campaign_id:
        in_scope = in_scope.filter(
            Q(campaign_id=scope.campaign_id)
            | Q(campaign_id="", parent__campaign_id=scope.campaign_id)
        )
    # Days of the variants in scope, through the (variant, date) index: a date range
    # alone leads SQLite to the date index and a sort of every row it finds.
    metrics = VariantDailyMetric.objects.filter(
        variant_id__in=in_scope.values("pk"),
        date__gte=scope.since,
        date__lte=scope.until,
    )
    sums = {
        row["variant_id"]: row
        # No ordering: the model's (by variant, then master) would join both tables.
        for row in metrics.order_by().values("variant_id").annotate(**delivery_sums())
    }
    if not sums:
        return [], {}
    # The scope again rather than a list of its ids: an IN of hundreds of UUIDs
    # costs more to bind than the rows cost to read.
    variants = in_scope.values(
        "id",
        "parent_id",
        "campaign_id",
        "parent__campaign_id",
        "narrative_structure",
        "fragments_order",
    )
    rows: list[VariantTotals] = []
    fragment_ids: set[str] = set()
    for variant in variants:
        row = sums.get(variant["id"])
        if row is None:
            continue  # no measured day in the range
        used = _fragment_ids(variant["fragments_order"])
        fragment_ids.update(used)
        rows.append(
            VariantTotals(
                variant_id=str(variant["id"]),
                master_id=str(variant["parent_id"]),
                campaign_id=variant["campaign_id"] or variant["parent__campaign_id"],
                structure=variant["narrative_structure"],
                fragment_ids=used,
                totals=DeliveryTotals.from_sums(row),
            )
        )
    return rows, _fragments(fragment_ids, masters=in_scope.values("parent_id"))


def _fragment_ids(fragments_order: Any) -> tuple[str, ...]:
    if not isinstance(fragments_order, list):
        return ()
    return tuple(
        str(slot["fragment_id"])
        for slot in fragments_order
        if isinstance(slot, dict) and slot.get("fragment_id")
    )


def _fragments(ids: set[str], *, masters: Any) -> dict[str, FragmentInfo]:
    """The used fragments, read as the fragments of the masters in scope."""
    fragments = CreativeFragment.objects.filter(master_creative_id__in=masters).values(
        "id",
        "fragment_type",
        "label",
        "start_time",
        "end_time",
        "master_creative__title",
    )
    return {
        str(f["id"]): FragmentInfo(
            fragment_id=str(f["id"]),
            fragment_type=f["fragment_type"],
            label=f["label"]
            or f"{f['fragment_type'].upper()} {f['start_time']:.1f}–{f['end_time']:.1f} s",
            master_title=f["master_creative__title"],
        )
        for f in fragments
        if str(f["id"]) in ids
    }


def leaderboard_filter_choices() -> tuple[list[tuple[str, str]], list[str]]:
    """Masters (id, title) and campaign ids to filter by: two queries."""
    masters = [
        (str(pk), title)
        for pk, title in CreativeProduction.objects.order_by("title").values_list(
            "id", "title"
        )
    ]
    campaigns = sorted(
        set(
            CreativeProduction.objects.exclude(campaign_id="").values_list(
                "campaign_id", flat=True
            )
        )
    )
    return masters, campaigns
