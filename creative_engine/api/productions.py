"""/api/productions/ and /api/fragments/: the human inputs.

Every write goes through `productions.services` as the requesting person
(`actor_for_user`); the serializers here only say what may come in and what goes out.
Fields the engine owns (counters, the approved-set snapshot, performance, approval)
are output-only, so a payload that carries them changes nothing.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any
from uuid import UUID

import django_filters
from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from creative_engine.api.schema import EngineAutoSchema, named_choice_field
from productions import selectors, services
from productions.choices import FragmentType, NarrativeStructure
from productions.guard import PROTECTED_FIELDS, Actor, actor_for_user
from productions.models import CreativeFragment, CreativeProduction
from productions.validators import (
    validate_pixel_ids,
    validate_style_guide,
    validate_subgenres,
)

PROTECTED_REFUSAL = (
    "Only the admin role may change authorized pixels, authorized subgenres or genre."
)


# --- video URLs --------------------------------------------------------------------


def check_public_video_url(url: str) -> str:
    """Refuse a URL the worker must not fetch (private, loopback, link-local, metadata
    hosts, non-http schemes), as a field error. The fetcher checks again at fetch time
    (DNS may have changed) and on every redirect."""
    if not url:
        return url
    from productions.url_safety import UnsafeURLError, validate_public_url

    try:
        validate_public_url(url)
    except UnsafeURLError as exc:
        raise serializers.ValidationError(str(exc)) from exc
    return url


def probe_upload_duration(upload: UploadedFile) -> float:
    """Seconds of an uploaded master; a file that is not a readable video is a field
    error. PyAV reads the upload from local disk only (never a URL)."""
    from productions.media import CorruptMediaError, probe_media

    path = getattr(upload, "temporary_file_path", None)
    try:
        if path is not None:
            info = probe_media(path())
        else:
            suffix = os.path.splitext(upload.name or "")[1][:10]
            with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
                handle.flush()
                info = probe_media(handle.name)
    except CorruptMediaError as exc:
        raise serializers.ValidationError(
            {"video_file": [f"The uploaded file is not a readable video: {exc}"]}
        ) from exc
    finally:
        upload.seek(0)
    return float(info.duration)


# --- fragments: output ---------------------------------------------------------------


class FragmentSerializer(serializers.ModelSerializer):
    """A fragment as the API shows it; everything but the cut is the engine's."""

    approved_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    video_url = serializers.CharField(read_only=True, help_text="URL, or blank.")
    best_for_structure = named_choice_field(
        "NarrativeStructureOrBlankEnum",
        NarrativeStructure.choices,
        read_only=True,
        allow_blank=True,
        help_text="The structure this fragment performs best in (blank: not known yet).",
    )

    class Meta:
        model = CreativeFragment
        fields = [
            "id",
            "master_creative",
            "fragment_type",
            "start_time",
            "end_time",
            "duration",
            "label",
            "video_url",
            "approved",
            "approved_by",
            "approved_at",
            "performance_score",
            "usage_count",
            "success_rate",
            "best_for_structure",
            "best_with_pixels",
            "performance_by_structure",
            "created_at",
        ]
        read_only_fields = fields


# --- fragments: input ----------------------------------------------------------------


class FragmentCutSerializer(serializers.Serializer):
    """A fragment as a person describes it: a typed cut of the master, in seconds."""

    fragment_type = serializers.ChoiceField(choices=FragmentType.choices)
    start_time = serializers.FloatField(min_value=0.0, max_value=86_400.0)
    end_time = serializers.FloatField(min_value=0.0, max_value=86_400.0)
    # A declared field named like Field.label: DRF pops it off the class, stubs object.
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=120, required=False, allow_blank=True, default=""
    )
    video_url = serializers.URLField(
        max_length=1000, required=False, allow_blank=True, default=""
    )

    def validate_video_url(self, value: str) -> str:
        return check_public_video_url(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("start_time", getattr(self.instance, "start_time", None))
        end = attrs.get("end_time", getattr(self.instance, "end_time", None))
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError(
                {"end_time": ["The fragment must end after it starts."]}
            )
        return attrs


def _fragment_fits(end_time: float, duration: float | None) -> str | None:
    if duration is not None and end_time > duration + 1e-6:
        return (
            f"The fragment ends at {end_time:.2f}s but the master is only "
            f"{duration:.2f}s long."
        )
    return None


class FragmentCreateSerializer(FragmentCutSerializer):
    master_creative = serializers.UUIDField()

    def validate_master_creative(self, value: UUID) -> UUID:
        user = self.context["request"].user
        if selectors.productions_missing(user=user, production_ids=[value]):
            raise serializers.ValidationError("No master creative with this id.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        duration = (
            CreativeProduction.objects.filter(pk=attrs["master_creative"])
            .values_list("duration", flat=True)
            .first()
        )
        problem = _fragment_fits(attrs["end_time"], duration)
        if problem:
            raise serializers.ValidationError({"end_time": [problem]})
        return attrs


class FragmentUpdateSerializer(FragmentCutSerializer):
    """PATCH: any of the cut's fields; changing the cut withdraws its approval."""


class FragmentIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=500
    )

    def validate_ids(self, value: list[UUID]) -> list[UUID]:
        unique = list(dict.fromkeys(value))
        missing = selectors.fragments_missing(
            user=self.context["request"].user, fragment_ids=unique
        )
        if missing:
            raise serializers.ValidationError(
                f"No fragment with id {', '.join(str(m) for m in missing)}."
            )
        return unique


class FragmentsChangedSerializer(serializers.Serializer):
    changed = serializers.IntegerField(
        help_text="How many fragments changed (already approved/rejected ones are "
        "skipped)."
    )
    fragments = FragmentSerializer(many=True)


# --- masters -------------------------------------------------------------------------


class ProductionSerializer(serializers.ModelSerializer):
    """A master as the API shows it, with its fragments."""

    created_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    video_url = serializers.CharField(read_only=True, help_text="URL, or blank.")
    video_file = serializers.FileField(read_only=True, allow_null=True)
    fragments = FragmentSerializer(
        source="fragment_set",
        many=True,
        read_only=True,
        help_text="Every fragment of the master, approved or not.",
    )
    approved_fragments = serializers.ListField(
        source="fragments",
        child=serializers.UUIDField(),
        read_only=True,
        help_text="Ids of the approved fragments (kept by the approval services).",
    )

    class Meta:
        model = CreativeProduction
        fields = [
            "id",
            "title",
            "video_url",
            "video_file",
            "duration",
            "authorized_pixels",
            "authorized_subgenres",
            "genre",
            "style_guide",
            "human_instructions",
            "campaign_id",
            "adset_id",
            "is_active",
            "mode",
            "total_variants_generated",
            "approved_fragments",
            "fragments",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProductionInputSerializer(serializers.Serializer):
    """What a person may set on a master. Anything else in the payload is ignored."""

    title = serializers.CharField(max_length=200)
    video_url = serializers.URLField(
        max_length=1000, required=False, allow_blank=True, default=""
    )
    video_file = serializers.FileField(
        required=False, allow_null=True, default=None, max_length=500
    )
    duration = serializers.FloatField(
        min_value=1.0,
        max_value=86_400.0,
        required=False,
        allow_null=True,
        default=None,
        help_text="Seconds; probed from an uploaded file when omitted.",
    )
    authorized_pixels = serializers.ListField(
        child=serializers.CharField(max_length=20),
        max_length=100,
        required=False,
        default=list,
        validators=[validate_pixel_ids],
        help_text="Admin role only.",
    )
    authorized_subgenres = serializers.ListField(
        child=serializers.CharField(max_length=60),
        max_length=100,
        required=False,
        default=list,
        validators=[validate_subgenres],
        help_text="Admin role only.",
    )
    genre = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        default="",
        help_text="Admin role only.",
    )
    style_guide = serializers.JSONField(
        required=False, default=dict, validators=[validate_style_guide]
    )
    human_instructions = serializers.CharField(
        max_length=10_000, required=False, allow_blank=True, default=""
    )
    campaign_id = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    adset_id = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    is_active = serializers.BooleanField(required=False, default=True)

    def validate_video_url(self, value: str) -> str:
        return check_public_video_url(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        upload = attrs.get("video_file")
        if upload:
            probed = probe_upload_duration(upload)  # refuses a corrupt upload
            if attrs.get("duration") is None:
                attrs["duration"] = probed
        if self.instance is None and not attrs.get("video_url") and not upload:
            raise serializers.ValidationError(
                {"video_url": ["Give a video URL or upload a video_file."]}
            )
        return attrs


class ProductionCreateSerializer(ProductionInputSerializer):
    fragments = FragmentCutSerializer(many=True, required=False, default=list)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        errors = [
            {"end_time": [problem]}
            if (problem := _fragment_fits(f["end_time"], attrs.get("duration")))
            else {}
            for f in attrs["fragments"]
        ]
        if any(errors):
            raise serializers.ValidationError({"fragments": errors})
        return attrs


class ProductionUpdateSerializer(ProductionInputSerializer):
    """PATCH: only the fields sent are changed."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("video_file"):
            probed = probe_upload_duration(attrs["video_file"])
            if attrs.get("duration") is None:
                attrs["duration"] = probed
        return attrs


def refuse_protected_change(
    *, actor: Actor, values: dict[str, Any], current: dict[str, Any]
) -> None:
    """A manager may not set or change pixels, subgenres or genre: 403 before any
    write (the service would refuse too, as a human-rule violation)."""
    if actor.may_change_authorization:
        return
    changing = [f for f in PROTECTED_FIELDS if f in values and values[f] != current[f]]
    if changing:
        raise PermissionDenied(f"{PROTECTED_REFUSAL} Refused: {', '.join(changing)}.")


class ProductionFilter(django_filters.FilterSet):
    title = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = CreativeProduction
        fields = ["is_active", "genre", "campaign_id", "mode"]


@extend_schema(tags=["productions"])
class ProductionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Masters: create one with its fragments in one request, read, change."""

    schema = EngineAutoSchema()
    serializer_class = ProductionSerializer
    parser_classes = [JSONParser, MultiPartParser]
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_class = ProductionFilter
    ordering_fields = ["created_at", "updated_at", "title", "total_variants_generated"]
    ordering = ["-created_at"]
    error_codes = {"post": [409], "patch": [409]}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.production_list(user=self.request.user)

    def get_object(self) -> CreativeProduction:
        return selectors.production_get(
            user=self.request.user, production_id=self.kwargs["pk"]
        )

    @extend_schema(
        request=ProductionCreateSerializer,
        responses={201: ProductionSerializer},
        examples=[
            OpenApiExample(
                "A master with its cuts",
                request_only=True,
                media_type="application/json",
                value={
                    "title": "Spring tour teaser",
                    "video_url": "https://cdn.example.com/masters/spring.mp4",
                    "duration": 24.0,
                    "style_guide": {
                        "tone": "energetic",
                        "hashtags": ["#springtour", "#livemusic"],
                        "cta_text": "Get tickets",
                    },
                    "human_instructions": "Keep the singer's face in the first second.",
                    "fragments": [
                        {"fragment_type": "hook", "start_time": 0.0, "end_time": 3.0},
                        {"fragment_type": "body", "start_time": 3.0, "end_time": 12.0},
                        {"fragment_type": "cta", "start_time": 12.0, "end_time": 15.0},
                    ],
                },
            )
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        actor = actor_for_user(request.user)
        data = ProductionCreateSerializer(
            data=request.data, context={"request": request}
        )
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        refuse_protected_change(
            actor=actor,
            values=values,
            current={"authorized_pixels": [], "authorized_subgenres": [], "genre": ""},
        )
        fragments = [services.FragmentData(**f) for f in values.pop("fragments")]
        production = services.production_create(
            actor=actor, fragments=fragments, **values
        )
        output = selectors.production_get(
            user=request.user, production_id=production.pk
        )
        return Response(ProductionSerializer(output).data, status.HTTP_201_CREATED)

    @extend_schema(
        request=ProductionUpdateSerializer, responses={200: ProductionSerializer}
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        production = self.get_object()
        actor = actor_for_user(request.user)
        data = ProductionUpdateSerializer(
            production, data=request.data, partial=True, context={"request": request}
        )
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        refuse_protected_change(
            actor=actor,
            values=changes,
            current={f: getattr(production, f) for f in PROTECTED_FIELDS},
        )
        if changes:
            services.production_update(
                actor=actor, production_id=production.pk, changes=changes
            )
        output = selectors.production_get(
            user=request.user, production_id=production.pk
        )
        return Response(ProductionSerializer(output).data)


class FragmentFilter(django_filters.FilterSet):
    class Meta:
        model = CreativeFragment
        fields = ["master_creative", "fragment_type", "approved"]


@extend_schema(tags=["fragments"])
class FragmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Fragments of masters. Approval is its own explicit action and records who."""

    schema = EngineAutoSchema()
    serializer_class = FragmentSerializer
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_class = FragmentFilter
    ordering_fields = ["created_at", "start_time", "performance_score", "usage_count"]
    ordering = ["master_creative", "fragment_type", "start_time"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.fragment_list(user=self.request.user)

    def get_object(self) -> CreativeFragment:
        return selectors.fragment_get(
            user=self.request.user, fragment_id=self.kwargs["pk"]
        )

    def _output(self, fragment_id: UUID) -> dict[str, Any]:
        fragment = selectors.fragment_get(
            user=self.request.user, fragment_id=fragment_id
        )
        return FragmentSerializer(fragment).data

    @extend_schema(
        request=FragmentCreateSerializer, responses={201: FragmentSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = FragmentCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        production = selectors.production_get(
            user=request.user, production_id=values.pop("master_creative")
        )
        fragment = services.fragment_create(
            actor=actor_for_user(request.user),
            production=production,
            data=services.FragmentData(**values),
        )
        return Response(self._output(fragment.pk), status.HTTP_201_CREATED)

    @extend_schema(
        request=FragmentUpdateSerializer, responses={200: FragmentSerializer}
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        fragment = self.get_object()
        data = FragmentUpdateSerializer(
            fragment, data=request.data, partial=True, context={"request": request}
        )
        data.is_valid(raise_exception=True)
        if data.validated_data:
            services.fragment_update(
                actor=actor_for_user(request.user),
                fragment_id=fragment.pk,
                changes=dict(data.validated_data),
            )
        return Response(self._output(fragment.pk))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        fragment = self.get_object()
        services.fragment_delete(
            actor=actor_for_user(request.user), fragment_id=fragment.pk
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: FragmentSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve one fragment as the requesting person (recorded with the time)."""
        fragment = self.get_object()
        services.fragments_approve(
            actor=actor_for_user(request.user), fragment_ids=[fragment.pk]
        )
        return Response(self._output(fragment.pk))

    @extend_schema(request=None, responses={200: FragmentSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw approval: the engine stops using the fragment."""
        fragment = self.get_object()
        services.fragments_reject(
            actor=actor_for_user(request.user), fragment_ids=[fragment.pk]
        )
        return Response(self._output(fragment.pk))

    def _bulk(self, request: Request, service: Any) -> Response:
        data = FragmentIdsSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        ids = data.validated_data["ids"]
        changed = service(actor=actor_for_user(request.user), fragment_ids=ids)
        fragments = selectors.fragment_list(user=request.user).filter(pk__in=ids)
        return Response(
            {
                "changed": changed,
                "fragments": FragmentSerializer(fragments, many=True).data,
            }
        )

    @extend_schema(
        operation_id="api_fragments_approve_many",
        request=FragmentIdsSerializer,
        responses={200: FragmentsChangedSerializer},
    )
    @action(detail=False, methods=["post"], url_path="approve", url_name="approve-many")
    def approve_many(self, request: Request) -> Response:
        """Approve many fragments at once; unknown ids refuse the whole request."""
        return self._bulk(request, services.fragments_approve)

    @extend_schema(
        operation_id="api_fragments_reject_many",
        request=FragmentIdsSerializer,
        responses={200: FragmentsChangedSerializer},
    )
    @action(detail=False, methods=["post"], url_path="reject", url_name="reject-many")
    def reject_many(self, request: Request) -> Response:
        """Withdraw approval of many fragments at once."""
        return self._bulk(request, services.fragments_reject)
