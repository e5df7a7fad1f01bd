"""Money: the budget ceiling the ROAS engine obeys binds people too, `force` or not."""

from decimal import Decimal

import pytest

from promotion.models import PromotionLog, StubMetaObject
from promotion.services.manual import PromotionRefused, variant_promote_manual
from tests.api.test_promote_and_archive import ad_status, uploaded_variant
from variants.choices import VariantStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reliable_stub(settings):
    settings.CREATIVE_ENGINE_MODE = "stub"
    settings.META_STUB_UPLOAD_FAILURE_RATE = 0.0
    settings.ROAS_MAX_DAILY_BUDGET_MINOR = 1_000_000  # 10,000.00 a day


def _adset_payload(variant) -> str:
    return str(
        StubMetaObject.objects.get(kind="adset", meta_id=variant.adset_id).payload
    )


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize(
    "budget", ["10000.01", "99999.99", "9999999999.99", "1e6", "20000"]
)
def test_a_budget_above_the_ceiling_is_refused_with_the_ceiling_named(
    manager_api, budget, force
):
    variant = uploaded_variant()
    before = _adset_payload(variant)
    logs_before = PromotionLog.objects.count()

    response = manager_api.post(
        f"/meta/creative-engine/promote/{variant.pk}",
        {"budget": budget, "force": force},
        format="json",
    )

    assert response.status_code in (400, 409), response.content
    message = str(response.json()["error"])
    if response.status_code == 409:
        assert "ceiling of 10,000.00" in message
        assert "ROAS_MAX_DAILY_BUDGET_MINOR" in message
    # nothing moved: the ad is still paused, the variant testing, the ad set unchanged
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING
    assert ad_status(variant) == "PAUSED"
    assert _adset_payload(variant) == before
    assert PromotionLog.objects.count() == logs_before


def test_the_ceiling_itself_is_allowed(manager_api):
    variant = uploaded_variant()

    response = manager_api.post(
        f"/meta/creative-engine/promote/{variant.pk}",
        {"budget": "10000.00", "force": True},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert PromotionLog.objects.get(pk=response.json()["id"]).budget_allocated == (
        Decimal("10000.00")
    )


@pytest.mark.parametrize("budget", ["0", "-5", "0.00"])
def test_a_budget_that_is_not_positive_is_refused(manager_api, budget):
    variant = uploaded_variant()

    response = manager_api.post(
        f"/meta/creative-engine/promote/{variant.pk}",
        {"budget": budget, "force": True},
        format="json",
    )

    assert response.status_code == 400
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING


def test_the_service_refuses_before_any_render_or_upload(db, admin_user_engine):
    """The command and every other caller meet the same refusal, first."""
    from productions.guard import actor_for_user

    variant = uploaded_variant()
    with pytest.raises(PromotionRefused, match="ceiling"):
        variant_promote_manual(
            variant_id=variant.pk,
            actor=actor_for_user(admin_user_engine),
            budget=Decimal("10000.01"),
            force=True,
        )
    assert ad_status(variant) == "PAUSED"
