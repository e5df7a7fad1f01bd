"""What some ads delivered over some days, and the rates a marketer reads from it.

One type for every sum of delivery: a day of one ad, a variant's lifetime, a master's
two weeks, a fragment's pool on a leaderboard. Pure: counts and money in, rates out,
None where a rate has no denominator (no impressions, no clicks, no spend).

`delivery_sums` is the aggregate that fills one from VariantDailyMetric rows, so every
reader sums the same columns under the same names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from django.db.models import Sum

from productions.choices import Objective

# Each total's column of the daily rows (VariantDailyMetric).
DAILY_COLUMNS = {
    "impressions": "impressions",
    "clicks": "clicks",
    "conversions": "conversions",
    "spend": "spend",
    "revenue": "revenue",
    "views_3s": "video_3s_views",
    "thruplays": "thruplays",
}
MONEY = frozenset({"spend", "revenue"})


def delivery_sums(through: str = "") -> dict[str, Sum]:
    """The aggregate `from_sums` reads, over VariantDailyMetric rows or, `through` a
    relation (``"daily_metrics"`` from variants), over the rows it reaches."""
    prefix = f"{through}__" if through else ""
    return {
        f"sum_{name}": Sum(prefix + column) for name, column in DAILY_COLUMNS.items()
    }


class Rate:
    """A rate of two of the totals' counts: None without the denominator."""

    def __init__(self, numerator: str, denominator: str) -> None:
        self.numerator = numerator
        self.denominator = denominator

    def __get__(self, totals: object, owner: type | None = None) -> float | None:
        if totals is None:  # read on the class, not on totals
            return None
        denominator = getattr(totals, self.denominator)
        if not denominator:
            return None
        return float(getattr(totals, self.numerator) / denominator)


@dataclass(frozen=True)
class DeliveryTotals:
    """What some ads delivered over some days."""

    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    # Money, in the account's currency units (not minor units).
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
        return cls._of(lambda name, column: getattr(row, column, 0))

    @classmethod
    def from_sums(cls, sums: Mapping[str, Any]) -> DeliveryTotals:
        """A row of `.aggregate(**delivery_sums())` or `.annotate(**delivery_sums())`;
        sums over no rows (None) are zero."""
        return cls._of(lambda name, column: sums.get(f"sum_{name}"))

    @classmethod
    def _of(cls, value: Callable[[str, str], Any]) -> DeliveryTotals:
        values: dict[str, Any] = {
            name: (float if name in MONEY else int)(value(name, column) or 0)
            for name, column in DAILY_COLUMNS.items()
        }
        return cls(**values)

    def __add__(self, other: DeliveryTotals) -> DeliveryTotals:
        # Leaderboards add thousands: the values as one tuple each, in field order.
        return DeliveryTotals(
            *[a + b for a, b in zip(_values(self), _values(other), strict=True)]
        )

    def on(self, objective: str) -> float | None:
        """The value on a master's objective (ROAS, CPA or CTR)."""
        if objective not in Objective.values:
            raise ValueError(f"Unknown objective {objective!r}.")
        value: float | None = getattr(self, objective)
        return value


# A total's values in field order (DAILY_COLUMNS lists the fields in their order).
_values = attrgetter(*DAILY_COLUMNS)
# The rates, by name: what each divides by what (the grid sorts by these).
RATES: dict[str, Rate] = {
    name: rate for name, rate in vars(DeliveryTotals).items() if isinstance(rate, Rate)
}
