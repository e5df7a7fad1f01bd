"""Run history in the admin: what each production cycle did, written by the engine only."""

from django.contrib import admin

from creative_engine.models import CycleRun
from productions.admin_permissions import EngineOwnedAdmin


@admin.register(CycleRun)
class CycleRunAdmin(EngineOwnedAdmin):
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
