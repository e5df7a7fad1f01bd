"""SPEC.md's six endpoints under /meta/creative-engine/, with its JSON shapes.

Thin views: parse the input, call one selector or service, shape the output. The
engine only ever works from what humans approved, so `generate` takes no overrides of
the master, its fragments or its style guide (those are edited under /api/productions/).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from creative_engine import selectors as engine_selectors
from creative_engine.api.errors import Conflict
from creative_engine.api.history import (
    CycleRunSummarySerializer,
    PromotionLogSerializer,
)
from creative_engine.api.productions import ProductionSerializer
from creative_engine.api.schema import EngineAutoSchema, named_choice_field
from creative_engine.api.variants import VariantSerializer, run_refusable
from creative_engine.models import RunStatus
from productions import selectors as production_selectors
from productions.choices import EngineMode
from productions.guard import actor_for_user
from productions.models import CreativeProduction
from variants import selectors as variant_selectors

HISTORY_DEFAULT_LIMIT = 20
HISTORY_MAX_LIMIT = 100


def _mode_must_match(value: str | None) -> str | None:
    if value is not None and value != settings.CREATIVE_ENGINE_MODE:
        raise serializers.ValidationError(
            f"This server runs in {settings.CREATIVE_ENGINE_MODE!r} mode; the mode is "
            "set by CREATIVE_ENGINE_MODE on the server, not per request."
        )
    return value


def _uuid_path_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.UUID, OpenApiParameter.PATH, description=description
    )


class EngineView(APIView):
    schema = EngineAutoSchema()
    parser_classes = [JSONParser]


# --- GET status ----------------------------------------------------------------------


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


class EngineStatusView(EngineView):
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
        child=serializers.UUIDField(),
        required=False,
        default=list,
        max_length=500,
        help_text="Limit the cycle to these masters (default: every active master).",
    )
    generate_variants = serializers.BooleanField(required=False, default=True)
    auto_upload = serializers.BooleanField(required=False, default=True)
    promote_top_3 = serializers.BooleanField(required=False, default=True)
    mode = serializers.ChoiceField(
        choices=EngineMode.choices,
        required=False,
        help_text="Must equal the server's mode when given.",
    )
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Decide and record the plan, write nothing to Meta.",
    )

    def validate_mode(self, value: str) -> str | None:
        return _mode_must_match(value)

    def validate_master_creative_ids(self, value: list[UUID]) -> list[UUID]:
        unique = list(dict.fromkeys(value))
        missing = production_selectors.productions_missing(
            user=self.context["request"].user, production_ids=unique
        )
        if missing:
            raise serializers.ValidationError(
                f"No master creative with id {', '.join(str(m) for m in missing)}."
            )
        return unique


class RunAcceptedSerializer(serializers.Serializer):
    run_id = serializers.UUIDField()
    status = named_choice_field("RunStatusEnum", RunStatus.choices)
    status_url = serializers.CharField(help_text="Poll this for the run's progress.")


class EngineRunView(EngineView):
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
        from creative_engine.services.cycle import CycleAlreadyRunning, cycle_request
        from creative_engine.tasks import cycle_queue

        data = RunOptionsSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        options = dict(data.validated_data)
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


# --- POST generate/{creative_id} -----------------------------------------------------

_OVERRIDE_REFUSAL = (
    "The engine generates only from what humans approved; edit the master, its "
    "fragments and its style guide under /api/productions/ and /api/fragments/."
)


class GenerateSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        min_value=5,
        max_value=15,
        required=False,
        allow_null=True,
        default=None,
        help_text="How many variants (5–15); the planner chooses when omitted.",
    )
    seed = serializers.IntegerField(
        min_value=0,
        max_value=2**63 - 1,
        required=False,
        allow_null=True,
        default=None,
        help_text="Reproduce a batch; derived from the master and batch when omitted.",
    )
    mode = serializers.ChoiceField(choices=EngineMode.choices, required=False)
    master_creative = serializers.JSONField(
        required=False,
        help_text="Accepted for SPEC.md compatibility only if equal to the stored master.",
    )
    fragments = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        help_text="Accepted only if it names exactly the approved fragments.",
    )
    style_guide = serializers.JSONField(
        required=False,
        help_text="Accepted only if equal to the stored style guide.",
    )

    def validate_mode(self, value: str) -> str | None:
        return _mode_must_match(value)

    def validate_master_creative(self, value: Any) -> Any:
        master: CreativeProduction = self.context["master"]
        if not isinstance(value, dict):
            raise serializers.ValidationError(_OVERRIDE_REFUSAL)
        stored = ProductionSerializer(master).data
        differing = sorted(
            key
            for key, given in value.items()
            if key in stored and _as_json(given) != _as_json(stored[key])
        )
        if differing:
            raise serializers.ValidationError(
                f"{', '.join(differing)} differ from the stored master. "
                + _OVERRIDE_REFUSAL
            )
        return value

    def validate_fragments(self, value: list[Any]) -> list[Any]:
        master: CreativeProduction = self.context["master"]
        given = {
            str(item.get("id")) if isinstance(item, dict) else str(item)
            for item in value
        }
        approved = set(
            production_selectors.approved_fragment_ids(production_id=master.pk)
        )
        if given != approved:
            raise serializers.ValidationError(
                "These are not exactly the master's approved fragments. "
                + _OVERRIDE_REFUSAL
            )
        return value

    def validate_style_guide(self, value: Any) -> Any:
        master: CreativeProduction = self.context["master"]
        if _as_json(value) != _as_json(master.style_guide):
            raise serializers.ValidationError(
                "This differs from the stored style guide. " + _OVERRIDE_REFUSAL
            )
        return value


def _as_json(value: Any) -> Any:
    """Compare JSON-ish values the way they travel (uuids and numbers as JSON has them)."""
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json(v) for v in value]
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    return str(value)


class GeneratedBatchSerializer(serializers.Serializer):
    master_creative_id = serializers.UUIDField()
    count = serializers.IntegerField()
    variants = VariantSerializer(many=True)


class EngineGenerateView(EngineView):
    error_codes = {"post": [409]}

    @extend_schema(
        tags=["engine"],
        parameters=[_uuid_path_parameter("creative_id", "The master creative.")],
        request=GenerateSerializer,
        responses={201: GeneratedBatchSerializer},
        examples=[
            OpenApiExample(
                "Eight variants, reproducibly",
                request_only=True,
                value={"count": 8, "seed": 1017},
            )
        ],
    )
    def post(self, request: Request, creative_id: str) -> Response:
        """Generate a batch of 5–15 variants of one master now (renders are queued)."""
        from variants.planning import PlanningError
        from variants.services.generation import GenerationError, variants_generate
        from variants.tasks import renders_queue

        master = production_selectors.production_get(
            user=request.user, production_id=creative_id
        )
        data = GenerateSerializer(
            data=request.data, context={"request": request, "master": master}
        )
        data.is_valid(raise_exception=True)
        try:
            created = variants_generate(
                master_id=master.pk,
                count=data.validated_data["count"],
                seed=data.validated_data["seed"],
            )
        except (GenerationError, PlanningError) as exc:
            raise serializers.ValidationError({"non_field_errors": [str(exc)]}) from exc
        renders_queue(v.pk for v in created)
        body = {
            "master_creative_id": master.pk,
            "count": len(created),
            "variants": created,
        }
        return Response(
            GeneratedBatchSerializer(body).data, status=status.HTTP_201_CREATED
        )


# --- GET variants/{creative_id} ------------------------------------------------------


class MasterVariantsSerializer(serializers.Serializer):
    master_creative_id = serializers.UUIDField()
    total_variants = serializers.IntegerField()
    active = serializers.IntegerField()
    testing = serializers.IntegerField()
    fatigued = serializers.IntegerField()
    archived = serializers.IntegerField()
    draft = serializers.IntegerField()
    rendering = serializers.IntegerField()
    rendered = serializers.IntegerField()
    uploading = serializers.IntegerField()
    failed = serializers.IntegerField()
    variants = VariantSerializer(many=True)


class EngineMasterVariantsView(EngineView):
    @extend_schema(
        tags=["engine"],
        parameters=[_uuid_path_parameter("creative_id", "The master creative.")],
        responses={200: MasterVariantsSerializer},
    )
    def get(self, request: Request, creative_id: str) -> Response:
        """Every variant of a master, newest batch first, with counts by status.

        Queries: the master exists, its variants (counted from the same rows).
        """
        master_id = _existing_master_id(request, creative_id)
        variants = list(
            variant_selectors.variants_of_master(user=request.user, master_id=master_id)
        )
        counts = variant_selectors.status_counts(variants)
        body = {
            "master_creative_id": master_id,
            "total_variants": counts.pop("total"),
            **counts,
            "variants": variants,
        }
        return Response(MasterVariantsSerializer(body).data)


def _existing_master_id(request: Request, creative_id: str) -> UUID:
    pk = production_selectors.parse_uuid(creative_id)
    if pk is None or production_selectors.productions_missing(
        user=request.user, production_ids=[pk]
    ):
        from django.http import Http404

        raise Http404("No master creative with this id.")
    return pk


# --- POST promote/{variant_id} -------------------------------------------------------


class PromoteSerializer(serializers.Serializer):
    variant_id = serializers.UUIDField(
        required=False,
        help_text="SPEC.md's body field; must equal the path when given.",
    )
    campaign_id = serializers.RegexField(
        r"^[0-9A-Za-z_\-]{1,64}$",
        required=False,
        allow_blank=True,
        default="",
        help_text="Meta campaign (default: the master's).",
    )
    adset_id = serializers.RegexField(
        r"^[0-9A-Za-z_\-]{1,64}$",
        required=False,
        allow_blank=True,
        default="",
        help_text="Meta ad set (default: the master's, else the configured default).",
    )
    budget = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        default=None,
        help_text="Daily budget in the account currency; > 0.",
    )
    force = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Promote a variant that is not rendered or is archived. Never "
        "overrides a human rule (unapproved fragment, pixel, hashtag).",
    )

    def validate_variant_id(self, value: UUID) -> UUID:
        if str(value) != str(self.context["variant_id"]):
            raise serializers.ValidationError("Must equal the variant id in the path.")
        return value


class EnginePromoteView(EngineView):
    error_codes = {"post": [409, 502]}

    @extend_schema(
        tags=["engine"],
        parameters=[_uuid_path_parameter("variant_id", "The variant to promote.")],
        request=PromoteSerializer,
        responses={201: PromotionLogSerializer},
        examples=[
            OpenApiExample(
                "Promote with a daily budget",
                request_only=True,
                value={"budget": "50.00", "force": False},
            )
        ],
    )
    def post(self, request: Request, variant_id: str) -> Response:
        """Promote one variant on Meta by hand; the promotion log row is the answer."""
        from promotion.services.promote import variant_promote_manual

        variant = variant_selectors.variant_get(
            user=request.user, variant_id=variant_id
        )
        data = PromoteSerializer(
            data=request.data, context={"request": request, "variant_id": variant.pk}
        )
        data.is_valid(raise_exception=True)
        values = data.validated_data
        log = run_refusable(
            variant_promote_manual,
            variant_id=variant.pk,
            actor=actor_for_user(request.user),
            campaign_id=values["campaign_id"],
            adset_id=values["adset_id"],
            budget=values["budget"],
            force=values["force"],
            promoted_by="api",
        )
        return Response(
            PromotionLogSerializer(log).data, status=status.HTTP_201_CREATED
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
    limit = serializers.IntegerField(
        min_value=1, max_value=HISTORY_MAX_LIMIT, default=HISTORY_DEFAULT_LIMIT
    )


class EngineHistoryView(EngineView):
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
