"""Who may call the API: the `admin` and `manager` groups (superusers count as admin)."""

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission

if TYPE_CHECKING:  # importing these at run time is circular with DRF's settings
    from rest_framework.request import Request
    from rest_framework.views import APIView

from productions.roles import has_engine_role, is_engine_admin


class IsAdminOrManager(BasePermission):
    """Denied by default: anonymous → 401 (via authentication), everyone else → 403."""

    message = "Only members of the 'admin' or 'manager' group may use this endpoint."

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        return bool(request.user and request.user.is_authenticated) and has_engine_role(
            request.user
        )


class IsEngineAdmin(BasePermission):
    message = "Only members of the 'admin' group may do this."

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        return bool(request.user and request.user.is_authenticated) and is_engine_admin(
            request.user
        )
