"""/api/variants/, /api/promotion-logs/, /api/runs/: read-only lists with filters,
ordering, bounded pages and a constant number of queries."""

import pytest

from tests.factories import (
    CycleRunFactory,
    ProductionFactory,
    PromotionLogFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    master, other = ProductionFactory(), ProductionFactory()
    VariantFactory(
        parent=master,
        variant_number=1,
        status="active",
        narrative_structure="cta_forward",
        duration_category="short",
        duration_seconds=6.0,
        variant_type="duration_short",
    )
    VariantFactory(
        parent=master,
        variant_number=2,
        status="testing",
        narrative_structure="hook_body_cta",
        duration_category="long",
        duration_seconds=15.0,
    )
    VariantFactory(
        parent=other,
        variant_number=1,
        status="archived",
        narrative_structure="hook_inverted",
        duration_category="medium",
        duration_seconds=10.0,
    )
    return master, other


@pytest.mark.parametrize(
    "query, expected",
    [
        ("status=active&status=testing", {1, 2}),
        ("narrative_structure=cta_forward", {1}),
        ("duration_category=long", {2}),
        ("variant_type=duration_short", {1}),
        ("duration_min=9&duration_max=16", {2, 10}),
    ],
)
def test_variants_filter_by_status_structure_duration_and_type(
    manager_api, catalogue, query, expected
):
    response = manager_api.get(f"/api/variants/?{query}")

    assert response.status_code == 200
    found = {
        v["variant_number"] if v["master_creative_id"] == str(catalogue[0].pk) else 10
        for v in response.json()["results"]
    }
    assert found == expected


def test_variants_filter_by_master_and_order(manager_api, catalogue):
    master, _ = catalogue

    response = manager_api.get(
        f"/api/variants/?master={master.pk}&ordering=-duration_seconds"
    )

    assert [v["duration_seconds"] for v in response.json()["results"]] == [15.0, 6.0]


@pytest.mark.parametrize(
    "query", ["status=dancing", "master=not-a-uuid", "duration_min=abc"]
)
def test_a_bad_filter_value_is_a_400_naming_the_filter(manager_api, query):
    response = manager_api.get(f"/api/variants/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["error"]["fields"]


def test_variants_are_read_only_through_the_api(manager_api):
    variant = VariantFactory(status="active", estimated_score=0.5)

    put = manager_api.put(f"/api/variants/{variant.pk}/", {"status": "archived"})
    patch = manager_api.patch(f"/api/variants/{variant.pk}/", {"status": "archived"})
    post = manager_api.post("/api/variants/", {"status": "active"})

    assert {put.status_code, patch.status_code, post.status_code} == {405}
    variant.refresh_from_db()
    assert variant.status == "active"


def test_a_page_never_exceeds_the_maximum_page_size(manager_api):
    master = ProductionFactory()
    for batch in range(1, 15):
        for number in range(1, 16):
            VariantFactory(parent=master, batch_number=batch, variant_number=number)

    response = manager_api.get("/api/variants/?page_size=1000")

    assert response.json()["count"] == 210
    assert len(response.json()["results"]) == 200
    assert response.json()["next"] is not None


@pytest.mark.parametrize("count", [1, 30])
def test_the_variant_list_costs_the_same_queries_for_any_number(
    manager_api, django_assert_num_queries, count
):
    master = ProductionFactory()
    for number in range(count):
        VariantFactory(parent=master, batch_number=number // 15 + 1)

    # token + user, groups, count, the page of variants
    with django_assert_num_queries(4):
        response = manager_api.get("/api/variants/")

    assert response.json()["count"] == count


@pytest.mark.parametrize("count", [1, 20])
def test_promotion_logs_and_runs_cost_the_same_queries_for_any_number(
    manager_api, django_assert_num_queries, count
):
    variant = VariantFactory()
    PromotionLogFactory.create_batch(count, variant=variant)
    CycleRunFactory.create_batch(count)

    with django_assert_num_queries(4):  # token + user, groups, count, page
        logs = manager_api.get("/api/promotion-logs/")
    with django_assert_num_queries(4):  # token + user, groups, count, page + requester
        runs = manager_api.get("/api/runs/")

    assert logs.json()["count"] == runs.json()["count"] == count


def test_promotion_logs_filter_by_variant_and_success(manager_api):
    variant = VariantFactory()
    PromotionLogFactory(variant=variant, success=True)
    PromotionLogFactory(variant=variant, success=False, promotion_status="failed")
    PromotionLogFactory(success=True)

    response = manager_api.get(
        f"/api/promotion-logs/?variant={variant.pk}&success=false"
    )

    assert response.json()["count"] == 1
    assert response.json()["results"][0]["promotion_status"] == "failed"


def test_runs_filter_by_status(manager_api):
    CycleRunFactory(status="failed", errors=[{"step": "x", "error": "boom"}])
    CycleRunFactory(status="succeeded")

    response = manager_api.get("/api/runs/?status=failed")

    assert response.json()["count"] == 1
    assert response.json()["results"][0]["errors"] == [{"step": "x", "error": "boom"}]


@pytest.mark.parametrize("resource", ["variants", "promotion-logs", "runs"])
@pytest.mark.parametrize("pk", ["3b1f1c3e-0000-4000-8000-000000000000", "zzz"])
def test_unknown_ids_are_a_json_404(manager_api, resource, pk):
    response = manager_api.get(f"/api/{resource}/{pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
