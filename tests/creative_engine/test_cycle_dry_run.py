"""`run_cycle --dry-run` prints what it would do and why, and writes nothing to Meta."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from creative_engine.models import CycleRun
from promotion.models import PromotionLog, StubMetaObject
from promotion.services.upload import variant_upload
from tests.factories import DailyMetricFactory, master_with_approved_cuts
from tests.promotion.builders import (
    T0,
    rendered_variant,
    stub_client,
)
from variants.models import CreativeVariant

pytestmark = pytest.mark.django_db


def test_dry_run_prints_the_plan_and_writes_nothing(settings):
    # Given live variants with evidence and a master that needs a new batch
    client = stub_client()
    master = master_with_approved_cuts()
    variants = [rendered_variant(master, variant_number=n) for n in range(1, 5)]
    for variant, clicks in zip(variants, [10, 40, 25, 35], strict=True):
        variant_upload(variant_id=variant.pk, client=client, as_of=T0)
        for day in range(4):
            DailyMetricFactory(
                variant=variant,
                date=T0.date() + dt.timedelta(days=day),
                impressions=1000,
                clicks=clicks,
                conversions=0,
                spend=10,
                revenue=0,
            )
    before = (
        PromotionLog.objects.count(),
        StubMetaObject.objects.count(),
        CreativeVariant.objects.count(),
        list(CreativeVariant.objects.values_list("status", flat=True)),
    )
    out = io.StringIO()

    # When a dry run is asked for
    call_command(
        "run_cycle",
        "--dry-run",
        "--as-of",
        (T0 + dt.timedelta(days=5)).isoformat(),
        stdout=out,
    )

    # Then the plan says what and why, and nothing changed anywhere
    text = out.getvalue()
    assert "DRY RUN — nothing was written to Meta" in text
    assert "Would promote" in text and "Would generate" in text
    # in the console's words, with the numbers behind them
    assert "chance of being in the top 3" in text
    after = (
        PromotionLog.objects.count(),
        StubMetaObject.objects.count(),
        CreativeVariant.objects.count(),
        list(CreativeVariant.objects.values_list("status", flat=True)),
    )
    assert after == before
    run = CycleRun.objects.get()
    assert run.dry_run and any(d["action"] == "would_promote" for d in run.decisions)
