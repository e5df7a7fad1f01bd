"""The testing budget sizes a batch: no more new variants than the delivery can judge."""

import math

import pytest

from promotion.capacity import CapacityPolicy, new_variant_capacity


def test_unknown_delivery_sets_no_limit():
    assert new_variant_capacity(daily_impressions=None, live_variants=3) is None


@pytest.mark.parametrize(
    ("daily_impressions", "live_variants", "expected"),
    [
        # 6,000 a day judge 24 variants in four days; 3 are live already
        (6000, 3, 21),
        # 2,500 a day judge 10; 7 are live
        (2500, 7, 3),
        # a starved ad set: 600 a day cannot judge even the live ones in time
        (600, 7, 0),
        (0, 0, 0),
    ],
)
def test_capacity_is_what_the_delivery_judges_in_time_beside_the_live_variants(
    daily_impressions, live_variants, expected
):
    assert (
        new_variant_capacity(
            daily_impressions=daily_impressions, live_variants=live_variants
        )
        == expected
    )


def test_a_longer_judging_window_or_lower_gate_allows_more():
    policy = CapacityPolicy(judge_within_days=8.0, min_impressions=500)
    assert new_variant_capacity(
        daily_impressions=600, live_variants=7, policy=policy
    ) == (600 * 8 // 500 - 7)


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_nonsense_delivery_is_refused(bad):
    with pytest.raises(ValueError, match="daily_impressions"):
        new_variant_capacity(daily_impressions=bad, live_variants=0)


def test_policy_refuses_nonsense():
    with pytest.raises(ValueError, match="judge_within_days"):
        CapacityPolicy(judge_within_days=0)
    with pytest.raises(ValueError, match="live_variants"):
        new_variant_capacity(daily_impressions=100, live_variants=-1)
