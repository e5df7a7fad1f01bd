"""Testing and scaling ad sets: promotion moves money (issue 12, point 0)."""

import datetime as dt

import pytest

from productions.guard import Actor
from promotion.models import StubMetaObject, VariantDailyMetric
from promotion.services.insights import insights_collect
from promotion.services.manual import variant_archive, variant_pause_manual
from promotion.services.placement import adset_for_scaling, adset_for_testing
from promotion.services.promote import master_promote_top
from promotion.services.upload import variant_upload
from tests.factories import DailyMetricFactory, master_with_approved_cuts
from tests.promotion.builders import T0, rendered_variant, stub_client
from variants.choices import VariantStatus
from variants.models import CreativeVariant

pytestmark = pytest.mark.django_db

TESTING = "120230000000001"
SCALING = "120230000000002"


def _ad(meta_id):
    return StubMetaObject.objects.get(kind="ad", meta_id=meta_id)


def _tested_master(client, clicks):
    master = master_with_approved_cuts(adset_id=TESTING, scaling_adset_id=SCALING)
    variants = []
    for number, per_day in enumerate(clicks, start=1):
        variant = rendered_variant(master, variant_number=number)
        variant_upload(variant_id=variant.pk, client=client, as_of=T0)
        for offset in range(6):
            DailyMetricFactory(
                variant=variant,
                date=T0.date() + dt.timedelta(days=offset),
                impressions=3000,
                clicks=per_day,
                conversions=0,
                spend=24,
                revenue=0,
            )
        variants.append(variant)
    return master, variants


def test_settings_give_the_default_testing_and_scaling_ad_sets(settings):
    settings.META_TESTING_ADSET_ID = "111"
    settings.META_SCALING_ADSET_ID = "222"
    own = master_with_approved_cuts(adset_id="333", scaling_adset_id="444")
    default = master_with_approved_cuts(adset_id="", scaling_adset_id="")

    assert (adset_for_testing(own), adset_for_scaling(own)) == ("333", "444")
    assert (adset_for_testing(default), adset_for_scaling(default)) == ("111", "222")


def test_a_winner_graduates_into_the_scaling_ad_set_as_the_same_creative():
    # Given five tested variants, three of them clearly better
    client = stub_client(at=T0 + dt.timedelta(days=7))
    master, variants = _tested_master(stub_client(), [180, 165, 150, 135, 6])

    # When the cycle promotes
    outcome = master_promote_top(
        master_id=master.pk, as_of=T0 + dt.timedelta(days=7), client=client
    )

    # Then each winner runs a second ad of its creative in the scaling ad set
    assert len(outcome.winners) == 3
    for winner_id in outcome.winners:
        winner = CreativeVariant.objects.get(pk=winner_id)
        assert winner.status == VariantStatus.ACTIVE
        scaling_ad = _ad(winner.scaling_ad_id)
        assert scaling_ad.parent_meta_id == SCALING
        assert scaling_ad.payload["creative_id"] == winner.meta_creative_id
        assert scaling_ad.status == "ACTIVE"
        # And its test ad is paused: the test budget goes to those still judged
        assert _ad(winner.meta_ad_id).status == "PAUSED"
    # And the loser is paused in testing, never sent to scaling
    loser = CreativeVariant.objects.get(pk=variants[4].pk)
    assert loser.status == VariantStatus.PAUSED
    assert loser.scaling_ad_id == ""
    assert _ad(loser.meta_ad_id).status == "PAUSED"


def test_the_budget_engine_steers_the_scaling_ad_set():
    client = stub_client(at=T0 + dt.timedelta(days=7))
    master, _ = _tested_master(stub_client(), [180, 165, 150, 135, 6])

    outcome = master_promote_top(
        master_id=master.pk, as_of=T0 + dt.timedelta(days=7), client=client
    )

    budget = [d for d in outcome.decisions if d.action.startswith("budget")]
    assert budget and budget[0].numbers["adset_id"] == SCALING


def test_a_graduated_winners_two_ads_are_one_variant_in_the_daily_metrics():
    # Given a winner that has run in testing and then in scaling
    master, _ = _tested_master(stub_client(), [180, 165, 150, 135, 6])
    VariantDailyMetric.objects.all().delete()
    master_promote_top(
        master_id=master.pk,
        as_of=T0,
        client=stub_client(),
        policy=None,
    )
    graduated = CreativeVariant.objects.filter(parent=master).first()
    assert graduated is not None
    later = T0 + dt.timedelta(days=5)

    # When insights are collected over both ads
    insights_collect(until=later.date(), as_of=later, client=stub_client(at=later))

    # Then each variant has at most one row per day
    dates = list(
        VariantDailyMetric.objects.filter(variant__parent=master).values_list(
            "variant_id", "date"
        )
    )
    assert len(dates) == len(set(dates)) > 0


def test_a_winner_whose_scaling_ad_meta_refuses_keeps_running_on_its_test_ad():
    # Given Meta fails the scaling ad's creation once
    client = stub_client(
        at=T0 + dt.timedelta(days=7), inject_failures={"create_ad": ["permanent"] * 3}
    )
    master, _ = _tested_master(stub_client(), [180, 165, 150, 135, 6])

    # When the cycle promotes
    outcome = master_promote_top(
        master_id=master.pk, as_of=T0 + dt.timedelta(days=7), client=client
    )

    # Then the winners are still promoted and deliver on their test ads
    for winner_id in outcome.winners:
        winner = CreativeVariant.objects.get(pk=winner_id)
        assert winner.status == VariantStatus.ACTIVE
        if not winner.scaling_ad_id:
            assert _ad(winner.meta_ad_id).status == "ACTIVE"
    # And the next cycle graduates them
    master_promote_top(
        master_id=master.pk,
        as_of=T0 + dt.timedelta(days=8),
        client=stub_client(at=T0 + dt.timedelta(days=8)),
    )
    for winner_id in outcome.winners:
        winner = CreativeVariant.objects.get(pk=winner_id)
        assert winner.scaling_ad_id and winner.scaling_ad_status == "ACTIVE"


@pytest.mark.parametrize(
    ("act", "ad_status", "variant_status"),
    [
        (variant_archive, "ARCHIVED", VariantStatus.ARCHIVED),
        (variant_pause_manual, "PAUSED", VariantStatus.PAUSED),
    ],
)
def test_a_winner_retired_or_paused_by_hand_stops_spending_in_scaling_too(
    act, ad_status, variant_status
):
    # Given a winner running in the scaling ad set
    client = stub_client(at=T0 + dt.timedelta(days=7))
    master, _ = _tested_master(stub_client(), [180, 165, 150, 135, 6])
    outcome = master_promote_top(
        master_id=master.pk, as_of=T0 + dt.timedelta(days=7), client=client
    )
    winner = CreativeVariant.objects.get(pk=outcome.winners[0])
    assert _ad(winner.scaling_ad_id).status == "ACTIVE"

    # When a person archives (or pauses) it
    act(
        variant_id=winner.pk,
        actor=Actor(name="marta", user_id=1),
        reason="off-brand",
        client=client,
    )

    # Then both of its ads stop, so nothing is spent on it anywhere
    winner.refresh_from_db()
    assert winner.status == variant_status
    assert _ad(winner.scaling_ad_id).status == ad_status
    assert winner.scaling_ad_status == ad_status
    assert _ad(winner.meta_ad_id).status in ("PAUSED", ad_status)
