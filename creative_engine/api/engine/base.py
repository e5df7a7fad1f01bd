"""What every engine endpoint shares: the server-mode rule and the path parameters
(the error responses of the schema are every view's, `EngineAutoSchema`)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers


def mode_must_match(value: str | None) -> str | None:
    if value is not None and value != settings.CREATIVE_ENGINE_MODE:
        raise serializers.ValidationError(
            f"This server runs in {settings.CREATIVE_ENGINE_MODE!r} mode; the mode is "
            "set by CREATIVE_ENGINE_MODE on the server, not per request."
        )
    return value


def uuid_path_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.UUID, OpenApiParameter.PATH, description=description
    )
