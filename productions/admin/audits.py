"""The approval audit trail: who changed what a human must approve, read-only."""

from django.contrib import admin

from productions.admin_permissions import EvidenceAdmin
from productions.models import ApprovalAudit


@admin.register(ApprovalAudit)
class ApprovalAuditAdmin(EvidenceAdmin):
    """The audit trail is evidence: readable, never editable."""

    list_display = ("created_at", "action", "actor_name", "object_repr", "production")
    # A date filter (today, 7 days, this month), not a date hierarchy: its links
    # are a scan of every row's day.
    list_filter = ("created_at", "action")
    search_fields = ("actor_name", "object_repr", "production__title")
    list_select_related = ("production",)
    readonly_fields = [f.name for f in ApprovalAudit._meta.fields]
