"""The OpenAPI schema and Swagger UI, for role holders only, with JSON errors.

Swagger UI is the split view: its start-up script is served from this same URL
(`?script=`), not inlined, so the page runs under the site's Content-Security-Policy
(`script-src 'self'`) and keeps Django's same-origin opener policy.
"""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from creative_engine.api.permissions import IsAdminOrManager


class _JSONErrors:
    """Errors in the API's one JSON shape, whatever the page itself renders as."""

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)  # type: ignore[misc]
        self.request.accepted_renderer = JSONRenderer()  # type: ignore[attr-defined]
        self.request.accepted_media_type = "application/json"  # type: ignore[attr-defined]
        return response


class SchemaView(_JSONErrors, SpectacularAPIView):
    permission_classes = [IsAdminOrManager]


# "Try it out" posts with the session: the page hands out the CSRF cookie it needs.
@method_decorator(ensure_csrf_cookie, name="dispatch")
class DocsView(_JSONErrors, SpectacularSwaggerSplitView):
    permission_classes = [IsAdminOrManager]
    # A page to read: OPTIONS would render DRF's metadata through the HTML template
    # renderer, which has no template for it.
    http_method_names = ["get", "head"]
    url_name = "api-schema"
