"""The production cycle: its status, a request to run one now, and its history."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from creative_engine import selectors as engine_selectors
from creative_engine.api.engine.base import mode_must_match
from creative_engine.api.errors import Conflict, refuse_unknown_ids
from creative_engine.api.fields import (
    StrictBooleanField,
    StrictChoiceField,
    StrictIntegerField,
    StrictUUIDField,
)
from creative_engine.api.history import CycleRunSummarySerializer
from creative_engine.api.schema import named_choice_field
from creative_engine.models import RunStatus
from creative_engine.services.cycle import CycleAlreadyRunning, cycle_request
from creative_engine.tasks import cycle_queue
from productions import selectors as production_selectors
from productions.choices import EngineMode

HISTORY_DEFAULT_LIMIT = 20
HISTORY_MAX_LIMIT = 100


# --- GET status ----------------------------------------------------------------------


class EngineAlertSerializer(serializers.Serializer):
    kind = serializers.CharField()
    master_id = serializers.UUIDField(allow_null=True)
    message = serializers.CharField()


class EngineStatusSerializer(serializers.Serializer):
    status = named_choice_field(
        "EngineStatusEnum",
        [("running", "Running"), ("idle", "Idle"), ("paused", "Paused")],
        help_text="running: a cycle is queued or running; paused: the 12-hour schedule "
        "is disabled; idle: waiting for the next scheduled cycle.",
    )
    last_run = serializers.DateTimeField(allow_null=True)
    next_run = serializers.DateTimeField(allow_null=True)
    total_masters = serializers.IntegerField()
    total_variants = serializers.IntegerField()
    active_variants = serializers.IntegerField(help_text="Testing or active on Meta.")
    fatigued_variants = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=EngineMode.choices)
    alerts = EngineAlertSerializer(
        many=True,
        help_text="What a person must act on, from the last finished cycle: masters "
        "whose testing pool cannot be refilled, with the reason.",
    )


class EngineStatusView(APIView):
    @extend_schema(tags=["engine"], responses={200: EngineStatusSerializer})
    def get(self, request: Request) -> Response:
        """The engine's state, the last and next cycle, and variant totals."""
        data = engine_selectors.engine_status(
            now=timezone.now(), mode=settings.CREATIVE_ENGINE_MODE
        )
        return Response(EngineStatusSerializer(data).data)


# --- POST run ------------------------------------------------------------------------


class RunOptionsSerializer(serializers.Serializer):
    master_creative_ids = serializers.ListField(
        child=StrictUUIDField(),
        required=False,
        default=list,
        max_length=500,
        help_text="Limit the cycle to these masters (default: every active master).",
    )
    generate_variants = StrictBooleanField(required=False, default=True)
    auto_upload = StrictBooleanField(required=False, default=True)
    promote_top_3 = StrictBooleanField(required=False, default=True)
    mode = StrictChoiceField(
        choices=EngineMode.choices,
        required=False,
        help_text="Must equal the server's mode when given.",
    )
    dry_run = StrictBooleanField(
        required=False,
        default=False,
        help_text="Decide and record the plan, write nothing to Meta.",
    )

    def validate_mode(self, value: str) -> str | None:
        return mode_must_match(value)

    def validate_master_creative_ids(self, value: list[UUID]) -> list[UUID]:
        return list(dict.fromkeys(value))


class RunAcceptedSerializer(serializers.Serializer):
    run_id = serializers.UUIDField()
    status = named_choice_field("RunStatusEnum", RunStatus.choices)
    status_url = serializers.CharField(help_text="Poll this for the run's progress.")


class EngineRunView(APIView):
    error_codes = {"post": [409]}

    @extend_schema(
        tags=["engine"],
        request=RunOptionsSerializer,
        responses={202: RunAcceptedSerializer},
        examples=[
            OpenApiExample(
                "SPEC.md's body, as a dry run",
                request_only=True,
                value={
                    "master_creative_ids": [],
                    "generate_variants": True,
                    "auto_upload": True,
                    "promote_top_3": True,
                    "mode": "stub",
                    "dry_run": True,
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        """Queue a full production cycle; 202 with the run id (409 if one is running)."""
        data = RunOptionsSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        options = dict(data.validated_data)
        refuse_unknown_ids(
            field="master_creative_ids",
            noun="master creative",
            missing=production_selectors.productions_missing(
                user=request.user, production_ids=options["master_creative_ids"]
            ),
        )
        options.pop("mode", None)
        dry_run = options.pop("dry_run")
        options["master_creative_ids"] = [
            str(m) for m in options["master_creative_ids"]
        ]
        try:
            run = cycle_request(
                trigger="api",
                requested_by_id=request.user.pk,
                options=options,
                dry_run=dry_run,
            )
        except CycleAlreadyRunning as exc:
            raise Conflict(str(exc), code="cycle_already_running") from exc
        cycle_queue(str(run.pk))
        status_url = reverse("cyclerun-detail", kwargs={"pk": run.pk})
        body = {"run_id": run.pk, "status": run.status, "status_url": status_url}
        return Response(
            RunAcceptedSerializer(body).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": status_url},
        )


# --- GET history ---------------------------------------------------------------------


class StructureTotalsSerializer(serializers.Serializer):
    narrative_structure = serializers.CharField()
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    conversions = serializers.IntegerField()


class EngineHistorySerializer(serializers.Serializer):
    total_runs = serializers.IntegerField()
    total_variants_generated = serializers.IntegerField()
    total_uploads = serializers.IntegerField(help_text="Variants that got a Meta ad.")
    avg_variants_per_master = serializers.FloatField(
        help_text="Over masters with at least one variant."
    )
    best_performing_structure = serializers.CharField(
        allow_null=True,
        help_text="Highest posterior rate over measured delivery; null before any.",
    )
    best_structure_metric = serializers.ChoiceField(
        choices=["conversions_per_impression", "ctr"], allow_null=True
    )
    structures = StructureTotalsSerializer(many=True)
    history = CycleRunSummarySerializer(many=True)


class HistoryQuerySerializer(serializers.Serializer):
    limit = StrictIntegerField(
        min_value=1, max_value=HISTORY_MAX_LIMIT, default=HISTORY_DEFAULT_LIMIT
    )


class EngineHistoryView(APIView):
    error_codes = {"get": [400]}

    @extend_schema(
        tags=["engine"],
        parameters=[HistoryQuerySerializer],
        responses={200: EngineHistorySerializer},
    )
    def get(self, request: Request) -> Response:
        """Totals over every run, the best structure so far, and the latest runs
        (the full list is paginated under /api/runs/)."""
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = engine_selectors.engine_history(limit=query.validated_data["limit"])
        return Response(EngineHistorySerializer(data).data)
