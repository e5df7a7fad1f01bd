"""Generating variants of one master now, and reading every variant of a master.

The engine only ever works from what humans approved, so `generate` takes no
overrides of the master, its fragments or its style guide (those are edited under
/api/productions/); SPEC.md's body may repeat them only as stored.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from creative_engine.api.engine.base import (
    mode_must_match,
    uuid_path_parameter,
)
from creative_engine.api.fields import (
    StrictChoiceField,
    StrictIntegerField,
    StrictJSONField,
    optional_or_null,
)
from creative_engine.api.master_serializers import ProductionSerializer
from creative_engine.api.variants import VariantSerializer
from creative_engine.services.generation import batch_generate_now
from productions import selectors as production_selectors
from productions.choices import EngineMode
from productions.models import CreativeProduction
from variants import selectors as variant_selectors
from variants.planning import PlanningError
from variants.services.generation import GenerationError

_OVERRIDE_REFUSAL = (
    "The engine generates only from what humans approved; edit the master, its "
    "fragments and its style guide under /api/productions/ and /api/fragments/."
)
_MASTER_PARAMETER = uuid_path_parameter("creative_id", "The master creative.")


# --- POST generate/{creative_id} -----------------------------------------------------


class GenerateSerializer(serializers.Serializer):
    """Context: `master`, as read by `production_selectors.production_get` (with its
    fragments prefetched, so comparing against it costs no query)."""

    count = optional_or_null(
        StrictIntegerField,
        min_value=5,
        max_value=15,
        help_text="How many variants (5–15); the planner chooses when omitted.",
    )
    seed = optional_or_null(
        StrictIntegerField,
        min_value=0,
        max_value=2**63 - 1,
        help_text="Reproduce a batch; derived from the master and batch when omitted.",
    )
    mode = StrictChoiceField(choices=EngineMode.choices, required=False)
    master_creative = StrictJSONField(
        required=False,
        help_text="Accepted for SPEC.md compatibility only if equal to the stored master.",
    )
    fragments = serializers.ListField(
        child=StrictJSONField(),
        required=False,
        max_length=1000,
        help_text="Accepted only if it names exactly the approved fragments.",
    )
    style_guide = StrictJSONField(
        required=False,
        help_text="Accepted only if equal to the stored style guide.",
    )

    def validate_mode(self, value: str) -> str | None:
        return mode_must_match(value)

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
        approved = {str(f.pk) for f in master.fragment_set.all() if f.approved}
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


class EngineGenerateView(APIView):
    error_codes = {"post": [409]}

    @extend_schema(
        tags=["engine"],
        parameters=[_MASTER_PARAMETER],
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
        master = production_selectors.production_get(
            user=request.user, production_id=creative_id
        )
        data = GenerateSerializer(
            data=request.data, context={"request": request, "master": master}
        )
        data.is_valid(raise_exception=True)
        try:
            created = batch_generate_now(
                master_id=master.pk,
                count=data.validated_data["count"],
                seed=data.validated_data["seed"],
            )
        except (GenerationError, PlanningError) as exc:
            raise serializers.ValidationError({"non_field_errors": [str(exc)]}) from exc
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
    paused = serializers.IntegerField(
        help_text="Judged losers: their ads are paused, not retired."
    )
    fatigued = serializers.IntegerField()
    archived = serializers.IntegerField(help_text="Fatigued or retired by a person.")
    draft = serializers.IntegerField()
    rendering = serializers.IntegerField()
    rendered = serializers.IntegerField()
    uploading = serializers.IntegerField()
    failed = serializers.IntegerField()
    variants = VariantSerializer(many=True)


class EngineMasterVariantsView(APIView):
    @extend_schema(
        tags=["engine"],
        parameters=[_MASTER_PARAMETER],
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
        raise Http404("No master creative with this id.")
    return pk
