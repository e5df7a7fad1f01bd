"""/api/fragments/: approval is an explicit action that records who and when."""

import pytest

from productions.models import ApprovalAudit, CreativeFragment
from tests.factories import FragmentFactory, ProductionFactory

pytestmark = pytest.mark.django_db


def unapproved(**kwargs):
    return FragmentFactory(approved=False, approved_at=None, **kwargs)


def test_approving_a_fragment_records_who_and_when(manager_api, manager_user):
    fragment = unapproved()

    response = manager_api.post(f"/api/fragments/{fragment.pk}/approve/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["approved"] is True
    assert body["approved_by"] == manager_user.username
    assert body["approved_at"] is not None
    fragment.refresh_from_db()
    assert fragment.approved_by == manager_user
    assert str(fragment.pk) in fragment.master_creative.fragments
    assert ApprovalAudit.objects.filter(
        fragment=fragment, action="fragment_approved", actor=manager_user
    ).exists()


def test_a_new_fragment_is_unapproved_whatever_the_payload_says(manager_api):
    master = ProductionFactory(duration=20.0)

    response = manager_api.post(
        "/api/fragments/",
        {
            "master_creative": str(master.pk),
            "fragment_type": "hook",
            "start_time": 1.0,
            "end_time": 3.5,
            "approved": True,
            "approved_by": 1,
            "usage_count": 50,
            "performance_score": 0.99,
            "duration": 100,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    fragment = CreativeFragment.objects.get(pk=response.json()["id"])
    assert fragment.approved is False
    assert fragment.approved_by is None
    assert fragment.usage_count == 0
    assert fragment.performance_score is None
    assert fragment.duration == pytest.approx(2.5)


def test_a_fragment_outside_its_masters_duration_is_a_400(manager_api):
    master = ProductionFactory(duration=10.0)

    response = manager_api.post(
        "/api/fragments/",
        {
            "master_creative": str(master.pk),
            "fragment_type": "cta",
            "start_time": 8.0,
            "end_time": 12.0,
        },
        format="json",
    )

    assert response.status_code == 400
    message = response.json()["error"]["fields"]["end_time"][0]
    assert "only 10.00s long" in message


def test_a_fragment_for_an_unknown_master_is_a_400_on_that_field(manager_api):
    response = manager_api.post(
        "/api/fragments/",
        {
            "master_creative": "3b1f1c3e-0000-4000-8000-000000000000",
            "fragment_type": "cta",
            "start_time": 0.0,
            "end_time": 1.0,
        },
        format="json",
    )

    assert response.status_code == 400
    assert "master_creative" in response.json()["error"]["fields"]


def test_changing_an_approved_cut_withdraws_its_approval(manager_api):
    fragment = FragmentFactory(start_time=0.0, end_time=3.0)

    response = manager_api.patch(
        f"/api/fragments/{fragment.pk}/", {"end_time": 2.0}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["approved"] is False
    assert response.json()["duration"] == pytest.approx(2.0)


def test_patching_an_end_before_the_start_is_a_400(manager_api):
    fragment = FragmentFactory(start_time=2.0, end_time=5.0)

    response = manager_api.patch(
        f"/api/fragments/{fragment.pk}/", {"end_time": 1.0}, format="json"
    )

    assert response.status_code == 400
    assert "end_time" in response.json()["error"]["fields"]


def test_bulk_approval_approves_every_id_and_counts_the_changes(
    manager_api, manager_user
):
    master = ProductionFactory()
    pending = [
        unapproved(master_creative=master, start_time=i, end_time=i + 1)
        for i in range(3)
    ]
    already = FragmentFactory(master_creative=master, start_time=10, end_time=12)

    response = manager_api.post(
        "/api/fragments/approve/",
        {"ids": [str(f.pk) for f in [*pending, already]]},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["changed"] == 3
    assert all(f["approved"] for f in response.json()["fragments"])
    assert CreativeFragment.objects.filter(approved_by=manager_user).count() == 3


def test_bulk_approval_with_an_unknown_id_changes_nothing(manager_api):
    fragment = unapproved()

    response = manager_api.post(
        "/api/fragments/approve/",
        {"ids": [str(fragment.pk), "3b1f1c3e-0000-4000-8000-000000000000"]},
        format="json",
    )

    assert response.status_code == 400
    assert "3b1f1c3e" in response.json()["error"]["fields"]["ids"][0]
    fragment.refresh_from_db()
    assert fragment.approved is False


def test_rejecting_withdraws_approval(admin_api):
    fragment = FragmentFactory()

    response = admin_api.post(f"/api/fragments/{fragment.pk}/reject/")

    assert response.status_code == 200
    assert response.json()["approved"] is False
    fragment.master_creative.refresh_from_db()
    assert fragment.master_creative.fragments == []


def test_deleting_a_fragment_removes_it_from_the_approved_set(manager_api):
    fragment = FragmentFactory()
    master = fragment.master_creative

    response = manager_api.delete(f"/api/fragments/{fragment.pk}/")

    assert response.status_code == 204
    assert not CreativeFragment.objects.filter(pk=fragment.pk).exists()
    master.refresh_from_db()
    assert master.fragments == []


def test_the_fragment_list_filters_by_master_and_approval(manager_api):
    master = ProductionFactory()
    FragmentFactory(master_creative=master)
    unapproved(master_creative=master, start_time=4, end_time=6)
    FragmentFactory()

    response = manager_api.get(
        f"/api/fragments/?master_creative={master.pk}&approved=false"
    )

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_the_fragment_list_costs_the_same_queries_for_any_number(
    manager_api, django_assert_num_queries
):
    FragmentFactory.create_batch(12, approved_by=None)

    # token + user, groups, count, fragments with their approvers
    with django_assert_num_queries(4):
        response = manager_api.get("/api/fragments/")

    assert response.json()["count"] == 12
