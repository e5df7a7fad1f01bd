"""POST /meta/creative-engine/promote/{id} and POST /api/variants/{id}/archive/ on the
stub Meta account: refusals are 409 with the reason, a human rule is never broken even
when forced, and who asked is recorded."""

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile

from promotion.models import PromotionLog, StubMetaObject
from promotion.services.upload import variant_upload
from tests.factories import FULL_BATCH, VariantFactory, master_with_approved_cuts
from variants.choices import VariantStatus
from variants.models import CreativeVariant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reliable_stub(settings):
    settings.CREATIVE_ENGINE_MODE = "stub"
    settings.META_STUB_UPLOAD_FAILURE_RATE = 0.0


def rendered_variant(**kwargs) -> CreativeVariant:
    """A rendered variant of approved fragments, with tiny stand-in files."""
    master = master_with_approved_cuts(sheet=FULL_BATCH)
    slots = [
        {
            "fragment_id": str(f.pk),
            "fragment_type": f.fragment_type,
            "source_in": f.start_time,
            "source_out": f.end_time,
        }
        for f in master.fragment_set.filter(
            fragment_type__in=["hook", "body", "cta"]
        ).order_by("start_time")[:3]
    ]
    variant = VariantFactory(
        parent=master,
        status=VariantStatus.RENDERED,
        fragments_order=slots,
        pixel_id=master.authorized_pixels[0],
        **kwargs,
    )
    variant.video_file.save("v.mp4", ContentFile(b"\x00" * 2048), save=False)
    variant.poster_file.save("p.jpg", ContentFile(b"\xff\xd8poster"), save=False)
    variant.save(update_fields=["video_file", "poster_file"])
    return variant


def uploaded_variant() -> CreativeVariant:
    variant = rendered_variant()
    variant_upload(variant_id=variant.pk)
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING, variant.failure_reason
    return variant


def ad_status(variant: CreativeVariant) -> str:
    return StubMetaObject.objects.get(kind="ad", meta_id=variant.meta_ad_id).status


def test_a_forced_promotion_activates_the_ad_and_answers_the_log(
    manager_api, manager_user
):
    variant = uploaded_variant()

    response = manager_api.post(
        f"/meta/creative-engine/promote/{variant.pk}",
        {"variant_id": str(variant.pk), "force": True},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["variant"] == str(variant.pk)
    assert body["success"] is True
    assert body["promoted_by"] == "api"
    assert body["decision_details"]["actor"] == manager_user.username
    variant.refresh_from_db()
    assert variant.status == VariantStatus.ACTIVE
    assert ad_status(variant) == "ACTIVE"


def test_promoting_inside_the_cooldown_without_force_is_a_409(manager_api):
    variant = uploaded_variant()

    response = manager_api.post(
        f"/meta/creative-engine/promote/{variant.pk}", {}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "promotion_refused"
    assert "cooldown" in response.json()["error"]["message"]
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING


def test_an_unrendered_variant_is_refused_unless_forced(manager_api):
    variant = rendered_variant()

    response = manager_api.post(
        f"/meta/creative-engine/promote/{variant.pk}", {"force": False}, format="json"
    )

    assert response.status_code == 409
    assert "not uploaded yet" in response.json()["error"]["message"]


def test_an_archived_variant_is_refused_even_when_forced(manager_api):
    variant = VariantFactory(status=VariantStatus.ARCHIVED)

    response = manager_api.post(
        f"/meta/creative-engine/promote/{variant.pk}", {"force": True}, format="json"
    )

    assert response.status_code == 409
    assert "stay retired" in response.json()["error"]["message"]


def test_force_never_breaks_a_human_rule(admin_api):
    variant = uploaded_variant()
    CreativeVariant.objects.filter(pk=variant.pk).update(pixel_id="99999999")

    response = admin_api.post(
        f"/meta/creative-engine/promote/{variant.pk}", {"force": True}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "unauthorized_pixel_refused"
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING


@pytest.mark.parametrize(
    "body, field",
    [
        ({"budget": 0}, "budget"),
        ({"budget": -5}, "budget"),
        ({"budget": "lots"}, "budget"),
        ({"budget": "1.234"}, "budget"),
        ({"force": "definitely"}, "force"),
        ({"adset_id": "../../etc"}, "adset_id"),
        ({"variant_id": "3b1f1c3e-0000-4000-8000-000000000000"}, "variant_id"),
    ],
)
def test_bad_promotion_input_is_a_400_before_anything_happens(manager_api, body, field):
    variant = uploaded_variant()
    logs_before = PromotionLog.objects.count()

    response = manager_api.post(
        f"/meta/creative-engine/promote/{variant.pk}", body, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert PromotionLog.objects.count() == logs_before


@pytest.mark.parametrize("path", ["3b1f1c3e-0000-4000-8000-000000000000", "nope"])
def test_promoting_an_unknown_variant_is_a_404(manager_api, path):
    response = manager_api.post(f"/meta/creative-engine/promote/{path}", {})

    assert response.status_code == 404


def test_archiving_archives_the_ad_first_and_keeps_the_reason(manager_api):
    variant = uploaded_variant()

    response = manager_api.post(
        f"/api/variants/{variant.pk}/archive/",
        {"reason": "off-brand colour"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "archived"
    assert "off-brand colour" in response.json()["failure_reason"]
    variant.refresh_from_db()
    assert ad_status(variant) == "ARCHIVED"


def test_archiving_a_variant_mid_render_is_a_409(manager_api):
    variant = VariantFactory(status=VariantStatus.RENDERING)

    response = manager_api.post(f"/api/variants/{variant.pk}/archive/", {})

    assert response.status_code == 409
    assert "wait until its work finishes" in response.json()["error"]["message"]


def test_a_forced_promotion_sets_the_budget_and_records_it_on_the_log(manager_api):
    variant = uploaded_variant()

    response = manager_api.post(
        f"/meta/creative-engine/promote/{variant.pk}",
        {"budget": "42.50", "force": True},
        format="json",
    )

    assert response.status_code == 201, response.content
    log = PromotionLog.objects.get(pk=response.json()["id"])
    assert log.budget_allocated == Decimal("42.50")
    adset = StubMetaObject.objects.get(kind="adset", meta_id=variant.adset_id)
    assert "4250" in str(adset.payload) or "42.5" in str(adset.payload)
