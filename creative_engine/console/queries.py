"""What the console reads: variant totals, a variant's days and its decision trail.

Console pages read through these, so each page's query count is fixed by its shape,
not by the number of rows it shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from promotion.models import PromotionLog, VariantDailyMetric
from variants.models import CreativeVariant

_ZERO_MONEY = Value(
    Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2)
)


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


def with_totals(variants: QuerySet[CreativeVariant]) -> QuerySet[CreativeVariant]:
    """Every variant with its lifetime delivery and the rates a marketer sorts by.

    One aggregate over the daily rows joined to the page's variants: sortable columns
    (spend, CTR, CVR, ROAS, CPA, hook rate) without a query per row.
    """
    return variants.annotate(
        total_impressions=Coalesce(
            Sum("daily_metrics__impressions"), 0, output_field=IntegerField()
        ),
        total_clicks=Coalesce(
            Sum("daily_metrics__clicks"), 0, output_field=IntegerField()
        ),
        total_conversions=Coalesce(
            Sum("daily_metrics__conversions"), 0, output_field=IntegerField()
        ),
        total_video_views=Coalesce(
            Sum("daily_metrics__video_plays"), 0, output_field=IntegerField()
        ),
        total_spend=Coalesce(Sum("daily_metrics__spend"), _ZERO_MONEY),
        total_revenue=Coalesce(Sum("daily_metrics__revenue"), _ZERO_MONEY),
    ).annotate(
        ctr=_ratio("total_clicks", "total_impressions"),
        cvr=_ratio("total_conversions", "total_clicks"),
        roas=_ratio("total_revenue", "total_spend"),
        cpa=_ratio("total_spend", "total_conversions"),
        hook_rate=_ratio("total_video_views", "total_impressions"),
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
