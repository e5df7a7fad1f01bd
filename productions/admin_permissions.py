"""What staff may do with rows the engine writes, as admin base classes.

Rows the engine owns (variants, runs) are never added or deleted by hand; evidence
(audit trail, Meta calls, measurements) is not changed either. A page on which nothing
can be changed says so: no Save button, and a POST to it is refused (403), never
"was changed successfully".
"""

from typing import Any

from django.http import HttpRequest
from unfold.admin import ModelAdmin


class EngineOwnedAdmin(ModelAdmin):
    """No add, no delete: the engine creates these rows and keeps them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EvidenceAdmin(EngineOwnedAdmin):
    """Readable, never editable."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ActionsNeedPermissionAdmin(ModelAdmin):
    """An action that names no permission (`@admin.action(permissions=…)`) is offered,
    and runs, only for someone who may change the rows: third-party admins (beat's
    enable/disable/run, axes' clean-up) declare none, and view permission alone must
    never write."""

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)
        if self.has_change_permission(request):
            return actions
        return {
            name: entry
            for name, entry in actions.items()
            if getattr(entry[0], "allowed_permissions", ())
        }
