from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from creative_engine.models import CycleRun


@admin.register(CycleRun)
class CycleRunAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
