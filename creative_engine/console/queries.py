"""What the console reads: variant totals, a variant's days and its decision trail.

Console pages read through these, so each page's query count is fixed by its shape,
not by the number of rows it shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from promotion.models import PromotionLog, VariantDailyMetric
from variants.models import CreativeVariant


def _ratio(numerator: Any, denominator: Any) -> Case:
    """numerator / denominator as a float, NULL when the denominator is 0."""
    return Case(
        When(
            **{f"{denominator}__gt": 0},
            then=ExpressionWrapper(
                Cast(F(numerator), FloatField()) / Cast(F(denominator), FloatField()),
                output_field=FloatField(),
            ),
        ),
        default=None,
        output_field=FloatField(),
    )


def _lifetime_sum(field: str, output: Any) -> Coalesce:
    """A correlated sum over one variant's daily rows (the (variant, date) index)."""
    rows = (
        VariantDailyMetric.objects.filter(variant_id=OuterRef("pk"))
        .order_by()
        .values("variant_id")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=output), Value(0), output_field=output)


def with_totals(variants: QuerySet[CreativeVariant]) -> QuerySet[CreativeVariant]:
    """Every variant with its lifetime delivery and the rates a marketer sorts by.

    Sums are correlated subqueries on the (variant, date) index rather than a GROUP BY
    over the variant's every column: the grid pays for the rows it reads, sortable
    columns (spend, CTR, CVR, ROAS, CPA, hook and hold rates) included, with no query per row.
    """
    money = DecimalField(max_digits=14, decimal_places=2)
    return variants.annotate(
        total_impressions=_lifetime_sum("impressions", IntegerField()),
        total_clicks=_lifetime_sum("clicks", IntegerField()),
        total_conversions=_lifetime_sum("conversions", IntegerField()),
        total_video_views=_lifetime_sum("video_3s_views", IntegerField()),
        total_thruplays=_lifetime_sum("thruplays", IntegerField()),
        total_spend=_lifetime_sum("spend", money),
        total_revenue=_lifetime_sum("revenue", money),
    ).annotate(
        ctr=_ratio("total_clicks", "total_impressions"),
        cvr=_ratio("total_conversions", "total_clicks"),
        roas=_ratio("total_revenue", "total_spend"),
        cpa=_ratio("total_spend", "total_conversions"),
        hook_rate=_ratio("total_video_views", "total_impressions"),
        hold_rate=_ratio("total_thruplays", "total_impressions"),
    )


@dataclass(frozen=True)
class DailyPoint:
    date: dt.date
    impressions: int
    clicks: int
    conversions: int
    spend: float
    revenue: float

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None

    @property
    def cvr(self) -> float | None:
        return self.conversions / self.clicks if self.clicks else None

    @property
    def roas(self) -> float | None:
        return self.revenue / self.spend if self.spend else None


def variant_days(*, variant_id: Any) -> list[DailyPoint]:
    """The variant's measured days, oldest first (one query)."""
    rows = VariantDailyMetric.objects.filter(variant_id=variant_id).order_by("date")
    return [
        DailyPoint(
            date=row.date,
            impressions=row.impressions,
            clicks=row.clicks,
            conversions=row.conversions,
            spend=float(row.spend),
            revenue=float(row.revenue),
        )
        for row in rows
    ]


DECISION_TYPES = ("winner", "test", "pause", "archive")


def variant_decision_logs(*, variant_id: Any, limit: int = 100) -> list[PromotionLog]:
    """The decisions about the variant (ranking verdicts, archives), newest first."""
    return list(
        PromotionLog.objects.filter(variant_id=variant_id)
        .filter(
            Q(decision_details__has_key="action")
            | Q(promotion_type__in=("archive", "pause"))
        )
        .filter(promotion_type__in=DECISION_TYPES)
        .order_by("-created_at")[:limit]
    )


def variant_meta_calls(*, variant_id: Any, limit: int = 50) -> list[PromotionLog]:
    return list(
        PromotionLog.objects.filter(variant_id=variant_id).order_by("-created_at")[
            :limit
        ]
    )
