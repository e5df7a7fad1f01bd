"""Cycle runs as reports: what each run did and why."""

from django.contrib import admin

from creative_engine.models import CycleRun
from productions.admin_permissions import EvidenceAdmin


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
