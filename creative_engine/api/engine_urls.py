"""SPEC.md's six endpoints under /meta/creative-engine/ (paths exactly as SPEC.md)."""

from django.urls import path

from creative_engine.api import engine

urlpatterns = [
    path("status", engine.EngineStatusView.as_view(), name="engine-status"),
    path("run", engine.EngineRunView.as_view(), name="engine-run"),
    path(
        "generate/<str:creative_id>",
        engine.EngineGenerateView.as_view(),
        name="engine-generate",
    ),
    path(
        "variants/<str:creative_id>",
        engine.EngineMasterVariantsView.as_view(),
        name="engine-variants",
    ),
    path(
        "promote/<str:variant_id>",
        engine.EnginePromoteView.as_view(),
        name="engine-promote",
    ),
    path("history", engine.EngineHistoryView.as_view(), name="engine-history"),
]
