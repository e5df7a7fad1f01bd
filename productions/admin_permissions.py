"""What staff may do with rows the engine writes, as admin base classes.

Rows the engine owns (variants, runs) are never added or deleted by hand; evidence
(audit trail, Meta calls, measurements) is not changed either.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class EngineOwnedAdmin(admin.ModelAdmin):
    """No add, no delete: the engine creates these rows and keeps them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EvidenceAdmin(EngineOwnedAdmin):
    """Readable, never editable."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
