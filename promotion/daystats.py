"""One day of one ad's delivery, and the one-day-spike guard both planners share.

Ranking (top 3) and fatigue read the same daily rows (VariantDailyMetric, converted
by the caller) and must agree on two things: what a "success" is for a metric, and
which days are one-day spikes that may not decide anything (DESIGN.md, spike manager).
Keeping both here means a day that ranking ignores is a day fatigue ignores too. The
small Beta/binomial helpers live here because the spike test needs them and ranking
builds its credible intervals on them (there is no SciPy in the stack).

Metrics are rates per impression, so every day is a binomial trial count:
- ``ctr``: clicks per impression;
- ``cvr``: conversions per impression (the end-to-end rate a marketer pays for; a
  click that never converts is worth nothing to it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

Metric = Literal["ctr", "cvr"]
METRICS: tuple[Metric, ...] = ("ctr", "cvr")


@dataclass(frozen=True)
class DayStats:
    """One day of Meta insights for one ad. Money in currency units (not minor)."""

    date: dt.date
    impressions: int
    clicks: int
    conversions: int
    spend: float
    revenue: float
    frequency: float = 0.0
    # 3-second video views: people who stopped scrolling (the hook rate's events).
    views_3s: int = 0

    def __post_init__(self) -> None:
        if self.impressions < 0 or self.clicks < 0 or self.conversions < 0:
            raise ValueError(f"{self.date}: counts must not be negative.")
        if self.clicks > self.impressions:
            raise ValueError(f"{self.date}: more clicks than impressions.")

    def successes(self, metric: Metric) -> int:
        """The day's events for `metric` (clicks or conversions)."""
        if metric == "ctr":
            return self.clicks
        if metric == "cvr":
            return self.conversions
        raise ValueError(f"Unknown metric {metric!r}; expected one of {METRICS}.")


def day_stats_from_rows(rows: Iterable[Any]) -> list[DayStats]:
    """DayStats from stored daily rows (anything with VariantDailyMetric's fields)."""
    return [
        DayStats(
            date=row.date,
            impressions=row.impressions,
            clicks=min(row.clicks, row.impressions),
            conversions=row.conversions,
            spend=float(row.spend),
            revenue=float(row.revenue),
            frequency=row.frequency,
            views_3s=min(getattr(row, "video_3s_views", 0) or 0, row.impressions),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Totals:
    """Summed counts of some days for one metric."""

    successes: int
    trials: int
    spend: float
    frequency: float  # impression-weighted mean; 0.0 when nothing was delivered

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials else 0.0

    @property
    def cost_per_result(self) -> float | None:
        return self.spend / self.successes if self.successes else None


def totals(days: Iterable[DayStats], metric: Metric) -> Totals:
    successes = trials = 0
    spend = weighted_frequency = 0.0
    for day in days:
        successes += day.successes(metric)
        trials += day.impressions
        spend += day.spend
        weighted_frequency += day.frequency * day.impressions
    frequency = weighted_frequency / trials if trials else 0.0
    return Totals(successes, trials, spend, frequency)


@dataclass(frozen=True)
class SpikeGuard:
    """When one day counts as a spike.

    A day is a spike when its rate is at least `ratio` times its neighbours' rate
    (the other days within `neighbourhood_days`, or all other days when fewer than
    two are that close) AND so many events would be that unlikely if the day shared
    its neighbours' rate: the exact conditional binomial test (given the day's and
    the neighbours' events together, how many fall on the day) has a one-sided
    p-value below the normal tail beyond `z`. Both are needed: the ratio alone fires
    on tiny days, the test alone on huge days with a modest lift. The test is exact
    because conversions come a few a day, where a normal z would flag noise.

    Only upward spikes are dropped, because an upward spike is what would falsely
    promote a variant or inflate a fatigue baseline. One-day dips are handled where
    they could decide something: fatigue must still fire with the worst recent day
    removed, and ranking promotes no one whose lead rests on a single day.
    """

    ratio: float = 1.8
    z: float = 3.0
    neighbourhood_days: int = 3

    @property
    def max_p_value(self) -> float:
        return 1.0 - NormalDist().cdf(self.z)


def spike_days(
    days: Sequence[DayStats], metric: Metric, guard: SpikeGuard
) -> tuple[dt.date, ...]:
    """The dates of `days` that are one-day spikes for `metric`, oldest first.

    Each day is judged against its neighbours, not the whole series, so a slow trend
    (a variant decaying over weeks) is not mistaken for spikes at its start. For the
    ratio, the neighbours' rate carries one pseudo-event at the series' overall rate,
    so a neighbourhood that happens to have no events does not make any event a spike.
    """
    delivered = sorted((d for d in days if d.impressions > 0), key=lambda d: d.date)
    if len(delivered) < 2:
        return ()
    overall = totals(delivered, metric)
    if overall.successes == 0:
        return ()
    pseudo_trials = 1.0 / overall.rate  # one pseudo-event at the overall rate
    max_p = guard.max_p_value
    spikes: list[dt.date] = []
    for day in delivered:
        others = [d for d in delivered if d is not day]
        near = [
            d
            for d in others
            if abs((d.date - day.date).days) <= guard.neighbourhood_days
        ]
        reference = totals(near if len(near) >= 2 else others, metric)
        ref_rate = (reference.successes + 1.0) / (reference.trials + pseudo_trials)
        observed = day.successes(metric)
        if observed / day.impressions < guard.ratio * ref_rate:
            continue
        share = day.impressions / (day.impressions + reference.trials)
        events = observed + reference.successes
        if binomial_upper_tail(observed, events, share) < max_p:
            spikes.append(day.date)
    return tuple(spikes)


def extra_binomial_dispersion(
    groups: Iterable[Sequence[DayStats]], metric: Metric
) -> float:
    """How much more the daily rates vary than binomial noise alone would (>= 1).

    Pearson chi-square of each day around its group's rate (a group: one variant,
    or one window), over the degrees of freedom: the quasi-binomial dispersion.
    Real delivery varies by auction, placement and weekday, so treating many days
    as one big coin would overstate how sure we are; dividing the evidence by this
    factor puts that day-to-day variation back.
    """
    chi_square = 0.0
    degrees = 0
    for group in groups:
        days = [d for d in group if d.impressions > 0]
        rate = totals(days, metric).rate
        if not 0.0 < rate < 1.0:
            continue
        for d in days:
            expected = d.impressions * rate
            chi_square += (d.successes(metric) - expected) ** 2 / (
                expected * (1.0 - rate)
            )
        degrees += len(days) - 1
    return max(1.0, chi_square / degrees) if degrees > 0 else 1.0


# --- Beta and binomial tails (no SciPy in the stack) --------------------------------


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), through the incomplete beta."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return beta_cdf(p, k, n - k + 1)


def log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta (modified Lentz)."""

    def nonzero(value: float) -> float:
        return value if abs(value) > 1e-300 else 1e-300

    c = 1.0
    d = 1.0 / nonzero(1.0 - (a + b) * x / (a + 1.0))
    h = d
    # Converges in O(sqrt(max(a, b))) steps; a million impressions need ~1,000.
    for m in range(1, 100_000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0)),
        ):
            d = 1.0 / nonzero(1.0 + numerator * d)
            c = nonzero(1.0 + numerator / c)
            h *= d * c
        if abs(d * c - 1.0) < 1e-13:
            break
    return h


def beta_cdf(x: float, a: float, b: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = a * math.log(x) + b * math.log1p(-x) - log_beta(a, b)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b
