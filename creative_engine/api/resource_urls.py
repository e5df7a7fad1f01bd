"""CRUD resources under /api/, and the OpenAPI schema and docs (role holders only)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from creative_engine.api.docs import DocsView, SchemaView
from creative_engine.api.fragments import FragmentViewSet
from creative_engine.api.history import CycleRunViewSet, PromotionLogViewSet
from creative_engine.api.masters import ProductionViewSet
from creative_engine.api.variants import VariantViewSet


class ResourceRouter(DefaultRouter):
    include_root_view = False
    include_format_suffixes = False


router = ResourceRouter()
router.register("productions", ProductionViewSet, basename="production")
router.register("fragments", FragmentViewSet, basename="fragment")
router.register("variants", VariantViewSet, basename="variant")
router.register("promotion-logs", PromotionLogViewSet, basename="promotionlog")
router.register("runs", CycleRunViewSet, basename="cyclerun")

# The schema describes every endpoint: it is served to role holders only, like the
# API itself (drf-spectacular's default would serve it to anyone). These come first
# in /api/, so they answer before config/urls.py's public entries of the same paths.
urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(), name="api-docs"),
    *router.urls,
]
