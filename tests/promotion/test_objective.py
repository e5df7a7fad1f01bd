"""The team's objective: one function every judge asks (issue 12, point 2)."""

import datetime as dt

import pytest

from productions.choices import Objective
from promotion.evidence import judging_metric, objective_is_money, resolve_objective
from promotion.fragment_scoring import (
    VariantResult,
    retention_by_fragment,
    slots_in_play_order,
)
from promotion.selectors import master_objective
from tests.factories import DailyMetricFactory, ProductionFactory, VariantFactory


@pytest.mark.parametrize(
    ("chosen", "revenue", "expected"),
    [
        ("", True, Objective.ROAS),
        ("", False, Objective.CPA),
        ("ctr", True, Objective.CTR),
        ("cpa", True, Objective.CPA),
        ("roas", False, Objective.ROAS),
    ],
)
def test_a_persons_choice_stands_else_roas_when_revenue_is_tracked_else_cpa(
    chosen, revenue, expected
):
    assert resolve_objective(chosen, revenue_tracked=revenue) == expected


@pytest.mark.parametrize(
    ("objective", "conversions", "metric"),
    [
        ("ctr", 500, "ctr"),
        ("cpa", 29, "ctr"),
        ("cpa", 30, "cvr"),
        ("roas", 30, "cvr"),
    ],
)
def test_every_judge_counts_the_event_the_objective_says(
    objective, conversions, metric
):
    assert judging_metric(objective, conversions=conversions) == metric


def test_money_objectives_are_judged_in_spend():
    assert objective_is_money("roas") and objective_is_money("cpa")
    assert not objective_is_money("ctr")


@pytest.mark.django_db
def test_a_masters_default_objective_follows_its_pixels_revenue():
    master = ProductionFactory(objective="")
    variant = VariantFactory(parent=master)
    day = DailyMetricFactory(variant=variant, date=dt.date(2026, 3, 1), revenue=0)
    assert master_objective(master_id=master.pk) == Objective.CPA

    day.revenue = 59
    day.save(update_fields=["revenue"])
    assert master_objective(master_id=master.pk) == Objective.ROAS

    master.objective = "ctr"
    master.save(update_fields=["objective"])
    assert master_objective(master_id=master.pk) == Objective.CTR


def test_the_hook_rate_goes_to_what_is_on_screen_in_the_first_three_seconds():
    # Given a CTA-first variant: a 2 s CTA opens, then a 3 s hook, then the body
    order = [
        {"fragment_id": "cta", "source_in": 0.0, "source_out": 2.0},
        {"fragment_id": "hook", "source_in": 5.0, "source_out": 8.0},
        {"fragment_id": "body", "source_in": 10.0, "source_out": 15.0},
    ]
    variant = VariantResult(
        variant_id="v",
        fragment_ids=("cta", "hook", "body"),
        structure="cta_forward",
        pixel_id="",
        impressions=1000,
        clicks=10,
        conversions=0,
        slots=slots_in_play_order(order),
        views_3s=300,
        thruplays=100,
    )

    retention = retention_by_fragment([variant])

    # Then the CTA and the hook share the opening, the body has no hook rate
    assert retention["cta"].hook_rate == pytest.approx(0.3)
    assert retention["hook"].hook_rate == pytest.approx(0.3)
    assert retention["body"].hook_rate is None
    # And every fragment carries the hold rate by its screen time
    assert retention["body"].hold_rate == pytest.approx(0.1)


def test_a_fragment_that_opens_stronger_variants_has_the_higher_hook_rate():
    def variant(opening, views):
        return VariantResult(
            variant_id=opening,
            fragment_ids=(opening, "body"),
            structure="hook_body_cta",
            pixel_id="",
            impressions=1000,
            clicks=10,
            conversions=0,
            slots=((opening, 3.0), ("body", 6.0)),
            views_3s=views,
            thruplays=50,
        )

    retention = retention_by_fragment([variant("strong", 400), variant("weak", 150)])

    assert retention["strong"].hook_rate > retention["weak"].hook_rate
