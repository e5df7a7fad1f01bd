"""The pipeline never stalls: the testing pool is counted by what still waits for
evidence, refilled every cycle, and a master that cannot refill raises an alert."""

import datetime as dt

import pytest

from creative_engine.services import steps
from creative_engine.services.cycle import cycle_execute, cycle_request
from promotion.selectors import pool_waiting_for_evidence
from tests.factories import (
    DailyMetricFactory,
    ProductionFactory,
    VariantFactory,
    master_with_approved_cuts,
)
from variants.models import CreativeVariant

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)


def _judged(master, number):
    """A testing variant with the evidence the gates ask for (4 days, $32)."""
    variant = VariantFactory(
        parent=master, status="testing", variant_number=number, meta_ad_id=f"ad{number}"
    )
    for offset in range(4):
        DailyMetricFactory(
            variant=variant,
            date=T0.date() - dt.timedelta(days=offset + 1),
            impressions=1000,
            clicks=10,
            spend=8,
        )
    return variant


def _generate(as_of=T0):
    run = cycle_request(as_of=as_of)
    return cycle_execute(run_id=run.pk, steps=[("generate", steps.generate_variants)])


def test_paused_judged_and_active_variants_do_not_count_as_waiting():
    # Given a master with 3 judged testing variants, 2 paused, 2 active, 1 new test
    master = master_with_approved_cuts()
    for n in range(1, 4):
        _judged(master, n)
    for n, status in enumerate(["paused", "paused", "active", "active"], start=4):
        VariantFactory(parent=master, status=status, variant_number=n)
    VariantFactory(parent=master, status="testing", variant_number=8)
    VariantFactory(parent=master, status="rendered", variant_number=9)

    # Then only the untested test and the one on its way wait for evidence
    assert pool_waiting_for_evidence(master_ids=[master.pk]) == {master.pk: 2}


def test_a_master_whose_tests_are_judged_gets_a_new_batch_every_cycle():
    # Given five testing variants, all past the gates (the old rule saw 5 in flight)
    master = master_with_approved_cuts()
    for n in range(1, 6):
        _judged(master, n)

    # When the generate step runs
    run = _generate()

    # Then a new batch is written, and the reason counts what waits for evidence
    decision = next(d for d in run.decisions if d["step"] == "generate")
    assert decision["action"] == "generate"
    assert decision["numbers"]["waiting_for_evidence"] == 0
    assert CreativeVariant.objects.filter(parent=master, status="draft").count() >= 5
    assert run.alerts == []


def test_a_full_testing_pool_waits_without_an_alert():
    master = master_with_approved_cuts()
    for n in range(1, 6):
        VariantFactory(parent=master, status="testing", variant_number=n)

    run = _generate()

    decision = next(d for d in run.decisions if d["step"] == "generate")
    assert decision["action"] == "skip_master"
    assert "5 variants still wait for evidence" in decision["reason"]
    assert run.alerts == []


def test_a_master_without_approved_material_raises_an_alert_with_the_reason():
    # Given an active master with no approved fragments
    master = ProductionFactory(title="Empty master", duration=20.0)

    # When the pool should be refilled
    run = _generate()

    # Then the run carries a visible alert that names the master and why
    assert len(run.alerts) == 1
    alert = run.alerts[0]
    assert alert["master_id"] == str(master.pk)
    assert alert["kind"] == "pipeline_stalled_no_material"
    assert "Empty master" in alert["message"]
    assert "cannot refill" in alert["message"]
    assert run.counts["alerts"] == 1


def test_the_page_cap_raises_an_alert(settings):
    settings.META_MAX_RUNNING_ADS_PER_PAGE = 3
    master = master_with_approved_cuts()
    for n in range(1, 4):
        _judged(master, n)

    run = _generate()

    assert [a["kind"] for a in run.alerts] == ["pipeline_stalled_page_cap"]
    assert "Page cap" in run.alerts[0]["message"]
