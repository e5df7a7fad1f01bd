"""Planning hints: what earlier variants measured, read by promotion for the planner."""

import dataclasses

import pytest

from promotion.performance_hints import MeasuredVariant, hints_from_measurements
from promotion.services.generation_inputs import (
    performance_hints,
    performance_hints_by_master,
)
from tests.factories import DailyMetricFactory, ProductionFactory, VariantFactory
from variants.planning import PerformanceHints

MEASURED = MeasuredVariant(
    variant_id="v1",
    narrative_structure="cta_forward",
    duration_category="short",
    caption_template="question",
    caption="Summer sale today",
    color_look="warm",
    pixel_id="px1",
    hashtags=("summer",),
    impressions=4000,
    clicks=120,
    conversions=0,
)


@pytest.mark.django_db
def test_measured_results_in_the_campaign_become_planning_hints():
    # Given earlier variants in the campaign: CTA-first did far better than hook-first
    master = ProductionFactory()
    other = ProductionFactory(campaign_id=master.campaign_id)
    for number, structure, clicks in [
        (1, "cta_forward", 120),
        (2, "hook_body_cta", 10),
        (3, "hook_inverted", 40),
    ]:
        variant = VariantFactory(
            parent=other, variant_number=number, narrative_structure=structure
        )
        DailyMetricFactory(variant=variant, impressions=4000, clicks=clicks)
    # and a master in another campaign whose results must not count
    stranger = ProductionFactory(campaign_id="120200000000999")
    VariantFactory(parent=stranger, narrative_structure="cta_forward")

    # When hints are read for the master
    hints = performance_hints(master_id=master.pk)

    # Then the structures are ranked by their measured results, around 0.5
    scores = hints.structure_scores
    assert scores["cta_forward"] > 0.5 > scores["hook_body_cta"]
    assert hints.evidence == 3


def _measured_campaign(campaign_id: str, clicks_by_structure: dict[str, int]) -> list:
    """Two masters in one campaign; the first one's variants measured."""
    measured = ProductionFactory(campaign_id=campaign_id)
    quiet = ProductionFactory(campaign_id=campaign_id)
    for number, (structure, clicks) in enumerate(clicks_by_structure.items(), 1):
        variant = VariantFactory(
            parent=measured, variant_number=number, narrative_structure=structure
        )
        DailyMetricFactory(variant=variant, impressions=4000, clicks=clicks)
    return [measured, quiet]


@pytest.mark.django_db
def test_hints_read_for_many_masters_are_each_masters_own(
    django_assert_num_queries,
):
    # Given two campaigns measured the other way round, and a master in no campaign
    # whose own variant measured
    first = _measured_campaign(
        "120200000000011", {"cta_forward": 120, "hook_body_cta": 10}
    )
    second = _measured_campaign(
        "120200000000012", {"cta_forward": 10, "hook_body_cta": 120}
    )
    alone = ProductionFactory(campaign_id="")
    variant = VariantFactory(parent=alone, narrative_structure="hook_inverted")
    DailyMetricFactory(variant=variant, impressions=4000, clicks=50)
    masters = [*first, *second, alone]

    # When the hints are read for all of them at once
    # (masters' campaigns, the scopes' sums, objectives: chosen, revenue)
    with django_assert_num_queries(4):
        hints = performance_hints_by_master(master_ids=[m.pk for m in masters])

    # Then each master gets exactly what it gets on its own
    for master in masters:
        assert hints[master.pk] == performance_hints(master_id=master.pk)
    # and each campaign's masters share their campaign's measurements
    assert hints[first[1].pk].structure_scores["cta_forward"] > 0.5
    assert hints[second[1].pk].structure_scores["cta_forward"] < 0.5
    assert hints[alone.pk].evidence == 1


def test_variants_still_in_the_learning_phase_give_no_hints():
    young = dataclasses.replace(MEASURED, impressions=499)

    assert hints_from_measurements([young]) == PerformanceHints()


def test_enough_conversions_make_them_the_event_the_hints_rank_by():
    # Given two variants: many clicks but few conversions, and the reverse
    clicky = dataclasses.replace(MEASURED, clicks=200, conversions=5)
    converting = dataclasses.replace(
        MEASURED,
        variant_id="v2",
        narrative_structure="hook_body_cta",
        clicks=50,
        conversions=40,
    )

    # When their 45 conversions pass the threshold
    scores = hints_from_measurements([clicky, converting]).structure_scores

    # Then the structure that converts ranks above the one that is clicked
    assert scores["hook_body_cta"] > 0.5 > scores["cta_forward"]


def test_words_and_hashtags_of_measured_captions_are_scored():
    weak = dataclasses.replace(
        MEASURED, variant_id="v2", caption="Winter coats", hashtags=("winter",)
    )
    weak = dataclasses.replace(weak, clicks=10)

    hints = hints_from_measurements([MEASURED, weak])

    assert hints.word_scores["summer"] > 0.5 > hints.word_scores["winter"]
    assert hints.hashtag_scores["summer"] > 0.5 > hints.hashtag_scores["winter"]
    assert "sale" in hints.word_scores  # four letters or more count as a word
