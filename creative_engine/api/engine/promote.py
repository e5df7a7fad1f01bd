"""Promoting one variant on Meta by hand; the promotion log row is the answer."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from creative_engine.api.engine.base import uuid_path_parameter
from creative_engine.api.fields import (
    StrictBooleanField,
    StrictDecimalField,
    StrictRegexField,
    StrictUUIDField,
    optional_or_null,
)
from creative_engine.api.history import PromotionLogSerializer
from creative_engine.api.variants import run_refusable
from productions.guard import actor_for_user
from promotion.services.promote import variant_promote_manual
from variants import selectors as variant_selectors


def _meta_id_field(help_text: str) -> StrictRegexField:
    """An optional Meta object id (campaign, ad set): letters, digits, _ and -."""
    return StrictRegexField(
        r"^[0-9A-Za-z_\-]{1,64}$",
        required=False,
        allow_blank=True,
        default="",
        help_text=help_text,
    )


class PromoteSerializer(serializers.Serializer):
    variant_id = StrictUUIDField(
        required=False,
        help_text="SPEC.md's body field; must equal the path when given.",
    )
    campaign_id = _meta_id_field("Meta campaign (default: the master's).")
    adset_id = _meta_id_field(
        "Meta ad set (default: the master's, else the configured default)."
    )
    budget = optional_or_null(
        StrictDecimalField,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="Daily budget in the account currency; > 0.",
    )
    force = StrictBooleanField(
        required=False,
        default=False,
        help_text="Promote a variant that is not rendered or is archived. Never "
        "overrides a human rule (unapproved fragment, pixel, hashtag).",
    )

    def validate_variant_id(self, value: UUID) -> UUID:
        if str(value) != str(self.context["variant_id"]):
            raise serializers.ValidationError("Must equal the variant id in the path.")
        return value


class EnginePromoteView(APIView):
    error_codes = {"post": [409, 502]}

    @extend_schema(
        tags=["engine"],
        parameters=[uuid_path_parameter("variant_id", "The variant to promote.")],
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
