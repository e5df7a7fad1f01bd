"""Approvals and edits: who, when, before/after — in the same transaction as the change."""

import pytest
from django.core.exceptions import ValidationError

from productions.guard import actor_for_user
from productions.models import ApprovalAudit, CreativeFragment, CreativeProduction
from productions.services import (
    FragmentData,
    fragment_update,
    fragments_approve,
    fragments_reject,
    production_create,
)
from tests.factories import FragmentFactory, ProductionFactory

pytestmark = pytest.mark.django_db


def test_bulk_approval_records_who_and_when_and_one_audit_row_each(manager_user):
    master = ProductionFactory()
    fragments = [
        FragmentFactory(
            master_creative=master,
            approved=False,
            approved_at=None,
            start_time=i,
            end_time=i + 2,
        )
        for i in range(3)
    ]
    already = FragmentFactory(master_creative=master, start_time=10, end_time=12)

    changed = fragments_approve(
        actor=actor_for_user(manager_user),
        fragment_ids=[f.pk for f in fragments] + [already.pk],
    )

    assert changed == 3
    for fragment in fragments:
        fragment.refresh_from_db()
        assert fragment.approved and fragment.approved_by == manager_user
        assert fragment.approved_at is not None
    audits = ApprovalAudit.objects.filter(action="fragment_approved")
    assert audits.count() == 3
    assert {a.fragment_id for a in audits} == {f.pk for f in fragments}
    assert all(
        a.actor == manager_user and a.before == {"approved": False} for a in audits
    )
    master.refresh_from_db()
    assert set(master.fragments) == {str(f.pk) for f in [*fragments, already]}


def test_rejecting_withdraws_approval_and_updates_the_approved_snapshot(manager_user):
    master = ProductionFactory()
    fragment = FragmentFactory(master_creative=master)
    fragments_approve(actor=actor_for_user(manager_user), fragment_ids=[])

    changed = fragments_reject(
        actor=actor_for_user(manager_user), fragment_ids=[fragment.pk]
    )

    fragment.refresh_from_db()
    master.refresh_from_db()
    assert changed == 1
    assert fragment.approved is False and fragment.approved_by is None
    assert master.fragments == []
    assert ApprovalAudit.objects.filter(
        action="fragment_rejected", fragment=fragment
    ).exists()


def test_changing_an_approved_cut_withdraws_its_approval(manager_user):
    fragment = FragmentFactory(start_time=0, end_time=3)

    fragment_update(
        actor=actor_for_user(manager_user),
        fragment_id=fragment.pk,
        changes={"end_time": 2.5},
    )

    fragment.refresh_from_db()
    assert fragment.approved is False
    assert fragment.duration == pytest.approx(2.5)


def test_creating_a_master_with_one_bad_fragment_saves_nothing(admin_user_engine):
    with pytest.raises(ValidationError):
        production_create(
            actor=actor_for_user(admin_user_engine),
            title="Spring launch",
            video_url="https://cdn.example.com/spring.mp4",
            duration=20.0,
            authorized_pixels=["123456789012"],
            fragments=[
                FragmentData(fragment_type="hook", start_time=0, end_time=3),
                FragmentData(fragment_type="cta", start_time=18, end_time=25),
            ],
        )

    assert not CreativeProduction.objects.exists()
    assert not CreativeFragment.objects.exists()
    assert not ApprovalAudit.objects.exists()


def test_new_fragments_start_unapproved(admin_user_engine):
    master = production_create(
        actor=actor_for_user(admin_user_engine),
        title="Spring launch",
        video_url="https://cdn.example.com/spring.mp4",
        duration=20.0,
        fragments=[FragmentData(fragment_type="hook", start_time=0, end_time=3)],
    )

    assert list(master.fragment_set.values_list("approved", flat=True)) == [False]
    assert ApprovalAudit.objects.filter(
        action="master_created", production=master
    ).exists()


def test_manager_may_create_a_master_but_not_with_pixels(manager_user):
    from productions.guard import ProtectedFieldChangeRefused

    with pytest.raises(ProtectedFieldChangeRefused):
        production_create(
            actor=actor_for_user(manager_user),
            title="x",
            video_url="https://cdn.example.com/x.mp4",
            authorized_pixels=["123456789012"],
        )
    assert not CreativeProduction.objects.exists()
