"""What the console reads: variants' delivery, a variant's days and its decisions.

Console pages read through these, so each page's query count is fixed by its shape,
not by the number of rows it shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from django.db.models import (
    DecimalField,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from promotion.delivery import (
    DAILY_COLUMNS,
    MONEY,
    RATES,
    DeliveryTotals,
    delivery_sums,
)
from promotion.models import PromotionLog, VariantDailyMetric
from variants.models import CreativeVariant


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


def _lifetime_rate(numerator: str, denominator: str) -> Subquery:
    """One correlated subquery for a rate of two sums over one variant's daily rows:
    NULL without the denominator (a rate of two sum aliases would run three)."""
    rows = (
        VariantDailyMetric.objects.filter(variant_id=OuterRef("pk"))
        .order_by()
        .values("variant_id")
        .annotate(
            rate=Cast(Sum(numerator), FloatField())
            / NullIf(Cast(Sum(denominator), FloatField()), Value(0.0))
        )
        .values("rate")
    )
    return Subquery(rows, output_field=FloatField())


_MONEY = DecimalField(max_digits=14, decimal_places=2)
# The grid's sort keys: each total's lifetime sum, and each rate of two sums.
_SUMS: dict[str, tuple[str, Any]] = {
    f"total_{name}": (column, _MONEY if name in MONEY else IntegerField())
    for name, column in DAILY_COLUMNS.items()
}
_RATES: dict[str, tuple[str, str]] = {
    name: (DAILY_COLUMNS[rate.numerator], DAILY_COLUMNS[rate.denominator])
    for name, rate in RATES.items()
}
SORT_KEYS = frozenset(_SUMS) | frozenset(_RATES)


def with_sort_keys(
    variants: QuerySet[CreativeVariant], keys: Collection[str]
) -> QuerySet[CreativeVariant]:
    """The variants with the lifetime delivery keys a sort asks for (of `SORT_KEYS`),
    as aliases: the database computes only the sort's own key, and no column is read
    for the rows a page does not show (their numbers: `delivery_by_variant`).

    Sums are correlated subqueries on the (variant, date) index rather than a GROUP BY
    over the variant's every column.
    """
    aliases: dict[str, Any] = {
        key: _lifetime_sum(*_SUMS[key]) for key in keys if key in _SUMS
    }
    aliases.update({key: _lifetime_rate(*_RATES[key]) for key in keys if key in _RATES})
    return variants.alias(**aliases) if aliases else variants


def delivery_by_variant(variant_ids: Collection[Any]) -> dict[Any, DeliveryTotals]:
    """The lifetime delivery of each of these variants, in one query (a variant with
    no measured day is absent)."""
    rows = (
        VariantDailyMetric.objects.filter(variant_id__in=list(variant_ids))
        .order_by()
        .values("variant_id")
        .annotate(**delivery_sums())
    )
    return {row["variant_id"]: DeliveryTotals.from_sums(row) for row in rows}


def delivery_by_master(master_ids: Collection[Any]) -> dict[Any, DeliveryTotals]:
    """The lifetime delivery of each of these masters' variants, in one query: their
    variants in master order (the parent index), each one's days by its own."""
    rows = (
        CreativeVariant.objects.filter(parent_id__in=list(master_ids))
        .order_by()
        .values("parent_id")
        .annotate(**delivery_sums(through="daily_metrics"))
    )
    return {row["parent_id"]: DeliveryTotals.from_sums(row) for row in rows}


def period_end() -> dt.date:
    """The last day a page shows by default: today, or the newest measured day when
    the stub market's clock runs ahead of the wall clock (a demo's simulated days)."""
    newest = VariantDailyMetric.objects.aggregate(newest=Max("date"))["newest"]
    today = timezone.localdate()
    return max(today, newest) if newest else today


def variant_daily_rows(*, variant_id: Any) -> list[VariantDailyMetric]:
    """The variant's measured days, oldest first (one query)."""
    return list(
        VariantDailyMetric.objects.filter(variant_id=variant_id).order_by("date")
    )


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
