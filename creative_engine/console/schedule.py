"""The engine's schedule and login throttling in the console.

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
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from creative_engine.console.registry import reregister
from productions.admin_permissions import ActionsNeedPermissionAdmin


class TaskSelectWidget(UnfoldAdminSelectWidget, beat_admin.TaskSelectWidget):
    """Beat's list of registered tasks, drawn like the console's other selects."""


class PeriodicTaskForm(beat_admin.PeriodicTaskForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["task"].widget = UnfoldAdminTextInputWidget()
        self.fields["regtask"].widget = TaskSelectWidget()


class PeriodicTaskAdmin(ActionsNeedPermissionAdmin, beat_admin.PeriodicTaskAdmin):
    """Beat's page; its four bulk actions need change_periodictask (admins only)."""

    form = PeriodicTaskForm


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


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin, ModelAdmin):
    """Deleting an attempt unlocks its login; every field is evidence."""

    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request: HttpRequest, queryset: Any) -> None:
        super().cleanup_expired_attempts(request, queryset)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AccessLogAdmin(axes_admin.AccessLogAdmin, ModelAdmin):
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AccessFailureLogAdmin(axes_admin.AccessFailureLogAdmin, ModelAdmin):
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
    reregister(_model, _admin_class)
