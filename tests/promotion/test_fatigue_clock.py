"""Fatigue's clock and baseline start at the first day of delivery, whatever the label."""

import datetime as dt

import pytest

from promotion.services.fatigue import fatigue_review
from promotion.services.upload import variant_upload
from tests.factories import DailyMetricFactory, master_with_approved_cuts
from tests.promotion.builders import T0, rendered_variant, stub_client
from variants.models import CreativeVariant

pytestmark = pytest.mark.django_db


def test_a_winner_promoted_last_week_is_judged_from_its_first_day_of_delivery():
    # Given a variant tested for three weeks, promoted three days ago, that decayed
    client = stub_client()
    variant = rendered_variant(master_with_approved_cuts())
    variant_upload(variant_id=variant.pk, client=client, as_of=T0)
    as_of = T0 + dt.timedelta(days=29)
    CreativeVariant.objects.filter(pk=variant.pk).update(
        status="active", activated_at=as_of - dt.timedelta(days=3)
    )
    for offset, ctr in enumerate(
        [0.03] * 14 + [0.03 - 0.0012 * i for i in range(1, 15)]
    ):
        DailyMetricFactory(
            variant=variant,
            date=T0.date() + dt.timedelta(days=offset),
            impressions=1500,
            clicks=round(1500 * ctr),
            spend=15,
        )

    # When fatigue is reviewed
    outcomes = fatigue_review(as_of=as_of, client=client)

    # Then the promotion did not restart the clock: it is fatigued against the
    # baseline of its first two weeks of delivery
    assert [o.variant_id for o in outcomes] == [str(variant.pk)]
    assert outcomes[0].assessment.baseline_window[0] == T0.date()
