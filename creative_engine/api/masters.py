"""/api/productions/: masters, created with their fragments in one request.

Every write goes through `productions.services` as the requesting person
(`actor_for_user`); reads go through `productions.selectors`, scoped to the user.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from creative_engine.api.master_serializers import (
    ProductionCreateSerializer,
    ProductionSerializer,
    ProductionUpdateSerializer,
)
from creative_engine.api.parsers import SafeJSONParser
from productions import selectors, services
from productions.guard import PROTECTED_FIELDS, Actor, actor_for_user
from productions.models import CreativeProduction

PROTECTED_REFUSAL = (
    "Only the admin role may change authorized pixels, authorized subgenres or genre."
)


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
    title = django_filters.CharFilter(lookup_expr="icontains", max_length=200)

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

    serializer_class = ProductionSerializer
    # JSON, or a multipart form carrying the master's video file (its JSON fields go
    # through the same rules: `StrictJSONField`).
    parser_classes = [SafeJSONParser, MultiPartParser]
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

    def _output(self, production: CreativeProduction) -> dict[str, Any]:
        fresh = selectors.production_get(
            user=self.request.user, production_id=production.pk
        )
        return ProductionSerializer(fresh).data

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
        return Response(self._output(production), status.HTTP_201_CREATED)

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
        return Response(self._output(production))
