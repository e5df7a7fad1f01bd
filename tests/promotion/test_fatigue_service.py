"""Fatigue retires a worn-out variant on Meta and here, and writes a rule-abiding refresh."""

import datetime as dt

import pytest

from productions.guard import check_variant_respects_human_rules
from productions.selectors import approved_fragment_ids
from promotion.models import StubMetaObject
from promotion.services.fatigue import fatigue_review
from promotion.services.promote import master_promote_top
from promotion.services.upload import variant_upload
from promotion.suggestions import RefreshContext, Suggestion
from tests.factories import (
    DailyMetricFactory,
    FragmentFactory,
    master_with_approved_cuts,
)
from tests.promotion.builders import (
    T0,
    rendered_variant,
    stub_client,
)
from variants.choices import VariantStatus
from variants.models import CreativeVariant

pytestmark = pytest.mark.django_db

SWAP_THE_HOOK = Suggestion(
    text="swap the hook", weak_fragment_id="", reason="", provider="test"
)


class RecordingSuggestions:
    """A suggestion provider that remembers what fatigue told it."""

    def __init__(self):
        self.contexts = []

    def suggest_refresh(self, ctx: RefreshContext) -> Suggestion:
        self.contexts.append(ctx)
        return SWAP_THE_HOOK


def _live_variant(client):
    master = master_with_approved_cuts()
    variant = rendered_variant(master)
    # A second approved hook: the refresh needs an unused fragment to swap in.
    FragmentFactory(
        master_creative=master, fragment_type="hook", start_time=12, end_time=15
    )
    variant_upload(variant_id=variant.pk, client=client, as_of=T0)
    variant.refresh_from_db()
    return variant


def _series(variant, ctrs, impressions=1500):
    for offset, ctr in enumerate(ctrs):
        DailyMetricFactory(
            variant=variant,
            date=T0.date() + dt.timedelta(days=offset),
            impressions=impressions,
            clicks=round(impressions * ctr),
            conversions=0,
            spend=15,
            revenue=0,
            frequency=1.2 + offset * 0.05,
        )


def test_a_decaying_variant_is_archived_on_meta_and_refreshed_within_the_rules():
    # Given 28 days: two flat weeks at 3 % CTR, then a slide to 1.5 %
    client = stub_client()
    variant = _live_variant(client)
    _series(variant, [0.03] * 14 + [0.03 - 0.0012 * i for i in range(1, 15)])
    as_of = T0 + dt.timedelta(days=29)
    provider = RecordingSuggestions()

    # When fatigue is reviewed
    outcomes = fatigue_review(as_of=as_of, client=client, suggestions=provider)

    # Then it is archived here and on Meta with its score, and a refresh exists
    assert [o.variant_id for o in outcomes] == [str(variant.pk)]
    variant.refresh_from_db()
    assert variant.status == VariantStatus.ARCHIVED
    assert variant.is_fatigued and variant.fatigue_score >= 0.2
    ad = StubMetaObject.objects.get(kind="ad", meta_id=variant.meta_ad_id)
    assert ad.status == "ARCHIVED"
    refresh = CreativeVariant.objects.get(refreshed_from=variant)
    assert refresh.variant_type == "refresh" and refresh.status == VariantStatus.DRAFT
    check_variant_respects_human_rules(
        master=refresh.parent,
        fragment_ids=[s["fragment_id"] for s in refresh.fragments_order],
        hashtags=refresh.hashtags,
        pixel_id=refresh.pixel_id or None,
        approved_fragment_ids=approved_fragment_ids(production_id=refresh.parent_id),
    )
    assert refresh.fragments_order != variant.fragments_order
    (context,) = provider.contexts
    assert context.weak_fragment_type == "hook"
    assert context.variant_id == str(variant.pk)
    assert 0.2 <= context.drop <= 1.0
    assert outcomes[0].suggestion == SWAP_THE_HOOK
    assert refresh.plan_details["suggestion"] == SWAP_THE_HOOK.details()
    assert (
        outcomes[0].assessment.frequency_recent
        > outcomes[0].assessment.frequency_baseline
    )


@pytest.mark.parametrize(
    ("name", "ctrs", "days_after"),
    [
        ("flat", [0.03] * 28, 29),
        ("one-day dip", [0.03] * 25 + [0.01] + [0.03] * 2, 29),
        ("young", [0.03] * 5 + [0.015] * 5, 11),
    ],
)
def test_fatigue_does_not_fire_on(name, ctrs, days_after):
    client = stub_client()
    variant = _live_variant(client)
    _series(variant, ctrs)

    outcomes = fatigue_review(as_of=T0 + dt.timedelta(days=days_after), client=client)

    assert outcomes == [], name
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING


def test_a_dry_run_reports_fatigue_but_changes_nothing():
    client = stub_client()
    variant = _live_variant(client)
    _series(variant, [0.03] * 14 + [0.03 - 0.0012 * i for i in range(1, 15)])

    outcomes = fatigue_review(
        as_of=T0 + dt.timedelta(days=29), client=client, dry_run=True
    )

    assert len(outcomes) == 1
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING
    assert not CreativeVariant.objects.filter(refreshed_from=variant).exists()


def test_fatigue_and_ranking_judge_a_master_by_the_same_metric():
    # Given a decaying variant whose conversions reach 30 only with yesterday's rows,
    # which are still arriving (10 mature conversions, 20 immature)
    client = stub_client()
    variant = _live_variant(client)
    _series(variant, [0.03] * 14 + [0.03 - 0.0012 * i for i in range(1, 15)])
    as_of = T0 + dt.timedelta(days=28)
    first, yesterday = variant.daily_metrics.order_by("date")[::27]
    assert yesterday.date == as_of.date() - dt.timedelta(days=1)
    for row, conversions in [(first, 10), (yesterday, 20)]:
        row.conversions = conversions
        row.save(update_fields=["conversions"])

    # When fatigue and the top-3 ranking judge the master
    fatigued = fatigue_review(as_of=as_of, client=client, dry_run=True)
    ranked = master_promote_top(
        master_id=variant.parent_id, as_of=as_of, client=client, dry_run=True
    )

    # Then both count clicks (the immature conversions do not switch the metric),
    # so the click decay is what retires the variant
    assert ranked.metric == "ctr"
    assert [(o.variant_id, o.metric) for o in fatigued] == [(str(variant.pk), "ctr")]
