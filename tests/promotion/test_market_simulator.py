"""The stub market simulator: pure, no database."""

import datetime as dt
from itertools import count

import pytest

from promotion.meta.market import (
    AdFeatures,
    BudgetChange,
    MarketAd,
    MarketAdSet,
    MarketSimulator,
    StatusChange,
)

T0 = dt.datetime(2026, 1, 5, 0, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def features(hook: str = "hook-1", **overrides: object) -> AdFeatures:
    values: dict = {
        "master_id": "master-1",
        "hook_fragment_id": hook,
        "fragment_ids": (hook, "body-1", "cta-1"),
        "structure": "hook_body_cta",
        "duration_category": "medium",
        "caption": "Listen now #newmusic",
        "look": "warm",
    }
    values.update(overrides)
    return AdFeatures(**values)


def active_ad(ad_id: str, feats: AdFeatures, *changes: StatusChange) -> MarketAd:
    return MarketAd(
        ad_id=ad_id,
        adset_id="adset-1",
        features=feats,
        created_at=T0,
        status_history=(StatusChange(T0, "ACTIVE"), *changes),
    )


def market(
    *ads: MarketAd, seed: int = 3, budget: float = 400.0, delivery: str = "auction"
) -> MarketSimulator:
    return MarketSimulator(
        seed=seed,
        ads=ads,
        adsets=[MarketAdSet("adset-1", (BudgetChange(T0, budget),))],
        delivery=delivery,
    )


def features_where(seed: int, wanted: bool) -> AdFeatures:
    """Features whose hidden truth decays (or not), found by trying hooks in turn."""
    sim = MarketSimulator(seed=seed)
    for n in count():
        feats = features(hook=f"hook-{n}")
        if sim.appeal(feats).decays is wanted:
            return feats
    raise AssertionError("unreachable")


def ctr_between(sim: MarketSimulator, first: int, last: int) -> float:
    """Click-through over those days, leaving out one-day spikes."""
    rows = sim.daily_rows(
        ["ad"],
        since=T0.date() + first * DAY,
        until=T0.date() + last * DAY,
        as_of=T0 + 200 * DAY,
    )
    rows = [r for r in rows if not sim.is_spike_day("ad", r.date)]
    return sum(r.clicks for r in rows) / sum(r.impressions for r in rows)


def test_same_seed_and_history_give_the_same_rows_every_time():
    # Given two simulators built from the same seed and history
    ad = active_ad("ad", features())
    first, second = market(ad), market(ad)

    # When both are asked for the same month
    def month(sim: MarketSimulator) -> list:
        return sim.daily_rows(
            ["ad"], since=T0.date(), until=T0.date() + 29 * DAY, as_of=T0 + 40 * DAY
        )

    # Then the numbers are identical, and asking again changes nothing
    assert month(first) == month(second) == month(first)
    assert first.truth("ad") == second.truth("ad")


def test_another_seed_is_another_market():
    ad = active_ad("ad", features())

    one = market(ad, seed=3)
    other = market(ad, seed=4)

    assert one.truth("ad") != other.truth("ad")
    assert one.daily_rows(
        ["ad"], since=T0.date(), until=T0.date() + 6 * DAY, as_of=T0 + 10 * DAY
    ) != other.daily_rows(
        ["ad"], since=T0.date(), until=T0.date() + 6 * DAY, as_of=T0 + 10 * DAY
    )


def test_truth_follows_the_features_not_the_ad_id():
    sim = MarketSimulator(seed=3)

    same = sim.appeal(features(hook="hook-9")) == sim.appeal(features(hook="hook-9"))
    other_hook = (
        sim.appeal(features(hook="hook-1")).ctr
        != sim.appeal(features(hook="hook-2")).ctr
    )

    assert same and other_hook


def test_paused_ads_get_no_impressions():
    # Given an ad that was never activated and one paused after its first day
    never = MarketAd(
        ad_id="never",
        adset_id="adset-1",
        features=features(),
        created_at=T0,
        status_history=(StatusChange(T0, "PAUSED"),),
    )
    paused = active_ad("paused", features(hook="h2"), StatusChange(T0 + DAY, "PAUSED"))
    sim = market(never, paused)

    # When a week is read
    rows = sim.daily_rows(
        ["never", "paused"],
        since=T0.date(),
        until=T0.date() + 6 * DAY,
        as_of=T0 + 10 * DAY,
    )

    # Then only the paused ad's active day delivered
    assert [(r.ad_id, r.date) for r in rows] == [("paused", T0.date())]


def test_a_decaying_ads_click_through_drops_after_its_onset():
    # Given an ad whose hidden truth decays, running for months
    feats = features_where(seed=3, wanted=True)
    sim = market(active_ad("ad", feats), budget=1000.0)
    onset = sim.truth("ad").decay_onset_day

    # When its early click-through is compared with three weeks past the onset
    early = ctr_between(sim, 0, 9)
    late = ctr_between(sim, onset + 21, onset + 30)

    # Then it has dropped by far more than noise
    assert late < 0.75 * early


def test_a_non_decaying_ads_click_through_holds_while_its_frequency_stays_low():
    # Given an ad that never decays, on a budget that keeps frequency under 2
    feats = features_where(seed=3, wanted=False)
    sim = market(active_ad("ad", feats), budget=12.0)

    early = ctr_between(sim, 0, 19)
    late = ctr_between(sim, 50, 69)

    assert sim.frequency("ad", T0.date() + 69 * DAY) < 2.0
    assert sim.true_multiplier("ad", T0.date() + 69 * DAY) == 1.0
    assert 0.8 * early < late < 1.2 * early


def test_frequency_wears_even_an_ad_that_never_decays():
    # Given the same ad on a budget that shows it to its audience again and again
    feats = features_where(seed=3, wanted=False)
    sim = market(active_ad("ad", feats), budget=400.0)

    # Then frequency climbs and the true rates fall with it
    day = T0.date() + 60 * DAY
    assert sim.frequency("ad", day) > 4.0
    assert sim.true_multiplier("ad", day) < 0.85
    assert ctr_between(sim, 55, 64) < 0.9 * ctr_between(sim, 0, 4)


def test_the_auction_concentrates_delivery_on_the_ads_it_rates_higher():
    # Given ten established ads of different true value in one ad set
    ads = [active_ad(f"ad{n}", features(hook=f"h{n}")) for n in range(10)]
    sim = market(*ads, budget=200.0)
    even = market(*ads, budget=200.0, delivery="even")
    day = T0.date() + 10 * DAY
    value = {a.ad_id: sim.truth(a.ad_id).ctr * sim.truth(a.ad_id).cvr for a in ads}
    best = max(value, key=value.__getitem__)
    worst = min(value, key=value.__getitem__)

    # Then the auction spends far more on the best than on the worst; even does not
    assert sim.spend_on(best, day) > 3 * sim.spend_on(worst, day)
    assert even.spend_on(best, day) == even.spend_on(worst, day)
    # And the budget is spent in full either way
    total = sum(sim.spend_on(a.ad_id, day) for a in ads)
    assert abs(total - 200.0) < 1e-6


def test_a_new_ad_gets_a_floor_beside_established_ones():
    # Given nine ads that have run for a week and a newcomer
    ads = [active_ad(f"ad{n}", features(hook=f"h{n}")) for n in range(9)]
    newcomer = MarketAd(
        ad_id="new",
        adset_id="adset-1",
        features=features(hook="h-new"),
        created_at=T0 + 7 * DAY,
        status_history=(StatusChange(T0 + 7 * DAY, "ACTIVE"),),
    )
    sim = market(*ads, newcomer, budget=200.0)

    # Then on its first day it gets at least a typical share
    day = T0.date() + 7 * DAY
    spends = sorted(sim.spend_on(a.ad_id, day) for a in ads)
    assert sim.spend_on("new", day) >= spends[len(spends) // 2] * 0.9


def test_retention_follows_the_hidden_hook_and_hold_rates():
    # Given an ad with lots of delivery
    sim = market(active_ad("ad", features()), budget=400.0)
    rows = sim.daily_rows(
        ["ad"], since=T0.date(), until=T0.date() + 4 * DAY, as_of=T0 + 30 * DAY
    )
    impressions = sum(r.impressions for r in rows)
    truth = sim.truth("ad")

    # Then 3-second views and ThruPlays per impression sit on the truth
    hook = sum(r.video_3s_views for r in rows) / impressions
    hold = sum(r.thruplays for r in rows) / impressions
    assert abs(hook - truth.hook_rate) < 0.1 * truth.hook_rate
    assert abs(hold - truth.hold_rate) < 0.15 * truth.hold_rate
    assert 0 < hold < hook


def test_a_day_exists_only_once_the_clock_has_finished_it():
    sim = market(active_ad("ad", features()))

    during = sim.daily_row("ad", T0.date(), as_of=T0 + dt.timedelta(hours=23))
    after = sim.daily_row("ad", T0.date(), as_of=T0 + DAY)

    assert during is None
    assert after is not None and after.impressions > 0


def test_late_conversions_raise_a_days_count_and_never_lower_it():
    sim = market(active_ad("ad", features()), budget=3000.0)
    day = T0.date() + 2 * DAY

    counts = [
        sim.daily_row("ad", day, as_of=T0 + (3 + lag) * DAY).conversions
        for lag in range(8)
    ]

    assert counts == sorted(counts)
    assert counts[-1] > counts[0]


def test_an_even_ad_sets_budget_is_split_among_its_active_ads():
    # Given one ad alone, then the same ad sharing its ad set with another
    alone = market(active_ad("ad", features()), budget=400.0, delivery="even")
    shared = market(
        active_ad("ad", features()),
        active_ad("other", features(hook="h2")),
        budget=400.0,
        delivery="even",
    )

    # When the first day is read
    solo = alone.daily_row("ad", T0.date(), as_of=T0 + DAY)
    half = shared.daily_row("ad", T0.date(), as_of=T0 + DAY)

    # Then sharing halves its spend
    assert solo is not None and half is not None
    assert 0.4 < half.spend / solo.spend < 0.6


def test_spikes_are_rare_one_day_lifts():
    sim = market(active_ad("ad", features()), budget=1000.0)
    days = [T0.date() + i * DAY for i in range(300)]

    spikes = [d for d in days if sim.is_spike_day("ad", d)]

    assert 1 <= len(spikes) <= 15
    assert all(d + DAY not in spikes for d in spikes[:1])


def test_expected_revenue_matches_what_the_rows_report_on_average():
    # Given an ad that delivers for three weeks on a large budget
    sim = market(active_ad("ad-1", features()), budget=2000.0)
    as_of = T0 + 40 * DAY
    days = [T0.date() + n * DAY for n in range(21)]

    # When its expected spend and revenue are set against the noisy rows
    expected = [sim.expected_day("ad-1", day) for day in days]
    rows = sim.daily_rows(["ad-1"], since=days[0], until=days[-1], as_of=as_of)
    spend = sum(s for s, _ in expected)
    revenue = sum(r for _, r in expected)

    # Then the truth agrees with what Meta would report, within the noise
    assert spend == sum(sim.spend_on("ad-1", day) for day in days)
    assert float(sum(r.revenue for r in rows)) == pytest.approx(revenue, rel=0.15)
    # And a clairvoyant's revenue per unit of spend is the same model's
    assert revenue / spend == pytest.approx(
        sum(
            sim.expected_roas("ad-1", day) * s
            for day, (s, _) in zip(days, expected, strict=True)
        )
        / spend,
        rel=0.1,
    )


def test_a_paused_ad_is_expected_to_earn_nothing():
    sim = market(active_ad("ad-1", features(), StatusChange(T0 + DAY, "PAUSED")))

    assert sim.expected_day("ad-1", T0.date() + 3 * DAY) == (0.0, 0.0)
