"""Run a cycle now, preview a dry run, generate now: confirm first, then the same
services as the API, with refusals shown as worded."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from creative_engine.locks import cycle_lock
from creative_engine.models import CycleRun, RunStatus
from tests.factories import (
    FULL_BATCH,
    CycleRunFactory,
    ProductionFactory,
    UserFactory,
    master_with_approved_cuts,
)
from variants.models import CreativeVariant

pytestmark = pytest.mark.django_db


def test_the_dry_run_page_asks_first_and_creates_nothing_on_get(staff_manager):
    page = staff_manager.get(reverse("console_dry_run"))

    assert page.status_code == 200
    assert "without rendering, uploading or changing anything on Meta" in (
        page.content.decode()
    )
    assert CycleRun.objects.count() == 0


def test_a_confirmed_dry_run_runs_and_opens_its_report(
    staff_manager, manager_user, django_capture_on_commit_callbacks
):
    master = master_with_approved_cuts(sheet=FULL_BATCH)

    with django_capture_on_commit_callbacks(execute=True):
        answer = staff_manager.post(
            reverse("console_dry_run"), {"master": str(master.pk)}
        )

    run = CycleRun.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse(
        "admin:creative_engine_cyclerun_change", args=[run.pk]
    )
    assert run.dry_run is True
    assert run.requested_by == manager_user
    assert run.options["master_creative_ids"] == [str(master.pk)]
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
    assert not CreativeVariant.objects.exists()  # a dry run writes no variant


def test_a_cycle_requested_while_one_runs_is_refused_with_the_reason(staff_manager):
    now = timezone.now()
    CycleRunFactory(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now)

    with cycle_lock():  # its worker is alive: it holds the lock
        answer = staff_manager.post(reverse("console_run_cycle"), {})

    messages = [str(m) for m in get_messages(answer.wsgi_request)]
    assert any("Not started" in m and "already running" in m for m in messages)
    assert CycleRun.objects.count() == 1


def test_generate_now_plans_a_batch_of_the_masters_approved_cuts(staff_manager):
    master = master_with_approved_cuts(sheet=FULL_BATCH)
    url = reverse("console_generate", args=[master.pk])

    assert "Generate variants of" in staff_manager.get(url).content.decode()
    answer = staff_manager.post(url, {"count": "6"})

    assert answer.status_code == 302
    assert CreativeVariant.objects.filter(parent=master).count() == 6


def test_generate_now_for_a_master_without_approved_cuts_says_why(staff_manager):
    master = ProductionFactory()

    answer = staff_manager.post(
        reverse("console_generate", args=[master.pk]), {}, follow=True
    )

    messages = [str(m) for m in get_messages(answer.wsgi_request)]
    assert any(m.startswith("No batch generated:") for m in messages), messages
    assert not CreativeVariant.objects.exists()


def test_view_only_staff_may_not_steer(client):
    viewer = UserFactory(username="viewer1", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_cyclerun"))
    client.force_login(viewer)
    master = ProductionFactory()

    for url in (
        reverse("console_run_cycle"),
        reverse("console_dry_run"),
        reverse("console_generate", args=[master.pk]),
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403
    assert not CycleRun.objects.exists()


def test_the_steering_pages_need_a_login(client):
    answer = client.get(reverse("console_run_cycle"))

    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("admin:login"))
