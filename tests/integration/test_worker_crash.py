"""A real worker on Redis killed mid-cycle: the next cycle finishes, with no duplicate ad."""

import datetime as dt

import pytest
import time_machine
from django.db.models import Count

from config.celery import app as celery_app
from creative_engine.models import CycleRun, RunStatus
from creative_engine.services.cycle import cycle_execute, cycle_request
from creative_engine.tasks import cycle_queue
from promotion.models import StubMetaObject
from tests.factories import master_with_approved_cuts
from tests.integration.conftest import wait_for
from tests.promotion.builders import rendered_variant
from variants.choices import VariantStatus
from variants.models import CreativeVariant

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_cycle_leaves_a_state_the_next_cycle_completes(
    celery_worker_process, settings
):
    # Given a master with six rendered variants and a real worker (slow stub calls)
    settings.META_STUB_UPLOAD_FAILURE_RATE = 0.0
    master = master_with_approved_cuts()
    variants = [rendered_variant(master, variant_number=n) for n in range(1, 7)]
    run = cycle_request(options={"generate_variants": False})
    cycle_queue(str(run.pk))

    # When the worker is killed once some ads exist but not all
    wait_for(
        lambda: StubMetaObject.objects.filter(kind="ad").count() >= 2,
        timeout=90,
        poll=0.1,
        what=f"the worker to create ads\n{celery_worker_process.log()}",
    )
    celery_worker_process.kill()
    killed_at = {v.pk: v.status for v in CreativeVariant.objects.filter(parent=master)}
    assert any(s != VariantStatus.TESTING for s in killed_at.values()), killed_at

    # ...and the next cycle runs (here, in-process) after the dead upload's lease ran out
    with time_machine.travel(
        dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), tick=True
    ):
        settings.META_STUB_LATENCY_SECONDS = 0.0
        celery_app.conf.task_always_eager = True  # this cycle runs its tasks in-process
        next_run = cycle_request(options={"generate_variants": False})
        next_run = cycle_execute(run_id=next_run.pk)

    # Then every variant has exactly one ad, and no ad exists twice
    assert next_run.status in {RunStatus.SUCCEEDED, RunStatus.PARTIAL}, next_run.errors
    statuses = set(
        CreativeVariant.objects.filter(parent=master).values_list("status", flat=True)
    )
    assert statuses <= {VariantStatus.TESTING, VariantStatus.ACTIVE}, statuses
    ads = StubMetaObject.objects.filter(kind="ad")
    assert ads.count() == len(variants)
    assert not ads.values("name").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert (
        not StubMetaObject.objects.filter(kind="creative")
        .values("name")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
    ad_ids = set(CreativeVariant.objects.values_list("meta_ad_id", flat=True))
    assert ad_ids == set(ads.values_list("meta_id", flat=True))
    # The first run, if the worker died inside it, is closed as lost
    first = CycleRun.objects.get(pk=run.pk)
    assert first.status in {RunStatus.SUCCEEDED, RunStatus.FAILED}
