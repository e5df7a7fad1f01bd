"""/api/promotion-logs/ and /api/runs/: what the engine did, read-only."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets

from creative_engine import selectors as engine_selectors
from creative_engine.api.fields import StrictModelSerializer
from creative_engine.api.schema import named_choice_field
from creative_engine.models import CycleRun, RunStatus
from promotion import selectors as promotion_selectors
from promotion.models import PromotionLog


class PromotionLogSerializer(StrictModelSerializer):
    class Meta:
        model = PromotionLog
        fields = [
            "id",
            "variant",
            "run",
            "promotion_type",
            "operation",
            "meta_creative_id",
            "meta_ad_id",
            "meta_campaign_id",
            "campaign_id",
            "adset_id",
            "promotion_status",
            "upload_timestamp",
            "completed_timestamp",
            "success",
            "error_message",
            "error_code",
            "error_subcode",
            "attempt",
            "budget_allocated",
            "targeting_details",
            "decision_details",
            "promoted_by",
            "mode",
            "created_at",
        ]
        read_only_fields = fields


class PromotionLogFilter(django_filters.FilterSet):
    class Meta:
        model = PromotionLog
        fields = [
            "variant",
            "promotion_type",
            "promotion_status",
            "success",
            "run",
            "promoted_by",
            "operation",
        ]


@extend_schema(tags=["promotion-logs"])
class PromotionLogViewSet(viewsets.ReadOnlyModelViewSet):
    """One row per call to Meta (or per decision), with its outcome."""

    serializer_class = PromotionLogSerializer
    filterset_class = PromotionLogFilter
    ordering_fields = ["created_at", "completed_timestamp", "budget_allocated"]
    ordering = ["-created_at"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return promotion_selectors.promotion_log_list(user=self.request.user)

    def get_object(self) -> PromotionLog:
        return promotion_selectors.promotion_log_get(  # type: ignore[return-value]
            user=self.request.user, log_id=self.kwargs["pk"]
        )


class CycleRunSerializer(StrictModelSerializer):
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    status = named_choice_field("RunStatusEnum", RunStatus.choices, read_only=True)
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = CycleRun
        fields = [
            "id",
            "trigger",
            "status",
            "scheduled_window",
            "as_of",
            "dry_run",
            "options",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "heartbeat_at",
            "counts",
            "timings",
            "errors",
            "alerts",
            "decisions",
            "mode",
        ]
        read_only_fields = fields

    def get_duration_seconds(self, run: CycleRun) -> float | None:
        if run.started_at is None or run.finished_at is None:
            return None
        return round((run.finished_at - run.started_at).total_seconds(), 3)


class CycleRunSummarySerializer(CycleRunSerializer):
    """A run in the history list: what it did and how long it took, not every decision."""

    error_count = serializers.SerializerMethodField()

    class Meta(CycleRunSerializer.Meta):
        fields = [
            f
            for f in CycleRunSerializer.Meta.fields
            if f not in {"decisions", "errors"}
        ] + ["error_count"]
        read_only_fields = fields

    def get_error_count(self, run: CycleRun) -> int:
        return len(run.errors or [])


class CycleRunFilter(django_filters.FilterSet):
    class Meta:
        model = CycleRun
        fields = ["status", "trigger", "dry_run", "mode"]


@extend_schema(tags=["runs"])
class CycleRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Production cycles: queued, running, and what finished ones did and decided."""

    serializer_class = CycleRunSerializer
    filterset_class = CycleRunFilter
    ordering_fields = ["created_at", "started_at", "finished_at", "as_of"]
    ordering = ["-created_at"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return engine_selectors.run_list(user=self.request.user)

    def get_object(self) -> CycleRun:
        return engine_selectors.run_get(
            user=self.request.user, run_id=self.kwargs["pk"]
        )
