"""Leaderboard maths (pure: no database): Wilson intervals and evidence-aware ranks."""

import pytest

from promotion.delivery import DeliveryTotals
from promotion.leaderboards import (
    FragmentInfo,
    VariantTotals,
    rank_fragments,
    rank_structures,
    structures_by_campaign,
    wilson_interval,
)


def _variant(
    vid, fragments, impressions, clicks, *, structure="hook_body_cta", campaign="c1"
):
    return VariantTotals(
        variant_id=vid,
        master_id="m1",
        campaign_id=campaign,
        structure=structure,
        fragment_ids=tuple(fragments),
        totals=DeliveryTotals(
            impressions=impressions, clicks=clicks, spend=10.0, revenue=25.0
        ),
    )


def test_the_wilson_interval_of_30_clicks_in_1000_impressions():
    low, high = wilson_interval(30, 1000)

    assert low == pytest.approx(0.0211, abs=1e-4)
    assert high == pytest.approx(0.0425, abs=1e-4)


def test_the_wilson_interval_stays_inside_zero_and_one_and_needs_trials():
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 0) is None


def test_a_lucky_small_hook_does_not_outrank_a_steady_large_one():
    fragments = {
        "lucky": FragmentInfo("lucky", "hook", "Lucky", "M"),
        "steady": FragmentInfo("steady", "hook", "Steady", "M"),
        "body": FragmentInfo("body", "body", "Body", "M"),
    }
    variants = [
        _variant("v1", ["lucky", "body"], 40, 2),  # 5 %, on almost nothing
        _variant("v2", ["steady", "body"], 10_000, 300),  # 3 %, on a lot
    ]

    boards = rank_fragments(variants, fragments)

    assert [e.label for e in boards["hook"]] == ["Steady", "Lucky"]
    assert boards["body"][0].totals.impressions == 10_040
    assert boards["body"][0].variants == 2


def test_a_fragment_used_twice_in_one_variant_counts_that_variant_once():
    fragments = {"h": FragmentInfo("h", "hook", "Hook", "M")}

    board = rank_fragments([_variant("v1", ["h", "h"], 1000, 10)], fragments)["hook"]

    assert board[0].totals.impressions == 1000 and board[0].variants == 1


def test_roas_ranks_by_value_and_has_no_interval():
    variants = [_variant("v1", [], 100, 1), _variant("v2", [], 100, 1)]
    rich = VariantTotals(
        "v3", "m1", "c2", "cta_forward", (), DeliveryTotals(100, 1, 0, 10.0, 90.0)
    )

    ranked = rank_structures([*variants, rich], metric="roas")

    assert [e.key for e in ranked] == ["cta_forward", "hook_body_cta"]
    assert ranked[0].value == pytest.approx(9.0) and ranked[0].interval is None


def test_structures_are_ranked_per_campaign():
    variants = [
        _variant("v1", [], 1000, 30, campaign="c1"),
        _variant("v2", [], 1000, 10, structure="cta_forward", campaign="c2"),
    ]

    boards = structures_by_campaign(
        variants, structure_names={"cta_forward": "CTA first"}
    )

    assert sorted(boards) == ["c1", "c2"]
    assert boards["c2"][0].label == "CTA first"


def test_delivery_totals_add_field_by_field_and_divide_by_their_denominators():
    one = DeliveryTotals(1000, 20, 2, 10.0, 45.0, 300, 100)
    two = one + DeliveryTotals(1000, 10, 0, 5.0, 0.0, 100, 20)

    assert two == DeliveryTotals(2000, 30, 2, 15.0, 45.0, 400, 120)
    assert (two.ctr, two.cvr, two.roas, two.cpa) == (0.015, 2 / 30, 3.0, 7.5)
    assert (two.hook_rate, two.hold_rate) == (0.2, 0.06)
    assert DeliveryTotals().ctr is None and DeliveryTotals().cpa is None
    assert two.on("roas") == 3.0
