"""/api/variants/: generated variants, read-only but for the explicit archive action."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from creative_engine.api.errors import Conflict
from creative_engine.api.fields import StrictModelSerializer, optional_text
from creative_engine.api.schema import named_choice_field
from productions.choices import NarrativeStructure
from productions.guard import actor_for_user
from promotion.meta.errors import MetaError
from promotion.services.promote import PromotionRefused, variant_archive
from variants import selectors
from variants.choices import DurationCategory, VariantStatus, VariantType
from variants.models import CreativeVariant
from variants.rendering.errors import RenderError
from variants.services.lifecycle import VariantTransitionRefused

_NULLABLE_URI = {"type": "string", "format": "uri", "nullable": True}


class VariantSerializer(StrictModelSerializer):
    """Everything about a variant is the engine's: the whole representation is output."""

    master_creative_id = serializers.UUIDField(source="parent_id", read_only=True)
    status = named_choice_field(
        "VariantStatusEnum", VariantStatus.choices, read_only=True
    )
    narrative_structure = named_choice_field(
        "NarrativeStructureEnum", NarrativeStructure.choices, read_only=True
    )
    video_url = serializers.SerializerMethodField()
    poster_url = serializers.SerializerMethodField()

    class Meta:
        model = CreativeVariant
        fields = [
            "id",
            "master_creative_id",
            "batch_number",
            "variant_number",
            "variant_type",
            "narrative_structure",
            "fragments_order",
            "caption",
            "hashtags",
            "text_overlay",
            "color_look",
            "aspect_ratio",
            "pixel_id",
            "duration_seconds",
            "duration_category",
            "estimated_score",
            "confidence",
            "actual_performance",
            "plan_seed",
            "refreshed_from",
            "video_url",
            "poster_url",
            "video_checksum",
            "probed_duration",
            "rendered_at",
            "meta_video_id",
            "meta_creative_id",
            "meta_ad_id",
            "upload_status",
            "uploaded_at",
            "campaign_id",
            "adset_id",
            "status",
            "status_changed_at",
            "failure_reason",
            "activated_at",
            "days_active",
            "is_fatigued",
            "fatigue_score",
            "archived_at",
            "generated_at",
            "mode",
        ]
        read_only_fields = fields

    @extend_schema_field(_NULLABLE_URI)
    def get_video_url(self, variant: CreativeVariant) -> str | None:
        return variant.video_file.url if variant.video_file else None

    @extend_schema_field(_NULLABLE_URI)
    def get_poster_url(self, variant: CreativeVariant) -> str | None:
        return variant.poster_file.url if variant.poster_file else None


class VariantFilter(django_filters.FilterSet):
    master = django_filters.UUIDFilter(field_name="parent_id")
    status = django_filters.MultipleChoiceFilter(choices=VariantStatus.choices)
    narrative_structure = django_filters.ChoiceFilter(
        choices=NarrativeStructure.choices
    )
    duration_category = django_filters.ChoiceFilter(choices=DurationCategory.choices)
    variant_type = django_filters.ChoiceFilter(choices=VariantType.choices)
    duration_min = django_filters.NumberFilter(
        field_name="duration_seconds", lookup_expr="gte"
    )
    duration_max = django_filters.NumberFilter(
        field_name="duration_seconds", lookup_expr="lte"
    )

    class Meta:
        model = CreativeVariant
        fields = ["batch_number", "is_fatigued", "upload_status", "campaign_id"]


class ArchiveSerializer(serializers.Serializer):
    reason = optional_text(
        500, help_text="Why, for the record (kept on the promotion log)."
    )


@extend_schema(tags=["variants"])
class VariantViewSet(viewsets.ReadOnlyModelViewSet):
    """Variants of every master; filter by master, status, structure, duration, type."""

    serializer_class = VariantSerializer
    filterset_class = VariantFilter
    ordering_fields = [
        "generated_at",
        "batch_number",
        "variant_number",
        "estimated_score",
        "duration_seconds",
        "status",
        "days_active",
        "fatigue_score",
    ]
    ordering = ["-generated_at", "variant_number"]
    error_codes = {"post": [409, 502]}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.variant_list(user=self.request.user)

    def get_object(self) -> CreativeVariant:
        return selectors.variant_get(
            user=self.request.user, variant_id=self.kwargs["pk"]
        )

    @extend_schema(request=ArchiveSerializer, responses={200: VariantSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        """Archive a variant by hand (its ad is paused on Meta); archived is final."""
        variant = self.get_object()
        data = ArchiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actor = actor_for_user(request.user)
        reason = data.validated_data["reason"] or f"archived by {actor.name} via API"
        run_refusable(
            variant_archive, variant_id=variant.pk, actor=actor, reason=reason
        )
        variant = selectors.variant_get(user=request.user, variant_id=variant.pk)
        return Response(VariantSerializer(variant).data)


def run_refusable(service: Any, **kwargs: Any) -> Any:
    """Call a promotion service: its refusals (state, rules) answer 409, a failure on
    Meta's side 502 with Meta's message."""
    try:
        return service(**kwargs)
    except PromotionRefused as exc:
        raise Conflict(str(exc), code="promotion_refused") from exc
    except VariantTransitionRefused as exc:
        raise Conflict(str(exc), code="variant_state_conflict") from exc
    except RenderError as exc:
        raise Conflict(
            f"The variant could not be rendered: {exc}", code="render_failed"
        ) from exc
    except MetaError as exc:
        raise MetaUnavailable(f"Meta did not complete the request: {exc}") from exc


class MetaUnavailable(APIException):
    status_code = 502
    default_detail = "Meta did not complete the request."
    default_code = "meta_error"
