"""The OpenAPI schema and Swagger UI, for role holders only, with JSON errors."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
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


class DocsView(_JSONErrors, SpectacularSwaggerView):
    permission_classes = [IsAdminOrManager]
    # A page to read: OPTIONS would render DRF's metadata through the HTML template
    # renderer, which has no template for it.
    http_method_names = ["get", "head"]
    url_name = "api-schema"
