"""Which event a master's evidence counts: conversions when there are enough, else clicks.

Pure: plain data in, a metric out. Ranking, fatigue, the creative analyzer and the
planner's hints must judge a master by the same event, or one variant could be
promoted on clicks and retired on conversions. Conversions arrive for days after the
click, so only mature days (older than `conversion_lag_days`) count towards the
threshold: a late-arriving day would otherwise switch the metric before its
conversions are complete.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from promotion.daystats import DayStats, Metric

# Below this many conversions, clicks are the event: conversions are too sparse.
MIN_CONVERSIONS = 30


@dataclass(frozen=True)
class MetricRule:
    """When conversions become a master's event, and which days count for it."""

    min_conversions: int = MIN_CONVERSIONS
    # Conversions of the last `conversion_lag_days` complete days are still arriving.
    conversion_lag_days: int = 1
    # Only recent days count; None counts every day.
    lookback_days: int | None = 56


def metric_for_conversions(
    conversions: int, *, min_conversions: int = MIN_CONVERSIONS
) -> Metric:
    """Conversions per impression once there are `min_conversions`, else CTR."""
    return "cvr" if conversions >= min_conversions else "ctr"


def usable_days(
    days: Iterable[DayStats], metric: Metric, *, as_of: dt.date, rule: MetricRule
) -> list[DayStats]:
    """Complete days inside the lookback; for conversions, only mature days."""
    # Ordinals, not dates: no day arithmetic can overflow near date.min.
    last = as_of.toordinal() - 1
    if metric == "cvr":
        last -= rule.conversion_lag_days
    first = -math.inf
    if rule.lookback_days is not None:
        first = as_of.toordinal() - rule.lookback_days
    return [d for d in days if first <= d.date.toordinal() <= last]


def choose_metric(
    days_by_variant: Iterable[Iterable[DayStats]], *, as_of: dt.date, rule: MetricRule
) -> Metric:
    """The metric for a master from its variants' daily rows, on the day `as_of`."""
    mature = sum(
        d.conversions
        for days in days_by_variant
        for d in usable_days(days, "cvr", as_of=as_of, rule=rule)
    )
    return metric_for_conversions(mature, min_conversions=rule.min_conversions)
