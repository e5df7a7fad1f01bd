"""Creative fatigue: has a long-running variant's primary metric dropped for good?

Pure: plain data in, plain data out; no ORM, no settings. The cycle passes a variant's
daily rows (converted from VariantDailyMetric), stores `fatigue_score`, and marks the
variant fatigued when `fatigued` is true; `details()` goes on the log row.

The rule (issue 5): a variant active `min_active_days`+ days whose rate over the recent
`window_days` dropped `min_drop`+ from its own baseline, with enough impressions to
trust it, is fatigued. In numbers:
1. Only complete days count (rows dated `as_of` or later are partial), and for
   conversions not the last `conversion_lag_days` either: their conversions are
   still arriving and would look like a drop that is not there.
2. One-day spikes are dropped everywhere (`promotion.daystats.spike_days`), so a
   spike can neither inflate the baseline nor hide a drop.
3. Recent window: the last `window_days` usable calendar days. Baseline, wholly
   before it: the first week with enough impressions, grown to the first
   `first_baseline_days` once the recent window has moved past them
   (``first_week``, the default), or the best single week (``best_window``).
4. The drop must be large (relative drop >= `min_drop`), significant (two-proportion
   z >= `min_z`, its variance scaled by the days' extra-binomial dispersion, both
   windows >= `min_window_impressions`), and must survive removing the single
   worst recent day, so a one-day dip never fatigues a variant.
5. The same test on the last `fast_window_days` (3) at the stricter `fast_min_z`
   (3.5): a winner's plentiful impressions show a steep decay within days, while
   the week's average lags half a week behind it. Flat simulated winners (20,000
   impressions a day, 60 days) are never flagged by it in the tests.
6. Judged by conversions, a drop of `min_drop`+ (with and without the worst recent
   day) that is too sparse to be significant is fatigue when the click rate's own
   test (1-5) shows it (`clicks_lead`): people stop clicking before the last
   conversions arrive. Clicks falling alone never fatigue a variant judged by
   conversions. In the decision bench this caught 41 % of the decays instead of
   34 %, and the median delay fell from 3.5 to 3 days.
7. Worn by repetition (`worn_frequency`): once the average viewer has seen the ad
   3+ times, and 1.5x as often as in its baseline, a click drop of `min_drop`+ on
   the last 2 days at z 4 is fatigue from day 5 of delivery, without the 14-day
   wait and whatever the judged metric (the last days' conversions are still
   arriving; the clicks that lead them are not). Frequency only rises while an ad
   delivers, so such a drop is not a one-day dip: no worst day is removed, and the
   dispersion is the baseline's, since the recent days' spread is the wear itself.
   Why: in the auction-like market a scaled winner (100k-900k impressions a day on
   an audience of 120k) wears out within 2-3 days, mostly before day 14; in the
   decision bench (8 seeds, 24 days) recall among detectable decays rose from 0.58
   to 0.89 and the median delay fell from 5 days to 1 (even split: 0.65 to 0.81,
   3 days to 1).
8. A drop that comes without frequency rising (recent < 1.5x the baseline's) needs
   z `steady_min_z` (3.5): a winner's baseline is the stretch it was picked on,
   lucky by selection, and what follows regresses to its truth. The bench's three
   false alarms (true multiplier 1.0, 400-1,300 impressions a day, baselines 26-40 %
   above the true rate) had z 2.9-3.4 at frequency 1.0-1.2; no true decay caught
   by the week's test came at an unchanged frequency.

Why these defaults: the check runs every cycle for the variant's whole life, so its
false alarms add up, and a false alarm archives a good variant. Simulated flat series
(60 days; 800-4,000 impressions a day at 0.2-1 %; 8 % day-to-day noise; spikes)
were ever flagged 1.5-3.5 % of the time with these defaults, 0.5-3 % with a strict
first week (less sensitive: 75-100 % of decays caught instead of 87-100 %), 3-15 %
with z 2.0, and 18-28 % with the best window, whose maximum over many noisy weeks is
biased upward. Decays (3 % a day from day 14-42) were caught 14-28 days after onset.
Rising frequency is not proof on its own (a drop must still be measured, 7-8), but
it says which drops to believe early; cost per result is reported beside the drop.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from promotion.daystats import (
    DayStats,
    Metric,
    SpikeGuard,
    Totals,
    extra_binomial_dispersion,
    spike_days,
    totals,
)
from promotion.policy_checks import (
    require_at_least,
    require_fraction,
    require_not_negative,
)

_DAY = dt.timedelta(days=1)

Baseline = Literal["first_week", "best_window"]


@dataclass(frozen=True)
class FatiguePolicy:
    """When a drop counts as fatigue. Days are calendar days of delivery data."""

    min_active_days: int = 14
    window_days: int = 7
    min_drop: float = 0.20
    # Conversions arrive for days after the click; only the conversion metric waits.
    conversion_lag_days: int = 2
    min_window_impressions: int = 2000
    # One-sided z of the drop; 2.5 because the test is repeated every cycle.
    min_z: float = 2.5
    baseline: Baseline = "first_week"
    # The first-week baseline grows to this many days once the recent window has
    # moved past them: two weeks halve the baseline's noise (7 gives a strict week).
    first_baseline_days: int = 14
    spike_ratio: float = 1.8
    spike_z: float = 3.0
    # A second, short recent window with a stricter z: a steep decay shows in a
    # few days of a winner's plentiful impressions, long before a week's average
    # has moved 20 % (None checks the week alone).
    fast_window_days: int | None = 3
    fast_min_z: float = 3.5
    # Judged by conversions, a drop is often too sparse to be significant within a
    # week (and its last days wait for late conversions) while the clicks that lead
    # to them already show it: the conversion drop (>= min_drop, robust) then needs
    # its significance from the click rate's own test on the same rule.
    clicks_lead: bool = True
    # Worn by repetition: once the average viewer has seen the ad `worn_frequency`
    # times (and `worn_frequency_rise` times as often as in its baseline), a drop
    # on the last `worn_window_days` at `worn_min_z` is fatigue without the
    # 14-day wait, judged by the clicks (their conversions are still arriving).
    # None turns it off.
    worn_frequency: float | None = 3.0
    worn_frequency_rise: float = 1.5
    worn_window_days: int = 2
    worn_min_z: float = 4.0
    worn_min_active_days: int = 5
    # A drop that comes without frequency rising (recent < `worn_frequency_rise` x
    # the baseline's) needs this z: a winner's baseline is the stretch it was
    # picked on, lucky by selection, and what follows it regresses to its truth.
    steady_min_z: float = 3.5

    def __post_init__(self) -> None:
        require_at_least(self, "window_days", 2)
        if self.fast_window_days is not None and not (
            2 <= self.fast_window_days <= self.window_days
        ):
            raise ValueError("fast_window_days must be 2 to window_days.")
        require_fraction(self, "min_drop")
        require_not_negative(self, "conversion_lag_days")
        if self.first_baseline_days < self.window_days:
            raise ValueError("first_baseline_days must cover window_days.")
        if self.baseline not in ("first_week", "best_window"):
            raise ValueError("baseline must be 'first_week' or 'best_window'.")
        if not 2 <= self.worn_window_days <= self.window_days:
            raise ValueError("worn_window_days must be 2 to window_days.")


@dataclass(frozen=True)
class FatigueAssessment:
    fatigued: bool
    # The relative drop, clipped to 0..1, whenever both windows could be measured
    # (so a variant trending towards fatigue shows it); 0 otherwise.
    fatigue_score: float
    reason: str
    spike_days_excluded: tuple[dt.date, ...] = ()
    # The numbers behind the verdict; None when the variant could not be assessed.
    baseline_rate: float | None = None
    recent_rate: float | None = None
    drop: float | None = None  # 1 - recent / baseline
    z: float | None = None  # two-proportion z of baseline over recent
    dispersion: float | None = None  # extra-binomial variance factor behind z (>= 1)
    robust_drop: float | None = None  # the drop without the worst recent day
    baseline_window: tuple[dt.date, dt.date] | None = None  # first and last date
    recent_window: tuple[dt.date, dt.date] | None = None
    frequency_baseline: float | None = None
    frequency_recent: float | None = None
    cost_per_result_baseline: float | None = None
    cost_per_result_recent: float | None = None

    def details(self) -> dict[str, Any]:
        """JSON-ready numbers for a log row."""

        def window(value: tuple[dt.date, dt.date] | None) -> list[str] | None:
            return [value[0].isoformat(), value[1].isoformat()] if value else None

        return {
            "fatigued": self.fatigued,
            "fatigue_score": self.fatigue_score,
            "baseline_rate": self.baseline_rate,
            "recent_rate": self.recent_rate,
            "drop": self.drop,
            "z": self.z,
            "dispersion": self.dispersion,
            "robust_drop": self.robust_drop,
            "baseline_window": window(self.baseline_window),
            "recent_window": window(self.recent_window),
            "frequency_baseline": self.frequency_baseline,
            "frequency_recent": self.frequency_recent,
            "cost_per_result_baseline": self.cost_per_result_baseline,
            "cost_per_result_recent": self.cost_per_result_recent,
            "spike_days_excluded": [d.isoformat() for d in self.spike_days_excluded],
            "reason": self.reason,
        }


def assess_fatigue(
    *,
    days: Sequence[DayStats],
    active_since: dt.date,
    as_of: dt.date,
    metric: Metric,
    policy: FatiguePolicy = FatiguePolicy(),
) -> FatigueAssessment:
    """Assess one variant on `as_of` (today); see the module docstring. The week
    decides unless the short window (`fast_window_days`, stricter z) already
    shows fatigue."""

    def judged_by(chosen: Metric) -> FatigueAssessment:
        return _week_or_fast(
            lambda p: _assess_window(
                days=days,
                active_since=active_since,
                as_of=as_of,
                metric=chosen,
                policy=p,
            ),
            policy,
        )

    assessment = judged_by(metric)
    if assessment.fatigued:
        return assessment
    worn = _worn_by_frequency(
        days=days, active_since=active_since, as_of=as_of, policy=policy
    )
    if worn is not None:
        return worn
    if metric == "ctr" or not policy.clicks_lead:
        return assessment
    clicks = judged_by("ctr")
    if not (clicks.fatigued and _dropped(assessment, policy.min_drop)):
        return assessment
    return dataclasses.replace(
        assessment,
        fatigued=True,
        reason=(
            f"{metric} fell {assessment.drop:.1%} (z {assessment.z:.2f}, too few "
            f"conversions to be sure alone) and the clicks that lead to them "
            f"confirm it: {clicks.reason}"
        ),
    )


def _worn_by_frequency(
    *,
    days: Sequence[DayStats],
    active_since: dt.date,
    as_of: dt.date,
    policy: FatiguePolicy,
) -> FatigueAssessment | None:
    """The short worn-window test when frequency says the audience is saturated:
    fatigued or None. Frequency only rises while an ad delivers, so a drop that
    comes with it is not a one-day dip and needs no 14 days to be believed."""
    if policy.worn_frequency is None:
        return None
    worn = _assess_window(
        days=days,
        active_since=active_since,
        as_of=as_of,
        metric="ctr",
        policy=dataclasses.replace(
            policy,
            window_days=policy.worn_window_days,
            fast_window_days=None,
            min_z=policy.worn_min_z,
            min_active_days=policy.worn_min_active_days,
        ),
        worn=True,
    )
    seen, before = worn.frequency_recent, worn.frequency_baseline
    if not worn.fatigued or seen is None or before is None:
        return None
    if seen < policy.worn_frequency or seen < policy.worn_frequency_rise * before:
        return None
    return dataclasses.replace(
        worn,
        reason=(
            f"worn by repetition: the average viewer has seen it {seen:.1f} times "
            f"(baseline {before:.1f}), and clicks, which lead the conversions, "
            f"fell {worn.drop:.1%} in {policy.worn_window_days} days (z "
            f"{worn.z:.2f} >= {policy.worn_min_z}): {worn.reason}"
        ),
    )


def _dropped(assessment: FatigueAssessment, min_drop: float) -> bool:
    """The measured drop is large, with and without the worst recent day."""
    return (
        assessment.drop is not None
        and assessment.robust_drop is not None
        and min(assessment.drop, assessment.robust_drop) >= min_drop
    )


def _week_or_fast(
    assess: Callable[[FatiguePolicy], FatigueAssessment], policy: FatiguePolicy
) -> FatigueAssessment:
    """The week's test, or the short window's at its stricter z if it shows it."""
    week = assess(policy)
    if week.fatigued or policy.fast_window_days is None:
        return week
    fast = assess(
        dataclasses.replace(
            policy, window_days=policy.fast_window_days, min_z=policy.fast_min_z
        )
    )
    return fast if fast.fatigued else week


def _assess_window(
    *,
    days: Sequence[DayStats],
    active_since: dt.date,
    as_of: dt.date,
    metric: Metric,
    policy: FatiguePolicy,
    worn: bool = False,
) -> FatigueAssessment:
    """One window's test. `worn` (frequency says the audience is saturated): the
    recent days fall by wear, so their spread is the decay, not noise; the
    dispersion is the baseline's alone, and no worst day is removed."""
    active_days = (as_of - active_since).days
    if active_days < policy.min_active_days:
        return _not_assessed(
            f"active {active_days} days, fewer than {policy.min_active_days}"
        )

    last = as_of - _DAY
    if metric == "cvr":
        last -= policy.conversion_lag_days * _DAY
    usable = [d for d in days if active_since <= d.date <= last and d.impressions > 0]
    guard = SpikeGuard(ratio=policy.spike_ratio, z=policy.spike_z)
    spikes = spike_days(usable, metric, guard)
    clean = sorted((d for d in usable if d.date not in spikes), key=lambda d: d.date)

    recent_start = last - (policy.window_days - 1) * _DAY
    recent_days = [d for d in clean if d.date >= recent_start]
    recent = totals(recent_days, metric)
    baseline_window = _baseline_window(
        clean, active_since, recent_start, metric, policy
    )
    if baseline_window is None:
        return _not_assessed(
            "no baseline window with enough impressions before the recent one",
            spikes=spikes,
        )
    start, end = baseline_window
    baseline_days = [d for d in clean if start <= d.date <= end]
    baseline = totals(baseline_days, metric)
    recent_window = (recent_start, last)
    if recent.trials < policy.min_window_impressions:
        return _not_assessed(
            f"recent window has {recent.trials} impressions, fewer than "
            f"{policy.min_window_impressions}",
            spikes=spikes,
        )

    dispersion = extra_binomial_dispersion(
        (baseline_days,) if worn else (baseline_days, recent_days), metric
    )
    drop = _drop(baseline, recent)
    z = _z(baseline, recent, dispersion)
    robust = totals(_without_worst_day(recent_days, metric), metric)
    robust_drop = _drop(baseline, robust)
    robust_z = _z(baseline, robust, dispersion)

    min_z = policy.min_z
    if recent.frequency < policy.worn_frequency_rise * baseline.frequency:
        min_z = max(min_z, policy.steady_min_z)
    if drop < policy.min_drop:
        fatigued, reason = False, f"drop {drop:.1%} is below {policy.min_drop:.0%}"
    elif z < min_z:
        fatigued = False
        reason = f"drop {drop:.1%} is not significant (z {z:.2f} < {min_z})"
    elif not worn and (robust_drop < policy.min_drop or robust_z < min_z):
        fatigued = False
        reason = (
            f"drop {drop:.1%} rests on one day: without the worst recent day it "
            f"is {robust_drop:.1%} (z {robust_z:.2f})"
        )
    else:
        fatigued = True
        reason = (
            f"{metric} fell {drop:.1%} from {baseline.rate:.5f} "
            f"({start}..{end}) to {recent.rate:.5f} (z {z:.2f})"
        )
    return FatigueAssessment(
        fatigued=fatigued,
        fatigue_score=min(max(drop, 0.0), 1.0),
        baseline_rate=baseline.rate,
        recent_rate=recent.rate,
        drop=drop,
        z=z,
        dispersion=dispersion,
        robust_drop=robust_drop,
        baseline_window=baseline_window,
        recent_window=recent_window,
        frequency_baseline=baseline.frequency,
        frequency_recent=recent.frequency,
        cost_per_result_baseline=baseline.cost_per_result,
        cost_per_result_recent=recent.cost_per_result,
        spike_days_excluded=spikes,
        reason=reason,
    )


def _not_assessed(
    reason: str, *, spikes: tuple[dt.date, ...] = ()
) -> FatigueAssessment:
    return FatigueAssessment(
        fatigued=False, fatigue_score=0.0, reason=reason, spike_days_excluded=spikes
    )


def _baseline_window(
    clean: Sequence[DayStats],
    active_since: dt.date,
    recent_start: dt.date,
    metric: Metric,
    policy: FatiguePolicy,
) -> tuple[dt.date, dt.date] | None:
    """The baseline's first and last date, wholly before the recent window.

    ``first_week``: from the first `window_days` window with enough impressions,
    extended to `first_baseline_days` when that much precedes the recent window.
    ``best_window``: the `window_days` window with the highest rate.
    """
    span = (policy.window_days - 1) * _DAY
    best: tuple[float, tuple[dt.date, dt.date]] | None = None
    start = active_since
    while start + span < recent_start:
        window = (start, start + span)
        counted = totals((d for d in clean if start <= d.date <= start + span), metric)
        if counted.trials >= policy.min_window_impressions:
            if policy.baseline == "first_week":
                longest = start + (policy.first_baseline_days - 1) * _DAY
                return (start, min(longest, recent_start - _DAY))
            if best is None or counted.rate > best[0]:
                best = (counted.rate, window)
        start += _DAY
    return best[1] if best else None


def _drop(baseline: Totals, recent: Totals) -> float:
    if baseline.rate <= 0.0:
        return 0.0
    return 1.0 - recent.rate / baseline.rate


def _z(baseline: Totals, recent: Totals, dispersion: float) -> float:
    """Two-proportion z (pooled variance, scaled by the dispersion) of the drop."""
    if not baseline.trials or not recent.trials:
        return 0.0
    pooled = (baseline.successes + recent.successes) / (baseline.trials + recent.trials)
    variance = (
        dispersion
        * pooled
        * (1.0 - pooled)
        * (1.0 / baseline.trials + 1.0 / recent.trials)
    )
    if variance <= 0.0:
        return 0.0
    return (baseline.rate - recent.rate) / math.sqrt(variance)


def _without_worst_day(days: Sequence[DayStats], metric: Metric) -> list[DayStats]:
    """`days` minus the one whose removal raises the window's rate the most."""
    if len(days) < 2:
        return list(days)
    whole = totals(days, metric)

    def rate_without(day: DayStats) -> float:
        trials = whole.trials - day.impressions
        successes = whole.successes - day.successes(metric)
        return successes / trials if trials else 0.0

    worst = max(days, key=rate_without)
    return [d for d in days if d is not worst]
