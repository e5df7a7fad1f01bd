"""Roles hold on every admin page, third-party ones included.

One walk over `admin.site._registry`: for each role (admin, manager, staff holding
every view permission and nothing else) and each registered model, the changelist
answers as the role allows, offers exactly the actions the role may run, shows a Save
button on a row's page only where the role may change it, and every action the role
may not run is refused when POSTed anyway: no row changed, no task run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework.authtoken.models import Token

from config.celery import app as celery_app
from tests.factories import (
    ApprovalAuditFactory,
    CycleRunFactory,
    DailyMetricFactory,
    FragmentFactory,
    PromotionLogFactory,
    UserFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db

RUNS: list[str] = []


@celery_app.task(name="tests.console.record_run")
def record_run() -> None:
    RUNS.append("ran")


BEAT_ACTIONS = {"enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks"}
FRAGMENT_ACTIONS = {"approve_selected", "reject_selected"}
DELETE = {"delete_selected"}

# (model label, role) → (changelist status, actions offered, Save on a row's page).
# A model a role may not see at all answers 403 and offers nothing.
HIDDEN = (403, set(), False)
SEEN = (200, set(), False)
EXPECTED: dict[str, dict[str, tuple[int, set[str], bool]]] = {
    "auth.Group": {"admin": HIDDEN, "manager": HIDDEN, "viewer": SEEN},
    "auth.User": {"admin": HIDDEN, "manager": HIDDEN, "viewer": SEEN},
    "authtoken.TokenProxy": {"admin": HIDDEN, "manager": HIDDEN, "viewer": SEEN},
    "axes.AccessAttempt": {"admin": HIDDEN, "manager": HIDDEN, "viewer": SEEN},
    "axes.AccessLog": {"admin": HIDDEN, "manager": HIDDEN, "viewer": SEEN},
    "axes.AccessFailureLog": {"admin": HIDDEN, "manager": HIDDEN, "viewer": SEEN},
    "django_celery_beat.PeriodicTask": {
        "admin": (200, BEAT_ACTIONS, True),
        "manager": SEEN,
        "viewer": SEEN,
    },
    "django_celery_beat.CrontabSchedule": {
        "admin": SEEN,
        "manager": SEEN,
        "viewer": SEEN,
    },
    "django_celery_beat.IntervalSchedule": {
        "admin": HIDDEN,
        "manager": HIDDEN,
        "viewer": SEEN,
    },
    "django_celery_beat.SolarSchedule": {
        "admin": HIDDEN,
        "manager": HIDDEN,
        "viewer": SEEN,
    },
    "django_celery_beat.ClockedSchedule": {
        "admin": HIDDEN,
        "manager": HIDDEN,
        "viewer": SEEN,
    },
    "productions.CreativeProduction": {
        "admin": (200, DELETE, True),
        "manager": (200, set(), True),
        "viewer": SEEN,
    },
    "productions.CreativeFragment": {
        "admin": (200, FRAGMENT_ACTIONS | DELETE, True),
        "manager": (200, FRAGMENT_ACTIONS | DELETE, True),
        "viewer": SEEN,
    },
    "productions.ApprovalAudit": {"admin": SEEN, "manager": SEEN, "viewer": SEEN},
    "variants.CreativeVariant": {"admin": SEEN, "manager": SEEN, "viewer": SEEN},
    "promotion.PromotionLog": {"admin": SEEN, "manager": SEEN, "viewer": SEEN},
    "promotion.VariantDailyMetric": {"admin": SEEN, "manager": SEEN, "viewer": SEEN},
    "creative_engine.CycleRun": {"admin": SEEN, "manager": SEEN, "viewer": SEEN},
}
ROLES = ("admin", "manager", "viewer")
REGISTERED = sorted(m._meta.label for m in admin.site._registry)


def _every_action(model_admin: admin.ModelAdmin) -> set[str]:
    """Every action the page could ever offer (site-wide ones included)."""
    names = {name for name, _ in model_admin.admin_site.actions}
    for action in model_admin.actions or ():
        names.add(action if isinstance(action, str) else action.__name__)
    return names


def _one_row(label: str) -> models.Model:
    """A row of `label`, with whatever it needs around it."""
    now = timezone.now()
    if label == "auth.Group":
        return Group.objects.create(name="outsiders")
    if label == "auth.User":
        return UserFactory(username="bystander")
    if label == "authtoken.TokenProxy":
        return Token.objects.create(user=UserFactory(username="token-holder"))
    if label == "axes.AccessAttempt":
        return AccessAttempt.objects.create(
            username="x", ip_address="10.0.0.1", failures_since_start=1
        )
    if label == "axes.AccessLog":
        return AccessLog.objects.create(username="x", ip_address="10.0.0.1")
    if label == "axes.AccessFailureLog":
        return AccessFailureLog.objects.create(username="x", ip_address="10.0.0.1")
    if label == "django_celery_beat.PeriodicTask":
        return PeriodicTask.objects.create(
            name="recorder",
            task="tests.console.record_run",
            crontab=CrontabSchedule.objects.create(minute="5", hour="1"),
            enabled=True,
        )
    if label == "django_celery_beat.CrontabSchedule":
        return CrontabSchedule.objects.create(minute="7", hour="3")
    if label == "django_celery_beat.IntervalSchedule":
        return IntervalSchedule.objects.create(every=10, period="minutes")
    if label == "django_celery_beat.SolarSchedule":
        return SolarSchedule.objects.create(
            event="sunrise", latitude=48.85, longitude=2.35
        )
    if label == "django_celery_beat.ClockedSchedule":
        return ClockedSchedule.objects.create(clocked_time=now + dt.timedelta(days=1))
    if label == "productions.CreativeProduction":
        return VariantFactory().parent  # with a variant: the master stays
    if label == "productions.CreativeFragment":
        return FragmentFactory(approved=False, approved_at=None)
    if label == "productions.ApprovalAudit":
        return ApprovalAuditFactory()
    if label == "variants.CreativeVariant":
        return VariantFactory()
    if label == "promotion.PromotionLog":
        return PromotionLogFactory()
    if label == "promotion.VariantDailyMetric":
        return DailyMetricFactory()
    if label == "creative_engine.CycleRun":
        return CycleRunFactory()
    raise AssertionError(f"{label} is registered in the admin: add it to the walk.")


def _staff(role: str) -> Any:
    if role == "viewer":
        user = UserFactory(username="viewer", is_staff=True)
        user.user_permissions.add(
            *Permission.objects.filter(
                codename__startswith="view_",
                content_type__app_label__in={
                    m._meta.app_label for m in admin.site._registry
                },
            )
        )
        return user
    return UserFactory(username=f"{role}-staff", is_staff=True, groups=[role])


def _table(model: type[models.Model]) -> list[dict[str, Any]]:
    return list(model._base_manager.order_by("pk").values())


def test_every_registered_model_is_in_the_walk():
    assert sorted(EXPECTED) == REGISTERED


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", REGISTERED)
def test_each_role_sees_runs_and_saves_only_what_it_may(client, role, label):
    # Given a row of the model and a staff member of the role
    model_admin = next(
        a for m, a in admin.site._registry.items() if m._meta.label == label
    )
    model = model_admin.model
    row = _one_row(label)
    client.force_login(_staff(role))
    status, allowed, saves = EXPECTED[label][role]
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")

    # When they open the changelist and the row's page
    listing = client.get(changelist)
    # The token page is reached by its user's id (DRF's TokenAdmin maps them).
    page_pk = row.user_id if isinstance(row, Token) else row.pk
    page = client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[page_pk])
    )

    # Then the list answers as the role allows, with exactly the allowed actions
    assert listing.status_code == status
    offered = (
        {name for name, _ in listing.context["action_form"].fields["action"].choices}
        - {""}
        if status == 200 and listing.context.get("action_form")
        else set()
    )
    assert offered == allowed
    # And the row's page has a Save button only where the role may change the row
    assert page.status_code == status
    assert ('name="_save"' in page.content.decode()) is saves

    # And every other action, POSTed anyway, is refused: no row changed, nothing run
    for action in sorted(_every_action(model_admin) - allowed):
        RUNS.clear()
        before = _table(model)
        response = client.post(
            changelist,
            {"action": action, "_selected_action": [str(page_pk)], "post": "yes"},
            follow=True,
        )
        assert _table(model) == before, f"{role} ran {action} on {label}"
        assert RUNS == [], f"{role} ran {action} on {label}"
        assert response.status_code in (200, 403)
        if response.status_code == 200:
            assert "successfully" not in response.content.decode(), action


def test_the_admin_role_really_runs_and_disables_a_periodic_task(client):
    # The positive control of the walk: the refusals above are not a broken POST.
    task = _one_row("django_celery_beat.PeriodicTask")
    client.force_login(_staff("admin"))
    changelist = reverse("admin:django_celery_beat_periodictask_changelist")
    RUNS.clear()

    client.post(changelist, {"action": "run_tasks", "_selected_action": [task.pk]})
    client.post(changelist, {"action": "disable_tasks", "_selected_action": [task.pk]})

    assert RUNS == ["ran"]
    task.refresh_from_db()
    assert task.enabled is False


def test_a_manager_cannot_disable_the_twelve_hour_cycle(client):
    cycle = PeriodicTask.objects.get(name="creative-engine-cycle")
    client.force_login(_staff("manager"))

    client.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "disable_tasks", "_selected_action": [cycle.pk]},
    )

    cycle.refresh_from_db()
    assert cycle.enabled is True
