"""What some ads delivered over some days, and the rates a marketer reads from it.

One type for every sum of delivery: a day of one ad, a variant's lifetime, a master's
two weeks, a fragment's pool on a leaderboard. Pure: counts and money in, rates out,
None where a rate has no denominator (no impressions, no clicks, no spend).

`delivery_sums` is the aggregate that fills one from VariantDailyMetric rows, so every
reader sums the same columns under the same names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Sum

from productions.choices import Objective

# The daily-row columns a DeliveryTotals sums, by the names `from_sums` reads.
_SUMMED = {
    "sum_impressions": "impressions",
    "sum_clicks": "clicks",
    "sum_conversions": "conversions",
    "sum_spend": "spend",
    "sum_revenue": "revenue",
    "sum_views_3s": "video_3s_views",
    "sum_thruplays": "thruplays",
}


def delivery_sums(through: str = "") -> dict[str, Sum]:
    """The aggregate `from_sums` reads, over VariantDailyMetric rows or, `through` a
    relation (``"daily_metrics"`` from variants), over the rows it reaches."""
    prefix = f"{through}__" if through else ""
    return {name: Sum(prefix + column) for name, column in _SUMMED.items()}


class Rate:
    """A rate of two of the totals' counts: None without the denominator."""

    def __init__(self, numerator: str, denominator: str) -> None:
        self.numerator = numerator
        self.denominator = denominator

    def __get__(self, totals: object, owner: type | None = None) -> float | None:
        denominator = getattr(totals, self.denominator)
        if not denominator:
            return None
        return float(getattr(totals, self.numerator) / denominator)


@dataclass(frozen=True)
class DeliveryTotals:
    """Counts and money (the account's currency units, not minor units)."""

    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    spend: float = 0.0
    revenue: float = 0.0
    # Retention: 3-second views (people who stopped scrolling) and ThruPlays.
    views_3s: int = 0
    thruplays: int = 0

    ctr = Rate("clicks", "impressions")
    cvr = Rate("conversions", "clicks")
    roas = Rate("revenue", "spend")
    cpa = Rate("spend", "conversions")
    hook_rate = Rate("views_3s", "impressions")
    hold_rate = Rate("thruplays", "impressions")

    @classmethod
    def of_row(cls, row: Any) -> DeliveryTotals:
        """One stored daily row (anything with VariantDailyMetric's fields)."""
        return cls(
            impressions=row.impressions,
            clicks=row.clicks,
            conversions=row.conversions,
            spend=float(row.spend),
            revenue=float(row.revenue),
            views_3s=getattr(row, "video_3s_views", 0) or 0,
            thruplays=getattr(row, "thruplays", 0) or 0,
        )

    @classmethod
    def from_sums(cls, sums: Mapping[str, Any]) -> DeliveryTotals:
        """A row of `.aggregate(**delivery_sums())` or `.annotate(**delivery_sums())`;
        sums over no rows (None) are zero."""
        return cls(
            impressions=int(sums.get("sum_impressions") or 0),
            clicks=int(sums.get("sum_clicks") or 0),
            conversions=int(sums.get("sum_conversions") or 0),
            spend=float(sums.get("sum_spend") or 0),
            revenue=float(sums.get("sum_revenue") or 0),
            views_3s=int(sums.get("sum_views_3s") or 0),
            thruplays=int(sums.get("sum_thruplays") or 0),
        )

    def __add__(self, other: DeliveryTotals) -> DeliveryTotals:
        return DeliveryTotals(
            self.impressions + other.impressions,
            self.clicks + other.clicks,
            self.conversions + other.conversions,
            self.spend + other.spend,
            self.revenue + other.revenue,
            self.views_3s + other.views_3s,
            self.thruplays + other.thruplays,
        )

    def on(self, objective: str) -> float | None:
        """The value on a master's objective (ROAS, CPA or CTR)."""
        if objective not in Objective.values:
            raise ValueError(f"Unknown objective {objective!r}.")
        value: float | None = getattr(self, objective)
        return value
