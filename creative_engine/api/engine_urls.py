"""SPEC.md's six endpoints under /meta/creative-engine/ (paths exactly as SPEC.md)."""

from django.urls import path

from creative_engine.api.engine.cycles import (
    EngineHistoryView,
    EngineRunView,
    EngineStatusView,
)
from creative_engine.api.engine.generation import (
    EngineGenerateView,
    EngineMasterVariantsView,
)
from creative_engine.api.engine.promote import EnginePromoteView

urlpatterns = [
    path("status", EngineStatusView.as_view(), name="engine-status"),
    path("run", EngineRunView.as_view(), name="engine-run"),
    path(
        "generate/<str:creative_id>",
        EngineGenerateView.as_view(),
        name="engine-generate",
    ),
    path(
        "variants/<str:creative_id>",
        EngineMasterVariantsView.as_view(),
        name="engine-variants",
    ),
    path(
        "promote/<str:variant_id>", EnginePromoteView.as_view(), name="engine-promote"
    ),
    path("history", EngineHistoryView.as_view(), name="engine-history"),
]
