"""An ad's status and an ad set's budget on Meta, each change one logged call."""

import datetime as dt
from decimal import Decimal

import pytest

from promotion.choices import PromotionType
from promotion.meta.errors import MetaRateLimitError
from promotion.meta.protocol import AdStatus
from promotion.models import PromotionLog, StubMetaObject
from promotion.services.ad_control import ad_status_ensure, variant_call_context
from promotion.services.meta_calls import meta_call_context
from promotion.services.upload import variant_upload
from tests.promotion.builders import T0, rendered_variant, stub_client

pytestmark = pytest.mark.django_db


def uploaded_variant():
    variant = rendered_variant()
    variant_upload(variant_id=variant.id, client=stub_client())
    variant.refresh_from_db()
    return variant


def test_setting_an_ad_active_then_archived_is_logged_with_its_kind_and_reason():
    variant = uploaded_variant()
    client = stub_client()

    with variant_call_context(
        variant, promotion_type=PromotionType.WINNER, decision={"rank": 1}
    ):
        ad_status_ensure(variant, AdStatus.ACTIVE, client=client)
    with variant_call_context(variant):
        ad_status_ensure(variant, AdStatus.ARCHIVED, client=client)
        ad_status_ensure(variant, AdStatus.ARCHIVED, client=client)  # already there

    ad = StubMetaObject.objects.get(meta_id=variant.meta_ad_id)
    variant.refresh_from_db()
    assert ad.status == variant.meta_ad_status == "ARCHIVED"
    assert [h["status"] for h in ad.history] == ["PAUSED", "ACTIVE", "ARCHIVED"]
    logs = PromotionLog.objects.filter(operation="set_ad_status").order_by("created_at")
    assert [log.promotion_type for log in logs] == [
        PromotionType.WINNER,
        PromotionType.ARCHIVE,
    ]
    assert logs[0].meta_ad_id == variant.meta_ad_id
    assert logs[0].decision_details["rank"] == 1


def test_budget_changes_are_logged_with_the_budget_and_throttled_like_meta():
    client = stub_client()
    with meta_call_context(adset_id="900"):
        for minor in (6000, 7000, 8000, 9000):
            client.set_adset_budget(adset_id="900", daily_budget_minor=minor)

        with pytest.raises(MetaRateLimitError):
            client.set_adset_budget(adset_id="900", daily_budget_minor=9500)

    logs = PromotionLog.objects.filter(operation="set_adset_budget")
    assert logs.filter(success=True).count() == 4
    refused = logs.get(success=False)
    assert (refused.error_code, refused.budget_allocated) == ("17", Decimal("95.00"))
    assert refused.promotion_type == PromotionType.BUDGET
    assert refused.adset_id == "900"
    later = stub_client(at=T0 + dt.timedelta(hours=2))
    assert later.get_adset(adset_id="900").daily_budget_minor == 9000
