"""The creative analyzer: fragment scores from variant results (pure maths + service)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from productions.choices import FragmentType, NarrativeStructure
from promotion.fragment_scoring import (
    ScoringRules,
    VariantResult,
    fragment_ids_in_order,
    hook_fragment_id,
    score_fragments,
)
from promotion.services.analyzer import fragments_update_performance
from tests.factories import (
    DailyMetricFactory,
    FragmentFactory,
    VariantFactory,
    master_with_approved_cuts,
)
from variants.choices import VariantStatus

HBC = NarrativeStructure.HOOK_BODY_CTA
CTA_FIRST = NarrativeStructure.CTA_FORWARD


def result(n: int, fragments: tuple[str, ...], clicks: int, **kw) -> VariantResult:
    values = {
        "variant_id": f"v{n}",
        "fragment_ids": fragments,
        "structure": HBC,
        "pixel_id": "px1",
        "impressions": 10_000,
        "clicks": clicks,
        "conversions": 0,
    }
    values.update(kw)
    return VariantResult(**values)


# --- pure -------------------------------------------------------------------------


def test_a_fragment_in_better_variants_scores_above_average_and_its_rival_below():
    # Given two hooks: variants with hook A get twice the clicks of those with hook B
    variants = [
        result(1, ("A", "body"), clicks=200),
        result(2, ("A", "body"), clicks=220),
        result(3, ("B", "body"), clicks=100),
        result(4, ("B", "body"), clicks=110),
    ]

    scores = score_fragments(fragment_ids=["A", "B", "body"], variants=variants)

    # Then A is above 0.5 (the master's average), B below, the shared body at 0.5
    assert scores["A"].performance_score > 0.55
    assert scores["B"].performance_score < 0.45
    assert scores["body"].performance_score == pytest.approx(0.5, abs=0.01)
    assert scores["A"].success_rate == 1.0 and scores["B"].success_rate == 0.0
    assert scores["body"].usage_count == 4


def test_a_fragment_seen_in_one_small_variant_stays_near_average():
    # Given a fragment whose only variant had ten times the clicks on 50 impressions
    variants = [
        result(1, ("A",), clicks=100),
        result(2, ("tiny",), clicks=5, impressions=50),
    ]

    scores = score_fragments(fragment_ids=["tiny"], variants=variants)

    # Then the prior pulls it most of the way back (unsmoothed it would be ~0.9)
    assert 0.5 < scores["tiny"].performance_score < 0.6
    assert scores["tiny"].success_rate is None  # not measured enough to judge


def test_conversions_decide_once_there_are_enough_of_them():
    # A has more clicks, B more conversions; with plenty of conversions, B wins
    variants = [
        result(1, ("A",), clicks=300, conversions=10),
        result(2, ("B",), clicks=150, conversions=40),
    ]

    scores = score_fragments(fragment_ids=["A", "B"], variants=variants)

    assert scores["B"].performance_score > scores["A"].performance_score


def test_structure_and_pixel_breakdowns_name_the_best_with_enough_evidence():
    variants = [
        result(1, ("A",), clicks=300, structure=HBC, pixel_id="px1"),
        result(2, ("A",), clicks=100, structure=CTA_FIRST, pixel_id="px2"),
        result(
            3, ("A",), clicks=90, structure=CTA_FIRST, pixel_id="px3", impressions=100
        ),
    ]

    scores = score_fragments(
        fragment_ids=["A"], variants=variants, rules=ScoringRules(min_impressions=500)
    )

    a = scores["A"]
    assert set(a.performance_by_structure) == {HBC, CTA_FIRST}
    assert a.best_for_structure == HBC
    assert a.best_with_pixels == ["px1", "px2"]  # px3 lacks evidence


def test_no_data_means_no_score():
    scores = score_fragments(
        fragment_ids=["A"], variants=[result(1, ("A",), clicks=0, impressions=0)]
    )

    assert scores["A"].performance_score is None
    assert scores["A"].usage_count == 1


def test_fragment_ids_are_read_from_the_planners_slots():
    order = [
        {"fragment_id": "c", "fragment_type": "cta"},
        {"fragment_id": "h", "fragment_type": "hook"},
    ]

    assert fragment_ids_in_order(order) == ["c", "h"]
    assert hook_fragment_id(order) == "h"


# --- service ----------------------------------------------------------------------


def variant_with_clicks(master, fragments, clicks: int, **kwargs):
    variant = VariantFactory(
        parent=master,
        status=VariantStatus.TESTING,
        fragments_order=[
            {"fragment_id": str(f.id), "fragment_type": f.fragment_type}
            for f in fragments
        ],
        pixel_id=master.authorized_pixels[0],
        **kwargs,
    )
    for day in range(3):
        DailyMetricFactory(
            variant=variant,
            date=dt.date(2026, 3, 1) + dt.timedelta(days=day),
            impressions=2000,
            clicks=clicks,
            conversions=0,
        )
    return variant


@pytest.mark.django_db
def test_the_analyzer_writes_sensible_scores_on_approved_fragments_only():
    # Given a master with a strong hook, a weak hook, shared body and CTA
    master = master_with_approved_cuts()
    strong, body, cta = master.fragment_set.order_by("start_time")
    weak = FragmentFactory(master_creative=master, fragment_type=FragmentType.HOOK)
    unapproved = FragmentFactory(
        master_creative=master, approved=False, approved_at=None
    )
    variant_with_clicks(master, [strong, body, cta], clicks=60)
    variant_with_clicks(master, [strong, body, cta], clicks=70)
    variant_with_clicks(master, [weak, body, cta], clicks=20)
    variant_with_clicks(master, [weak, body, cta], clicks=25)

    # When the analyzer runs for the master
    updated = fragments_update_performance(master_id=master.id)

    # Then only approved fragments were scored, the strong hook above the weak one
    for fragment in (strong, weak, body, unapproved):
        fragment.refresh_from_db()
    assert updated == 4
    assert strong.performance_score > 0.5 > weak.performance_score
    assert body.performance_score == pytest.approx(0.5, abs=0.01)
    assert (strong.usage_count, weak.usage_count, body.usage_count) == (2, 2, 4)
    assert strong.success_rate == 1.0 and weak.success_rate == 0.0
    assert strong.best_for_structure == NarrativeStructure.HOOK_BODY_CTA
    assert strong.best_with_pixels == [master.authorized_pixels[0]]
    assert unapproved.performance_score is None and not unapproved.approved


@pytest.mark.django_db
def test_the_analyzer_rewrites_only_the_fragments_whose_scores_moved():
    # Given a master scored once, and a second master never measured
    master = master_with_approved_cuts()
    hook, body, cta = master.fragment_set.order_by("start_time")
    variant_with_clicks(master, [hook, body, cta], clicks=50)
    master_with_approved_cuts()
    fragments_update_performance()

    # When it scores again with nothing new measured
    with CaptureQueriesContext(connection) as again:
        scored = fragments_update_performance()

    # Then every fragment was scored and none written
    assert scored == 6
    assert not [q for q in again.captured_queries if q["sql"].startswith("UPDATE")]

    # and once a variant measures more, that master's fragments are written
    variant_with_clicks(master, [hook, body, cta], clicks=5)
    with CaptureQueriesContext(connection) as moved:
        fragments_update_performance()
    updates = [
        q["sql"] for q in moved.captured_queries if q["sql"].startswith("UPDATE")
    ]
    assert len(updates) == 1
    hook.refresh_from_db()
    assert hook.usage_count == 2


@pytest.mark.django_db
def test_the_analyzer_never_lists_a_pixel_the_master_does_not_authorize():
    master = master_with_approved_cuts()
    hook, body, cta = master.fragment_set.order_by("start_time")
    variant_with_clicks(master, [hook, body, cta], clicks=50)
    # a row written around the guard (the services would refuse this pixel)
    rogue = variant_with_clicks(master, [hook, body, cta], clicks=90)
    type(rogue).objects.filter(id=rogue.id).update(pixel_id="555555555555555")

    fragments_update_performance(master_id=master.id)

    hook.refresh_from_db()
    assert hook.best_with_pixels == [master.authorized_pixels[0]]


def test_a_hook_that_stops_people_scores_above_a_scrolled_past_one_on_equal_clicks():
    # Given two hooks opening variants with the same few clicks, where one stops
    # twice as many people in its first three seconds
    variants = [
        result(
            n,
            (hook, "body"),
            clicks=20,
            impressions=2000,
            slots=((hook, 3.0), ("body", 7.0)),
            views_3s=views,
        )
        for n, (hook, views) in enumerate([("stopper", 800), ("scrolled", 400)])
    ]

    # When the fragments are scored
    scores = score_fragments(fragment_ids=["stopper", "scrolled"], variants=variants)

    # Then the hook that stops people is rated higher, before clicks can tell
    assert (
        scores["stopper"].performance_score > 0.5 > scores["scrolled"].performance_score
    )
    assert scores["stopper"].hook_rate == pytest.approx(0.4)


def test_without_three_second_views_hooks_are_scored_on_their_events_alone():
    variants = [
        result(n, (hook, "body"), clicks=20, impressions=2000)
        for n, hook in enumerate(["a", "b"])
    ]

    scores = score_fragments(fragment_ids=["a", "b"], variants=variants)

    assert scores["a"].performance_score == scores["b"].performance_score == 0.5
