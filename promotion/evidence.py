"""The team's objective, and which event a master's evidence counts for it.

Each master has an objective a person picks (`productions.choices.Objective`): ROAS,
CPA or CTR; blank means ROAS when the pixel reports revenue, else CPA
(`resolve_objective`). `judging_metric` is the one function every judge (ranking,
budget steps, fatigue, the creative analyzer, the planner's hints) asks which event
to count: clicks for CTR; for ROAS and CPA, conversions once the master has enough
mature ones, and until then clicks as the leading indicator (a handful of
conversions cannot order variants; the click-informed posterior still weighs every
conversion seen). Evidence gates for ROAS and CPA are in the objective's own units
(spend and conversions, `objective_is_money`), so nothing is judged on $12 of spend.

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

from productions.choices import Objective
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


def resolve_objective(chosen: str, *, revenue_tracked: bool) -> Objective:
    """The objective a person chose, else ROAS when revenue is tracked, else CPA."""
    if chosen:
        return Objective(chosen)
    return Objective.ROAS if revenue_tracked else Objective.CPA


def objective_is_money(objective: str) -> bool:
    """ROAS and CPA are judged on spend and conversions, CTR on impressions."""
    return objective in (Objective.ROAS, Objective.CPA)


def judging_metric(
    objective: str, *, conversions: int, min_conversions: int = MIN_CONVERSIONS
) -> Metric:
    """The event a judge counts for `objective`, given the master's (mature)
    conversions: clicks for CTR; conversions for ROAS/CPA once there are
    `min_conversions` of them, clicks (the leading indicator) before."""
    if objective == Objective.CTR:
        return "ctr"
    return metric_for_conversions(conversions, min_conversions=min_conversions)


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
    days_by_variant: Iterable[Iterable[DayStats]],
    *,
    as_of: dt.date,
    rule: MetricRule,
    objective: str = Objective.CPA,
) -> Metric:
    """The metric for a master from its variants' daily rows, on the day `as_of`."""
    mature = sum(
        d.conversions
        for days in days_by_variant
        for d in usable_days(days, "cvr", as_of=as_of, rule=rule)
    )
    return judging_metric(
        objective, conversions=mature, min_conversions=rule.min_conversions
    )
