"""Insights collection: idempotent upserts per (variant, day), totals refreshed."""

import datetime as dt
from decimal import Decimal

import pytest

from promotion.choices import PromotionType
from promotion.meta.protocol import AdStatus, InsightRow
from promotion.models import PromotionLog, VariantDailyMetric
from promotion.services.insights import insights_collect
from promotion.services.upload import variant_upload
from promotion.tasks import collect_insights
from tests.factories import VariantFactory
from tests.promotion.builders import T0, rendered_variant, stub_client
from variants.choices import VariantStatus

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
D1 = dt.date(2026, 3, 2)


class ScriptedInsights:
    """A client whose insights are whatever the test says Meta reports now."""

    mode = "stub"

    def __init__(self, rows: list[InsightRow]) -> None:
        self.rows = rows
        self.requests: list[tuple] = []

    def get_daily_insights(self, *, ad_ids, since, until):
        self.requests.append((tuple(ad_ids), since, until))
        return iter([r for r in self.rows if r.ad_id in ad_ids])


def row(ad_id: str, day: dt.date, **overrides) -> InsightRow:
    values = {
        "ad_id": ad_id,
        "date": day,
        "impressions": 1000,
        "reach": 900,
        "frequency": 1.11,
        "clicks": 20,
        "spend": Decimal("10.00"),
        "conversions": 2,
        "revenue": Decimal("60.00"),
    }
    values.update(overrides)
    return InsightRow(**values)


def live_variant(ad_id: str):
    return VariantFactory(status=VariantStatus.TESTING, meta_ad_id=ad_id)


def test_collecting_the_same_days_twice_stores_each_day_once():
    # Given an ad with two days of insights
    variant = live_variant("120200000000201")
    client = ScriptedInsights(
        [row(variant.meta_ad_id, D1), row(variant.meta_ad_id, D1 + DAY)]
    )

    # When insights are collected twice
    first = insights_collect(until=D1 + DAY, client=client)
    second = insights_collect(until=D1 + DAY, client=client)

    # Then each run upserted the same two rows
    assert first == second == 2
    assert VariantDailyMetric.objects.filter(variant=variant).count() == 2


def test_a_late_correction_overwrites_the_stored_day():
    # Given a day stored before its late conversions arrived
    variant = live_variant("120200000000202")
    insights_collect(until=D1, client=ScriptedInsights([row(variant.meta_ad_id, D1)]))

    # When Meta later reports the same day with more conversions
    corrected = row(variant.meta_ad_id, D1, conversions=5, revenue=Decimal("150.00"))
    insights_collect(until=D1 + DAY, client=ScriptedInsights([corrected]))

    # Then the day holds the corrected numbers
    stored = VariantDailyMetric.objects.get(variant=variant, date=D1)
    assert (stored.conversions, stored.revenue) == (5, Decimal("150.00"))


def test_totals_and_days_active_are_refreshed_from_the_daily_rows():
    variant = live_variant("120200000000203")
    client = ScriptedInsights(
        [
            row(variant.meta_ad_id, D1),
            row(
                variant.meta_ad_id, D1 + DAY, impressions=3000, clicks=40, conversions=4
            ),
        ]
    )

    insights_collect(until=D1 + DAY, client=client)

    variant.refresh_from_db()
    perf = variant.actual_performance
    assert (perf["impressions"], perf["clicks"], perf["conversions"]) == (4000, 60, 6)
    assert perf["ctr"] == pytest.approx(60 / 4000)
    assert perf["cvr"] == pytest.approx(6 / 60)
    assert perf["roas"] == pytest.approx(120 / 20)
    assert perf["days_with_data"] == variant.days_active == 2


def test_ads_are_read_in_bounded_batches_and_each_read_is_logged():
    variants = [live_variant(f"1202000000003{n:02d}") for n in range(5)]
    client = ScriptedInsights([row(v.meta_ad_id, D1) for v in variants])

    written = insights_collect(until=D1, client=client, batch_size=2)

    assert written == 5
    assert [len(ids) for ids, _, _ in client.requests] == [2, 2, 1]
    assert client.requests[0][1:] == (D1 - 27 * DAY, D1)


def test_ads_archived_before_the_window_are_not_read_again():
    old = VariantFactory(
        status=VariantStatus.ARCHIVED,
        meta_ad_id="120200000000401",
        archived_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    )
    client = ScriptedInsights([row(old.meta_ad_id, D1)])

    assert insights_collect(until=D1, client=client) == 0
    assert client.requests == []


def test_uploaded_ads_feed_their_variants_through_the_stub_market(settings):
    # Given a variant uploaded and activated on the configured stub, a week ago
    settings.META_STUB_SEED = 7
    variant = rendered_variant()
    variant_upload(variant_id=variant.id, client=stub_client(), activate=True)
    week_later = T0 + 7 * DAY

    # When the collect task runs on the engine's clock a week later
    written = collect_insights.delay(as_of=week_later.isoformat()).get()

    # Then every finished day since the ad went live has a row, and totals follow
    variant.refresh_from_db()
    dates = list(
        VariantDailyMetric.objects.filter(variant=variant).values_list(
            "date", flat=True
        )
    )
    assert written == len(dates) == 7
    assert dates[0] == T0.date() and dates[-1] == week_later.date() - DAY
    assert variant.actual_performance["impressions"] > 0
    assert variant.days_active == 7
    read = PromotionLog.objects.get(operation="get_daily_insights")
    assert read.promotion_type == PromotionType.INSIGHTS and read.success


def test_a_paused_stub_ad_adds_no_rows():
    variant = rendered_variant()
    client = stub_client()
    variant_upload(variant_id=variant.id, client=client)  # created PAUSED
    variant.refresh_from_db()
    client.set_ad_status(ad_id=variant.meta_ad_id, status=AdStatus.PAUSED)

    written = insights_collect(
        until=T0.date() + 5 * DAY, client=stub_client(at=T0 + 6 * DAY)
    )

    assert written == 0
