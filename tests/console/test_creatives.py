"""The creative grid and the variant page, and steering a variant from them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from promotion.models import PromotionLog, StubMetaObject
from tests.api.test_promote_and_archive import uploaded_variant
from tests.factories import (
    DailyMetricFactory,
    PromotionLogFactory,
    UserFactory,
    VariantFactory,
)
from variants.choices import VariantStatus

pytestmark = pytest.mark.django_db

GRID = "admin:variants_creativevariant_changelist"


@pytest.fixture(autouse=True)
def _reliable_stub(settings):
    settings.CREATIVE_ENGINE_MODE = "stub"
    settings.META_STUB_UPLOAD_FAILURE_RATE = 0.0


@pytest.fixture
def viewer_client(client):
    viewer = UserFactory(username="viewer1", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename="view_creativevariant")
    )
    client.force_login(viewer)
    return client


def _variant_page(variant) -> str:
    return reverse("admin:variants_creativevariant_change", args=[variant.pk])


def test_the_grid_shows_readable_names_badges_and_the_rates_from_the_days(
    staff_manager,
):
    # Given a variant with two measured days
    variant = VariantFactory(status=VariantStatus.ACTIVE, color_look="warm_film")
    for day in (1, 2):
        DailyMetricFactory(
            variant=variant,
            date=timezone.localdate() - dt.timedelta(days=day),
            impressions=1000,
            clicks=20,
            conversions=2,
            spend=10,
            revenue=45,
            video_3s_views=300,
            thruplays=100,
        )

    # When a manager opens the grid
    html = staff_manager.get(reverse(GRID)).content.decode()

    # Then the row reads as a marketer would say it, with the lifetime rates
    assert str(variant) in html
    assert str(variant.parent_id) not in html.split("<tbody")[1].split("</tbody>")[0]
    assert "look Warm film" in html
    assert "Active" in html
    for figure in (
        "20.00",
        "2.00\u00a0%",
        "10.0\u00a0%",
        "4.50×",
        "5.00",
        "30.0\u00a0%",
        "10.0\u00a0%",
        "2,000",
        "ROAS 4.50×",  # the master's objective (its pixel reports revenue)
    ):
        assert figure in html, figure


def test_the_grid_sorts_by_roas_best_first(staff_manager):
    poor = VariantFactory(caption="poor")
    rich = VariantFactory(caption="rich")
    DailyMetricFactory(variant=poor, spend=10, revenue=5)
    DailyMetricFactory(variant=rich, spend=10, revenue=80)
    columns = staff_manager.get(reverse(GRID)).context["cl"].list_display
    roas_index = list(columns).index("roas_column")

    ordered = staff_manager.get(reverse(GRID), {"o": f"-{roas_index}"})

    names = [str(v) for v in ordered.context["cl"].result_list]
    assert names.index(str(rich)) < names.index(str(poor))


def test_the_variant_page_charts_its_days_and_tells_its_decisions(staff_manager):
    variant = VariantFactory(status=VariantStatus.ACTIVE)
    for day in range(3):
        DailyMetricFactory(
            variant=variant, date=timezone.localdate() - dt.timedelta(days=3 - day)
        )
    PromotionLogFactory(
        variant=variant,
        promotion_type="winner",
        operation="promote_top",
        success=False,  # a decision row: no Meta call of its own
        error_message="rank 1 of the posterior, in the top 3",
        decision_details={"action": "promote", "prob_top_n": 0.91, "days_used": 15},
    )

    page = staff_manager.get(_variant_page(variant))

    html = page.content.decode()
    assert page.context["has_days"] is True
    assert 'data-type="line"' in html
    assert "91 % chance of being in the top 3 on 15 days of data" in html
    assert "Meta refused" not in html
    assert "The fatigue rule starts looking after 14 days of delivery" in html


def test_after_two_weeks_the_chart_carries_the_fatigue_baseline_and_the_20_line(
    staff_manager,
):
    variant = VariantFactory(status=VariantStatus.ACTIVE)
    today = timezone.localdate()
    for day in range(20):
        DailyMetricFactory(
            variant=variant,
            date=today - dt.timedelta(days=20 - day),
            impressions=2000,
            clicks=40,
        )

    page = staff_manager.get(_variant_page(variant))

    labels = [d["label"] for d in _chart(page)["datasets"]]
    assert "Fatigue baseline (CTR %)" in labels
    assert "20% below baseline" in labels
    baseline = next(d for d in _chart(page)["datasets"] if d["label"].startswith("Fat"))
    assert baseline["data"][0] == pytest.approx(2.0)  # 40 clicks / 2000 impressions


def _chart(page):
    import json

    return json.loads(page.context["daily_chart"])


def test_a_manager_promotes_through_the_dialog_and_the_ad_goes_active(
    staff_manager, manager_user
):
    variant = uploaded_variant()
    url = reverse("admin:variants_creativevariant_promote_variant", args=[variant.pk])

    dialog = staff_manager.get(url)
    answer = staff_manager.post(url, {"_form_submitted": "on", "force": "on"})

    assert dialog.status_code == 200
    assert "Promote this variant?" in dialog.content.decode()
    assert answer.status_code == 302
    variant.refresh_from_db()
    assert variant.status == VariantStatus.ACTIVE
    ad = StubMetaObject.objects.get(kind="ad", meta_id=variant.meta_ad_id)
    assert ad.status == "ACTIVE"
    log = PromotionLog.objects.filter(variant=variant).latest("created_at")
    assert log.decision_details["actor"] == manager_user.username


def test_a_refused_promotion_shows_the_services_reason_and_changes_nothing(
    staff_manager,
):
    variant = uploaded_variant()  # just uploaded: inside the cooldown
    url = reverse("admin:variants_creativevariant_promote_variant", args=[variant.pk])

    answer = staff_manager.post(url, {"_form_submitted": "on"})

    messages = [str(m) for m in get_messages(answer.wsgi_request)]
    assert any(m.startswith("Not done:") and "cooldown" in m for m in messages)
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING


def test_archiving_needs_a_reason_and_records_it(staff_manager):
    variant = uploaded_variant()
    url = reverse("admin:variants_creativevariant_archive_variant", args=[variant.pk])

    without = staff_manager.post(url, {"_form_submitted": "on", "reason": ""})
    variant.refresh_from_db()
    assert without.status_code == 200 and variant.status == VariantStatus.TESTING

    staff_manager.post(url, {"_form_submitted": "on", "reason": "off-brand colours"})

    variant.refresh_from_db()
    assert variant.status == VariantStatus.ARCHIVED
    assert "off-brand colours" in variant.failure_reason


def test_view_only_staff_cannot_promote_or_archive(viewer_client):
    variant = VariantFactory(status=VariantStatus.TESTING)
    for name in ("promote_variant", "pause_variant", "archive_variant"):
        url = reverse(f"admin:variants_creativevariant_{name}", args=[variant.pk])
        assert (
            viewer_client.post(
                url, {"_form_submitted": "on", "reason": "x"}
            ).status_code
            == 403
        )
    page = viewer_client.get(_variant_page(variant)).content.decode()
    assert "Promote this variant?" not in page
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING


def test_a_manager_pauses_a_live_variant_with_a_reason_and_its_ad_stops(
    staff_manager, manager_user
):
    variant = uploaded_variant()
    url = reverse("admin:variants_creativevariant_pause_variant", args=[variant.pk])

    staff_manager.post(url, {"_form_submitted": "on", "reason": "wrong city"})

    variant.refresh_from_db()
    assert variant.status == VariantStatus.PAUSED
    ad = StubMetaObject.objects.get(kind="ad", meta_id=variant.meta_ad_id)
    assert ad.status == "PAUSED"
    log = PromotionLog.objects.get(variant=variant, operation="pause_by_hand")
    assert log.decision_details["actor"] == manager_user.username
    assert log.decision_details["reason"] == "wrong city"


def test_pausing_a_variant_that_is_not_live_is_refused_in_words(staff_manager):
    variant = VariantFactory(status=VariantStatus.DRAFT)
    url = reverse("admin:variants_creativevariant_pause_variant", args=[variant.pk])

    answer = staff_manager.post(url, {"_form_submitted": "on", "reason": "x"})

    messages = [str(m) for m in get_messages(answer.wsgi_request)]
    assert any("Only a testing or active variant can be paused" in m for m in messages)
    variant.refresh_from_db()
    assert variant.status == VariantStatus.DRAFT
