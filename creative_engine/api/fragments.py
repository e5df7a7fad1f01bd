"""/api/fragments/: cuts of masters. Approval is its own explicit action and records
who and when; every write goes through `productions.services` as that person."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import django_filters
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from creative_engine.api.errors import refuse_unknown_ids
from creative_engine.api.fragment_serializers import (
    FragmentCreateSerializer,
    FragmentIdsSerializer,
    FragmentsChangedSerializer,
    FragmentSerializer,
    FragmentUpdateSerializer,
    NoInputSerializer,
)
from productions import selectors, services
from productions.guard import Actor, actor_for_user
from productions.models import CreativeFragment

ApprovalService = Callable[..., int]


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

    serializer_class = FragmentSerializer
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

    def _actor(self) -> Actor:
        return actor_for_user(self.request.user)

    def _output(self, fragment_id: UUID) -> dict[str, Any]:
        fragment = selectors.fragment_get(
            user=self.request.user, fragment_id=fragment_id
        )
        return FragmentSerializer(fragment).data

    @extend_schema(
        request=FragmentCreateSerializer, responses={201: FragmentSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The service checks the cut against the master's duration (400 on end_time).
        data = FragmentCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        try:
            production = selectors.production_get(
                user=request.user, production_id=values.pop("master_creative")
            )
        except Http404 as exc:  # a payload field, not the path: 400 on that field
            raise serializers.ValidationError(
                {"master_creative": ["No master creative with this id."]}
            ) from exc
        fragment = services.fragment_create(
            actor=self._actor(),
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
                actor=self._actor(),
                fragment_id=fragment.pk,
                changes=dict(data.validated_data),
            )
        return Response(self._output(fragment.pk))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        fragment = self.get_object()
        services.fragment_delete(actor=self._actor(), fragment_id=fragment.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _one(self, service: ApprovalService) -> Response:
        fragment = self.get_object()
        NoInputSerializer(data=self.request.data).is_valid(raise_exception=True)
        service(actor=self._actor(), fragment_ids=[fragment.pk])
        return Response(self._output(fragment.pk))

    @extend_schema(request=None, responses={200: FragmentSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve one fragment as the requesting person (recorded with the time)."""
        return self._one(services.fragments_approve)

    @extend_schema(request=None, responses={200: FragmentSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw approval: the engine stops using the fragment."""
        return self._one(services.fragments_reject)

    def _bulk(self, request: Request, service: ApprovalService) -> Response:
        data = FragmentIdsSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        ids = data.validated_data["ids"]
        refuse_unknown_ids(
            field="ids",
            noun="fragment",
            missing=selectors.fragments_missing(user=request.user, fragment_ids=ids),
        )
        changed = service(actor=self._actor(), fragment_ids=ids)
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
