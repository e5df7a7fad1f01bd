"""Run history and the engine's schedule in the admin.

The cycle's schedule lives in django-celery-beat's tables, and login throttling in
django-axes'; their admin classes are re-registered here so that roles hold on their
pages too: only the `admin` role (change_periodictask) enables, disables, toggles or
runs a periodic task, and the throttling records read as evidence.
"""

from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.http import HttpRequest
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from creative_engine.models import CycleRun
from productions.admin_permissions import ActionsNeedPermissionAdmin, EvidenceAdmin


@admin.register(CycleRun)
class CycleRunAdmin(EvidenceAdmin):
    list_display = (
        "created_at",
        "trigger",
        "status",
        "as_of",
        "dry_run",
        "started_at",
        "finished_at",
        "mode",
    )
    list_filter = ("status", "trigger", "dry_run", "mode")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in CycleRun._meta.fields]


def _reregister(model: type, admin_class: type[admin.ModelAdmin]) -> None:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, admin_class)


class PeriodicTaskAdmin(ActionsNeedPermissionAdmin, beat_admin.PeriodicTaskAdmin):
    """Beat's page; its four bulk actions need change_periodictask (admins only)."""


class ClockedScheduleAdmin(ActionsNeedPermissionAdmin, beat_admin.ClockedScheduleAdmin):
    pass


class CrontabScheduleAdmin(ActionsNeedPermissionAdmin, beat_admin.CrontabScheduleAdmin):
    pass


class SolarScheduleAdmin(ActionsNeedPermissionAdmin, beat_admin.SolarScheduleAdmin):
    pass


class IntervalScheduleAdmin(
    ActionsNeedPermissionAdmin, beat_admin.IntervalScheduleAdmin
):
    pass


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    """Deleting an attempt unlocks its login; every field is evidence."""

    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request: HttpRequest, queryset: Any) -> None:
        super().cleanup_expired_attempts(request, queryset)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AccessLogAdmin(axes_admin.AccessLogAdmin):
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AccessFailureLogAdmin(axes_admin.AccessFailureLogAdmin):
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


for _model, _admin_class in (
    (PeriodicTask, PeriodicTaskAdmin),
    (ClockedSchedule, ClockedScheduleAdmin),
    (CrontabSchedule, CrontabScheduleAdmin),
    (SolarSchedule, SolarScheduleAdmin),
    (IntervalSchedule, IntervalScheduleAdmin),
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    _reregister(_model, _admin_class)
