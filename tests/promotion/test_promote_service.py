"""Top-3 promotion carried out on the (stub) Meta account, each decision explained."""

import datetime as dt

import pytest

from productions.guard import Actor, UnauthorizedPixelRefused
from promotion.models import PromotionLog, StubMetaObject
from promotion.ranking import RankingPolicy, rank_master
from promotion.selectors import live_variants_with_metrics
from promotion.services.manual import (
    PromotionRefused,
    variant_archive,
    variant_promote_manual,
)
from promotion.services.promote import master_promote_top
from promotion.services.ranking_inputs import candidates_for
from promotion.services.upload import variant_upload
from tests.factories import (
    DailyMetricFactory,
    VariantFactory,
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

PERSON = Actor(name="marta", user_id=1)


def _uploaded(master, client, number):
    variant = rendered_variant(master, variant_number=number)
    variant_upload(variant_id=variant.pk, client=client, as_of=T0)
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING
    return variant


def _deliver(variant, *, days, impressions, clicks):
    start = T0.date()
    for offset in range(days):
        DailyMetricFactory(
            variant=variant,
            date=start + dt.timedelta(days=offset),
            impressions=impressions,
            clicks=clicks,
            conversions=0,
            spend=10,
            revenue=0,
        )


def _ad_status(variant):
    ad = StubMetaObject.objects.get(kind="ad", meta_id=variant.meta_ad_id)
    return ad.status


def test_the_posterior_top_three_go_active_and_no_one_below_the_gates():
    # Given six tested variants with clear CTR differences, and one with too little data
    master = master_with_approved_cuts()
    client = stub_client()
    variants = [_uploaded(master, client, n) for n in range(1, 8)]
    for variant, clicks in zip(variants[:6], [10, 40, 25, 35, 5, 15], strict=True):
        _deliver(variant, days=4, impressions=1000, clicks=clicks)
    _deliver(variants[6], days=1, impressions=300, clicks=60)  # best CTR, below gates
    as_of = T0 + dt.timedelta(days=5)

    # When the optimizer runs
    outcome = master_promote_top(master_id=master.pk, as_of=as_of, client=client)

    # Then exactly the posterior's top 3 are active, on Meta and here
    expected = rank_master(
        candidates_for(live_variants_with_metrics(master_id=master.pk), as_of=as_of),
        policy=RankingPolicy(),
        seed=0,
        as_of=as_of.date(),
    )
    by_mean = sorted(
        (j for j in expected.judgements if j.eligible), key=lambda j: -j.posterior_mean
    )
    top3 = {j.variant_id for j in by_mean[:3]}
    assert set(outcome.winners) == top3 == {str(variants[i].pk) for i in (1, 3, 2)}
    for variant in variants:
        variant.refresh_from_db()
    active = {str(v.pk) for v in variants if v.status == VariantStatus.ACTIVE}
    assert active == top3
    assert all(_ad_status(v) == "ACTIVE" for v in variants if str(v.pk) in top3)
    # the under-evidenced variant is not judged, only kept in test (and delivering)
    assert variants[6].status == VariantStatus.TESTING
    assert _ad_status(variants[6]) == "ACTIVE"
    winner_logs = PromotionLog.objects.filter(
        operation="promote_top", promotion_type="winner"
    )
    assert winner_logs.count() == 3
    assert all("posterior_mean" in log.decision_details for log in winner_logs)


def test_a_clear_loser_is_paused_on_meta_and_paused_here_not_archived():
    master = master_with_approved_cuts()
    client = stub_client()
    variants = [_uploaded(master, client, n) for n in range(1, 6)]
    for variant, clicks in zip(variants, [60, 55, 50, 45, 2], strict=True):
        _deliver(variant, days=6, impressions=3000, clicks=clicks * 3)

    master_promote_top(
        master_id=master.pk, as_of=T0 + dt.timedelta(days=7), client=client
    )

    loser = CreativeVariant.objects.get(pk=variants[4].pk)
    assert loser.status == VariantStatus.PAUSED
    assert loser.archived_at is None
    assert _ad_status(loser) == "PAUSED"


def test_a_dry_run_decides_but_writes_nothing_and_calls_no_one():
    master = master_with_approved_cuts()
    client = stub_client()
    variants = [_uploaded(master, client, n) for n in range(1, 5)]
    for variant, clicks in zip(variants, [10, 40, 25, 35], strict=True):
        _deliver(variant, days=4, impressions=1000, clicks=clicks)
    logs_before = PromotionLog.objects.count()

    outcome = master_promote_top(
        master_id=master.pk, as_of=T0 + dt.timedelta(days=5), dry_run=True
    )

    assert len(outcome.winners) == 3
    assert PromotionLog.objects.count() == logs_before
    assert not CreativeVariant.objects.filter(status=VariantStatus.ACTIVE).exists()


def test_manual_promotion_of_an_archived_variant_is_refused_even_when_forced():
    variant = VariantFactory(status=VariantStatus.ARCHIVED)

    with pytest.raises(PromotionRefused, match="stay retired"):
        variant_promote_manual(variant_id=variant.pk, actor=PERSON, force=True)


def test_manual_promotion_never_breaks_a_human_rule_even_when_forced():
    master = master_with_approved_cuts()
    client = stub_client()
    variant = _uploaded(master, client, 1)
    CreativeVariant.objects.filter(pk=variant.pk).update(pixel_id="99999999")

    with pytest.raises(UnauthorizedPixelRefused):
        variant_promote_manual(
            variant_id=variant.pk, actor=PERSON, force=True, client=client
        )

    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING


def test_manual_promotion_activates_the_ad_and_records_who_asked():
    master = master_with_approved_cuts()
    client = stub_client()
    variant = _uploaded(master, client, 1)

    log = variant_promote_manual(
        variant_id=variant.pk,
        actor=PERSON,
        force=True,
        client=client,
        promoted_by="api",
    )

    variant.refresh_from_db()
    assert variant.status == VariantStatus.ACTIVE
    assert _ad_status(variant) == "ACTIVE"
    assert log.success and log.promoted_by == "api"
    assert log.decision_details["actor"] == "marta"


def test_manual_archive_archives_the_ad_first():
    master = master_with_approved_cuts()
    client = stub_client()
    variant = _uploaded(master, client, 1)

    variant_archive(
        variant_id=variant.pk, actor=PERSON, reason="off-brand", client=client
    )

    variant.refresh_from_db()
    assert variant.status == VariantStatus.ARCHIVED
    assert _ad_status(variant) == "ARCHIVED"
    assert "off-brand" in variant.failure_reason


@pytest.mark.parametrize(
    ("ceiling", "action", "new_budget"),
    [
        (1_000_000, "budget_change", 6000),  # +20 %: the largest step Meta tolerates
        (5500, "budget_change", 5500),  # the team's ceiling, not +20 %
        (5000, "budget_hold", None),  # already at the ceiling
    ],
)
def test_the_roas_engine_never_raises_a_budget_past_the_configured_ceiling(
    settings, ceiling, action, new_budget
):
    # Given a master whose variants earn ROAS 10 on an ad set budgeted at 50.00
    settings.ROAS_MAX_DAILY_BUDGET_MINOR = ceiling
    master = master_with_approved_cuts()
    client = stub_client()
    variants = [_uploaded(master, client, n) for n in range(1, 5)]
    for variant, clicks in zip(variants, [10, 40, 25, 35], strict=True):
        for offset in range(4):
            DailyMetricFactory(
                variant=variant,
                date=T0.date() + dt.timedelta(days=offset),
                impressions=1000,
                clicks=clicks,
                conversions=2,
                spend=10,
                revenue=100,
            )
    adset_id = variants[0].adset_id
    before = client.get_adset(adset_id=adset_id).daily_budget_minor

    # When the optimizer runs
    outcome = master_promote_top(
        master_id=master.pk, as_of=T0 + dt.timedelta(days=5), client=client
    )

    # Then the budget steps up by at most 20 % and never past the ceiling
    budget = next(d for d in outcome.decisions if d.action.startswith("budget"))
    assert before == 5000
    assert budget.action == action
    assert budget.numbers["new_daily_budget_minor"] == new_budget
    assert client.get_adset(adset_id=adset_id).daily_budget_minor == (
        new_budget or before
    )


def test_the_winners_budget_follows_what_the_winners_earn_not_the_test_pool():
    # Given three winners earning ROAS 10 and a weak test variant earning nothing
    # on much more spend (the whole master's ROAS is below the target of 2)
    master = master_with_approved_cuts()
    client = stub_client()
    variants = [_uploaded(master, client, n) for n in range(1, 5)]
    for variant, clicks in zip(variants, [40, 35, 30, 5], strict=True):
        weak = clicks == 5
        for offset in range(4):
            DailyMetricFactory(
                variant=variant,
                date=T0.date() + dt.timedelta(days=offset),
                impressions=1000,
                clicks=clicks,
                conversions=0 if weak else 2,
                spend=100 if weak else 10,
                revenue=0 if weak else 100,
            )

    # When the optimizer runs
    outcome = master_promote_top(
        master_id=master.pk, as_of=T0 + dt.timedelta(days=5), client=client
    )

    # Then the budget is judged on the winners' spend and revenue alone, and steps up
    budget = next(d for d in outcome.decisions if d.action.startswith("budget"))
    assert set(budget.numbers["winners"]) == {str(v.pk) for v in variants[:3]}
    assert budget.numbers["spend_7d"] == 120.0
    assert budget.numbers["revenue_7d"] == 1200.0
    assert budget.action == "budget_change"
    assert budget.numbers["new_daily_budget_minor"] > 5000
