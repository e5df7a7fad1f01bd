"""The generate step sizes each batch by what the master's delivery can judge."""

import datetime as dt

import pytest

from creative_engine.models import CycleRun
from creative_engine.services import steps
from creative_engine.services.cycle import cycle_execute, cycle_request
from productions.choices import FragmentType
from tests.factories import (
    DailyMetricFactory,
    FragmentFactory,
    ProductionFactory,
    VariantFactory,
)
from tests.promotion.builders import slots_of
from variants.choices import VariantStatus
from variants.models import CreativeVariant

pytestmark = pytest.mark.django_db

AS_OF = dt.datetime(2026, 3, 10, 0, 30, tzinfo=dt.UTC)


def _master_with_live_tests(*, impressions_per_variant_day: int):
    """A master with plenty of approved fragments and 3 variants testing, each
    delivering the given impressions on each of the last 3 days."""
    master = ProductionFactory()
    cuts = [
        (FragmentType.HOOK, 0.0, 3.0),
        (FragmentType.HOOK, 3.0, 5.5),
        (FragmentType.HOOK, 10.0, 13.0),
        (FragmentType.BODY, 5.0, 12.0),
        (FragmentType.BODY, 11.0, 18.0),
        (FragmentType.CTA, 16.0, 20.0),
        (FragmentType.CTA, 13.5, 17.0),
    ]
    for kind, start, end in cuts:
        FragmentFactory(
            master_creative=master, fragment_type=kind, start_time=start, end_time=end
        )
    for number in (1, 2, 3):
        variant = VariantFactory(
            parent=master,
            batch_number=1,
            variant_number=number,
            fragments_order=slots_of(master)[:3],
            status=VariantStatus.TESTING,
            pixel_id=master.authorized_pixels[0],
        )
        for back in (1, 2, 3):
            DailyMetricFactory(
                variant=variant,
                date=AS_OF.date() - dt.timedelta(days=back),
                impressions=impressions_per_variant_day,
            )
    return master


def _generate(master) -> CycleRun:
    run = cycle_request(as_of=AS_OF)
    return cycle_execute(run_id=run.pk, steps=[("generate", steps.generate_variants)])


def _batch(master):
    return CreativeVariant.objects.filter(parent=master, batch_number=2)


def test_a_starved_ad_set_gets_the_smallest_batch_the_spec_allows():
    # Given 3 live tests sharing 600 impressions a day: not even they are judged
    # within four days
    master = _master_with_live_tests(impressions_per_variant_day=200)

    # When the cycle's generate step runs
    run = _generate(master)

    # Then the new batch has 5 variants, not the planner's 15, and the run says why
    assert _batch(master).count() == 5
    decision = next(d for d in run.decisions if d["action"] == "generate")
    assert decision["numbers"]["daily_impressions"] == 600
    assert decision["numbers"]["live_variants"] == 3
    assert decision["numbers"]["judging_capacity"] == 0
    assert decision["numbers"]["batch_size_cap"] == 5


def test_delivery_that_can_judge_a_middle_sized_batch_gets_one():
    # Given 3 live tests sharing 3,000 impressions a day: 12 judged in four days
    master = _master_with_live_tests(impressions_per_variant_day=1000)

    run = _generate(master)

    # Then 9 new variants join the 3 live ones
    assert _batch(master).count() == 9
    decision = next(d for d in run.decisions if d["action"] == "generate")
    assert decision["numbers"]["judging_capacity"] == 9


def test_ample_delivery_leaves_the_batch_size_to_the_planner():
    master = _master_with_live_tests(impressions_per_variant_day=10_000)

    _generate(master)

    assert _batch(master).count() > 9
