"""Fatigue: the 14-day / 20 % rule, robust to one-day dips, spikes and late conversions.

Pure function: no database. Series are either exact (rates given per day) or drawn
from a seeded binomial market, so each test reads the same numbers every run.
"""

import dataclasses
import datetime as dt
import json
import math

import numpy as np
import pytest

from promotion.daystats import DayStats
from promotion.fatigue import FatiguePolicy, assess_fatigue

START = dt.date(2025, 1, 1)


def day(offset, impressions, clicks, conversions=0, frequency=1.0):
    return DayStats(
        date=START + dt.timedelta(days=offset),
        impressions=impressions,
        clicks=clicks,
        conversions=conversions,
        spend=impressions * 0.008,
        revenue=conversions * 40.0,
        frequency=frequency,
    )


def exact_series(rates, impressions=4000):
    return [day(i, impressions, round(impressions * r)) for i, r in enumerate(rates)]


def market_series(seed, n_days, *, ctr=0.01, decay_onset=None, impressions=4000):
    """Binomial clicks around `ctr`; after `decay_onset` days the rate decays 4 % a
    day to a floor of 40 %, and frequency creeps up as in the stub market."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_days):
        rate = ctr * float(rng.lognormal(0.0, 0.08))
        if decay_onset is not None and i > decay_onset:
            rate *= max(0.4, math.exp(-0.04 * (i - decay_onset)))
        shown = int(impressions * float(rng.lognormal(0.0, 0.1)))
        clicks = int(rng.binomial(shown, rate))
        rows.append(day(i, shown, clicks, frequency=round(1.0 + 0.04 * i, 2)))
    return rows


def assess(days, *, as_of_offset, metric="ctr", policy=None):
    return assess_fatigue(
        days=days,
        active_since=START,
        as_of=START + dt.timedelta(days=as_of_offset),
        metric=metric,
        policy=policy or FatiguePolicy(),
    )


@pytest.mark.parametrize("seed", range(5))
def test_fatigue_fires_on_a_seeded_decaying_series(seed):
    # Given a variant that started wearing out on day 20 (seeded market)
    days = market_series(seed=seed, n_days=45, decay_onset=20)

    # When assessed on day 45
    result = assess(days, as_of_offset=45)

    # Then it is fatigued, with the drop as its score and the evidence beside it
    assert result.fatigued, result.reason
    assert result.fatigue_score == pytest.approx(result.drop)
    assert result.drop >= 0.20
    assert result.z >= 2.5
    # the first two weeks, before the decay began
    assert result.baseline_window == (START, START + dt.timedelta(days=13))
    assert result.recent_window == (
        START + dt.timedelta(days=38),
        START + dt.timedelta(days=44),
    )
    # rising frequency and cost per click are recorded beside the drop
    assert result.frequency_recent > result.frequency_baseline
    assert result.cost_per_result_recent > result.cost_per_result_baseline


@pytest.mark.parametrize("seed", range(10))
def test_fatigue_never_fires_on_a_seeded_flat_series(seed):
    # Given a variant with a steady rate and ordinary day-to-day noise
    days = market_series(seed=100 + seed, n_days=60)

    # When assessed every day of its life from day 14
    results = [assess(days, as_of_offset=t) for t in range(14, 61)]

    # Then it is never fatigued
    assert not any(r.fatigued for r in results)


@pytest.mark.parametrize(
    ("case", "days", "as_of_offset", "expected"),
    [
        ("flat", exact_series([0.01] * 30), 30, False),
        ("steady 30 % decline", exact_series([0.01] * 20 + [0.007] * 10), 30, True),
        (
            "a 15 % decline is too small",
            exact_series([0.01] * 20 + [0.0085] * 10),
            30,
            False,
        ),
        # the decline is real but the variant has run only 13 days
        ("young", exact_series([0.01] * 7 + [0.006] * 6), 13, False),
        ("exactly 14 days", exact_series([0.01] * 7 + [0.006] * 7), 14, True),
        # one huge day at a fifth of the rate drags the 7-day rate down 40 %
        (
            "one-day dip",
            [*exact_series([0.01] * 29), day(29, 20_000, 40)],
            30,
            False,
        ),
        # a 3x spike in the first week would inflate the baseline 25 %
        (
            "spike in the baseline",
            exact_series([0.01] * 3 + [0.03] + [0.01] * 26),
            30,
            False,
        ),
        # 30 % down, but on 700 impressions a day: not enough to trust
        (
            "too few impressions",
            exact_series([0.01] * 20 + [0.007] * 10, 250),
            30,
            False,
        ),
    ],
)
def test_the_fourteen_day_twenty_percent_rule(case, days, as_of_offset, expected):
    assert assess(days, as_of_offset=as_of_offset).fatigued is expected, case


def test_a_one_day_dip_is_reported_as_resting_on_one_day():
    # Given a flat variant with one huge day at a fifth of its rate
    days = [*exact_series([0.01] * 29), day(29, 20_000, 40)]

    # When assessed at the ordinary z (frequency held still, so by default the
    # stricter steady z would refuse it before the dip is even looked at)
    result = assess(days, as_of_offset=30, policy=FatiguePolicy(steady_min_z=2.5))

    # Then the raw drop would fire but the robust one does not
    assert result.drop > 0.20
    assert result.robust_drop < 0.20
    assert not result.fatigued
    assert "one day" in result.reason


def test_a_spike_in_the_baseline_is_excluded_and_reported():
    days = exact_series([0.01] * 3 + [0.03] + [0.01] * 26)

    result = assess(days, as_of_offset=30)

    assert result.spike_days_excluded == (START + dt.timedelta(days=3),)
    assert result.baseline_rate == pytest.approx(0.01)
    assert result.fatigue_score == 0.0


def test_a_young_variant_is_not_assessed_and_scores_zero():
    days = exact_series([0.01] * 7 + [0.005] * 3)

    result = assess(days, as_of_offset=10)

    assert not result.fatigued
    assert result.fatigue_score == 0.0
    assert result.drop is None
    assert "fewer than 14" in result.reason


def test_conversions_still_arriving_do_not_look_like_fatigue():
    # Given a variant converting steadily, whose last two days have only part of
    # their conversions yet (they are still being attributed)
    days = [day(i, 4000, 40, conversions=8) for i in range(28)]
    days += [day(28, 4000, 40, conversions=3), day(29, 4000, 40, conversions=1)]

    # When assessed on conversions with a 2-day lag, and with no lag
    lagged = assess(days, as_of_offset=30, metric="cvr")
    no_lag = assess(
        days, as_of_offset=30, metric="cvr", policy=FatiguePolicy(conversion_lag_days=0)
    )

    # Then the lag keeps the immature days out and nothing fires
    assert not lagged.fatigued
    assert lagged.recent_window[1] == START + dt.timedelta(days=27)
    assert lagged.drop == pytest.approx(0.0)
    # (without it the same steady series would show a spurious 21 % drop)
    assert no_lag.drop > 0.20


def test_the_lag_does_not_apply_to_click_through_rate():
    days = exact_series([0.01] * 30)

    result = assess(days, as_of_offset=30, metric="ctr")

    assert result.recent_window == (
        START + dt.timedelta(days=23),
        START + dt.timedelta(days=29),
    )


def test_rows_dated_on_or_after_the_assessment_day_are_ignored():
    # Given a partial row for today that happens to be terrible
    days = [*exact_series([0.01] * 30), day(30, 50_000, 5)]

    # When assessed today
    result = assess(days, as_of_offset=30)

    # Then it does not count
    assert result.recent_rate == pytest.approx(0.01)
    assert not result.fatigued


def test_best_window_baseline_catches_a_variant_that_climbed_then_wore_out():
    # Given a variant that ramped up in week 2 and fell back to its week-1 rate
    days = exact_series([0.010] * 7 + [0.014] * 14 + [0.010] * 9)

    # When assessed against its first week, and against its best week
    first_week = assess(days, as_of_offset=30)
    best_window = assess(
        days, as_of_offset=30, policy=FatiguePolicy(baseline="best_window")
    )

    # Then only the best-week baseline sees the 29 % fall from the peak
    assert not first_week.fatigued
    assert best_window.fatigued
    assert best_window.baseline_rate == pytest.approx(0.014)


def test_assessment_details_are_json_ready():
    result = assess(market_series(seed=1, n_days=45, decay_onset=20), as_of_offset=45)

    details = json.loads(json.dumps(result.details()))

    assert details["fatigued"] is True
    assert details["baseline_window"] == ["2025-01-01", "2025-01-14"]


def test_a_steep_decay_on_plentiful_impressions_is_caught_by_the_short_window_first():
    # Given a winner shown 20,000 times a day whose rate falls 8 % a day from day 18
    rates = [0.01] * 18 + [0.01 * math.exp(-0.08 * n) for n in range(1, 8)]
    days = exact_series(rates, impressions=20_000)
    week_only = FatiguePolicy(fast_window_days=None)

    # When it is assessed each day, with and without the short window
    def first_flag(policy):
        return next(
            t
            for t in range(14, 40)
            if assess(days, as_of_offset=t, policy=policy).fatigued
        )

    # Then the short window retires it days before the week's average moves 20 %
    assert first_flag(FatiguePolicy()) < first_flag(week_only)


@pytest.mark.parametrize("seed", range(10))
def test_the_short_window_never_fires_on_a_seeded_flat_series_of_a_winner(seed):
    days = market_series(seed=200 + seed, n_days=60, impressions=20_000)

    assert not any(assess(days, as_of_offset=t).fatigued for t in range(14, 61))


def _clicks_and_conversions(*, click_drop, conversion_drop, days=28, onset=18):
    """A winner's plentiful clicks and sparse conversions (6 a day):
    from `onset` on, clicks fall by `click_drop` and conversions by
    `conversion_drop`."""
    rows = []
    for i in range(days):
        late = i >= onset
        clicks = round(20_000 * 0.012 * (1 - click_drop if late else 1))
        conversions = round(6 * (1 - conversion_drop if late else 1))
        rows.append(day(i, 20_000, clicks, conversions))
    return rows


def test_a_sparse_conversion_drop_is_confirmed_by_the_clicks_that_lead_to_it():
    # Given a winner judged by conversions whose conversions fell 35 % in its last
    # week, too few of them to be significant on their own, while its clicks fell 35 %
    days = _clicks_and_conversions(click_drop=0.35, conversion_drop=0.35)
    alone = assess(
        days, as_of_offset=28, metric="cvr", policy=FatiguePolicy(clicks_lead=False)
    )
    assert not alone.fatigued, alone.reason

    # When assessed with the clicks leading
    result = assess(days, as_of_offset=28, metric="cvr")

    # Then it is fatigued on the conversion numbers, and the reason says why
    assert result.fatigued
    assert result.drop == pytest.approx(alone.drop)
    assert "clicks that lead" in result.reason


def test_falling_clicks_alone_do_not_fatigue_a_variant_judged_by_conversions():
    # Given clicks falling 35 % while conversions hold
    days = _clicks_and_conversions(click_drop=0.35, conversion_drop=0.0)

    # Then a variant judged by conversions is not fatigued by its clicks
    result = assess(days, as_of_offset=28, metric="cvr")
    assert not result.fatigued, result.reason


def scaled_winner(*, frequencies, rates):
    """Ten testing days (600 impressions a day at 1.5 %, frequency 1.0), then a
    scaled run of 150,000 impressions a day at these frequencies and rates."""
    testing = [day(i, 600, 9) for i in range(10)]
    scaled = [
        day(10 + i, 150_000, round(150_000 * rate), frequency=frequency)
        for i, (frequency, rate) in enumerate(zip(frequencies, rates, strict=True))
    ]
    return testing + scaled


def test_a_winner_worn_by_repetition_is_retired_within_days_not_after_fourteen():
    # Given a winner scaled on day 10 whose audience has seen it 3-6 times by day
    # 12, its clicks falling 30 % as they do
    days = scaled_winner(frequencies=[1.5, 3.5, 6.0], rates=[0.015, 0.0125, 0.0095])

    # When assessed on day 13, younger than the 14-day rule
    result = assess(days, as_of_offset=13)

    # Then it is fatigued by the worn test, whose reason carries the numbers
    assert result.fatigued, result.reason
    assert result.reason.startswith("worn by repetition")
    assert "seen it 4.8 times" in result.reason
    assert result.recent_window == (
        START + dt.timedelta(days=11),
        START + dt.timedelta(days=12),
    )
    assert result.drop == pytest.approx(1 - 0.011 / 0.015, abs=0.01)


def test_the_same_drop_without_rising_frequency_waits_for_the_fourteen_days():
    # Given the same clicks falling but frequency flat: nothing says the audience
    # is saturated
    days = scaled_winner(frequencies=[1.0, 1.0, 1.0], rates=[0.015, 0.0125, 0.0095])

    # When assessed on day 13
    result = assess(days, as_of_offset=13)

    # Then it is not assessed yet
    assert not result.fatigued
    assert "fewer than 14" in result.reason


@pytest.mark.parametrize("seed", range(5))
def test_rising_frequency_without_a_drop_never_fatigues(seed):
    # Given a scaled winner whose frequency climbs to 8 while its clicks stay
    # flat (binomial, 8 % day-to-day noise)
    rng = np.random.default_rng(200 + seed)
    days = [day(i, 600, int(rng.binomial(600, 0.015))) for i in range(10)]
    for i in range(12):
        rate = 0.015 * float(rng.lognormal(0.0, 0.08))
        days.append(day(10 + i, 150_000, int(rng.binomial(150_000, rate)), 1.5 + i))

    # When assessed every day of the scaled run
    results = [assess(days, as_of_offset=t) for t in range(12, 23)]

    # Then it is never fatigued
    assert not any(r.fatigued for r in results), [r.reason for r in results]


def test_a_drop_without_frequency_rising_needs_the_steady_z():
    # Given a 29 % drop on 1,200 impressions a day: z about 2.7, enough at the
    # ordinary 2.5 but not at the steady 3.5 a winner's lucky baseline calls for
    flat = [day(i, 1200, 17) for i in range(14)] + [
        day(14 + i, 1200, 12) for i in range(7)
    ]
    rising = [
        dataclasses.replace(d, frequency=1.0 if i < 14 else 2.0)
        for i, d in enumerate(flat)
    ]

    # When assessed on day 21
    steady = assess(flat, as_of_offset=21)
    worn = assess(rising, as_of_offset=21)

    # Then only the variant whose frequency doubled is fatigued
    assert 2.5 <= steady.z < 3.5
    assert not steady.fatigued
    assert "< 3.5" in steady.reason
    assert worn.fatigued, worn.reason
