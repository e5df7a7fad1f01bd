"""The dashboard: two weeks of delivery, the next cycle, the last run and alerts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from creative_engine.console.dashboard import dashboard_data
from tests.factories import (
    DailyMetricFactory,
    FragmentFactory,
    ProductionFactory,
    PromotionLogFactory,
    VariantFactory,
)
from variants.choices import VariantStatus

pytestmark = pytest.mark.django_db


def test_totals_and_per_master_rows_add_the_last_fourteen_days_only():
    # Given two masters with delivery today and one day outside the window
    today = timezone.localdate()
    neon = ProductionFactory(title="Neon Nights")
    other = ProductionFactory(title="Other")
    winner = VariantFactory(parent=neon, status=VariantStatus.ACTIVE)
    tester = VariantFactory(parent=other, status=VariantStatus.TESTING)
    DailyMetricFactory(variant=winner, date=today, spend=40, revenue=120, conversions=4)
    DailyMetricFactory(variant=tester, date=today, spend=10, revenue=0, conversions=0)
    DailyMetricFactory(
        variant=winner, date=today - dt.timedelta(days=14), spend=999, conversions=99
    )

    # When the dashboard is computed
    data = dashboard_data(now=timezone.now())

    # Then the old day is left out and ROAS/CPA follow from the sums
    total = data["total"]
    assert (total.live, total.winners) == (2, 1)
    assert total.delivery.spend == 50.0
    assert total.delivery.conversions == 4
    assert total.delivery.roas == pytest.approx(120 / 50)
    assert total.delivery.cpa == pytest.approx(50 / 4)
    rows = {row.title: row for row in data["master_rows"]}
    assert rows["Neon Nights"].delivery.roas == pytest.approx(3.0)
    # no conversion: no CPA, not a division by zero
    assert rows["Other"].delivery.cpa is None
    # each master is shown on its objective (ROAS once its pixel reports revenue)
    assert rows["Neon Nights"].objective == "ROAS 3.00×"


def test_the_dashboard_page_renders_charts_next_cycle_and_buttons(staff_manager):
    variant = VariantFactory(status=VariantStatus.ACTIVE)
    DailyMetricFactory(variant=variant, date=timezone.localdate(), spend=Decimal(5))

    html = staff_manager.get(reverse("admin:index")).content.decode()

    assert html.count('class="chart"') == 3
    assert "Next cycle" in html
    assert reverse("console_run_cycle") in html
    assert reverse("console_dry_run") in html


def test_alerts_name_failed_variants_account_errors_the_page_cap_and_a_stalled_master(
    settings,
):
    # Given a failed variant, a token error, a Page nearly full and a quiet master
    settings.META_MAX_RUNNING_ADS_PER_PAGE = 2
    now = timezone.now()
    VariantFactory(status=VariantStatus.FAILED, status_changed_at=now)
    live = VariantFactory(status=VariantStatus.TESTING, meta_ad_id="111")
    VariantFactory(status=VariantStatus.ACTIVE, meta_ad_id="222")
    PromotionLogFactory(
        variant=live,
        success=False,
        promotion_status="failed",
        error_code="190",
        error_message="Error validating access token",
    )
    quiet = ProductionFactory(title="Quiet master")
    FragmentFactory(master_creative=quiet)
    quiet.__class__.objects.filter(pk=quiet.pk).update(
        created_at=now - dt.timedelta(days=3)
    )

    # When the alerts are computed
    titles = [alert.title for alert in dashboard_data(now=now)["alerts"]]

    # Then each needs-a-person condition is named, the most serious first
    assert titles[0] == "Meta refused the account or its token"
    assert "1 variant(s) failed to render or upload" in titles
    assert "2 of the Page's 2 running ads are in use" in titles
    assert "Quiet master: nothing live or being made" in titles


def test_a_healthy_engine_raises_no_alert():
    variant = VariantFactory(status=VariantStatus.ACTIVE, meta_ad_id="1")
    FragmentFactory(master_creative=variant.parent)

    assert dashboard_data(now=timezone.now())["alerts"] == []


def test_the_header_badge_says_whether_money_is_real(staff_manager, settings):
    html = staff_manager.get(reverse("admin:index")).content.decode()

    assert "Stub Meta (no real spend)" in html


def test_the_last_runs_alerts_come_first_on_the_dashboard():
    from tests.factories import CycleRunFactory

    CycleRunFactory(
        alerts=[
            {
                "kind": "pipeline_stalled_no_material",
                "master_id": None,
                "message": "Neon Nights: the testing pool cannot be refilled.",
            }
        ]
    )

    first = dashboard_data(now=timezone.now())["alerts"][0]

    assert first.title == "The last cycle needs a person"
    assert "cannot be refilled" in first.detail
