"""Input fields that mean the same wherever they appear, declared once."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from productions.url_safety import validate_public_video_url

FieldT = TypeVar("FieldT", bound=serializers.Field)


def optional_or_null(field_class: type[FieldT], **kwargs: Any) -> FieldT:
    """A value a client may leave out or send as null (None: the server decides)."""
    return field_class(required=False, allow_null=True, default=None, **kwargs)


def optional_text(max_length: int, **kwargs: Any) -> serializers.CharField:
    """Text a client may leave out or send blank (stored as "")."""
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, default="", **kwargs
    )


class PublicVideoURLField(serializers.URLField):
    """An optional video URL that a worker may fetch: once the URL is well formed,
    `productions.url_safety` refuses private, loopback, metadata and other hosts."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            **{
                "max_length": 1000,
                "required": False,
                "allow_blank": True,
                "default": "",
                **kwargs,
            }
        )

    def run_validators(self, value: Any) -> None:
        super().run_validators(value)
        try:
            validate_public_video_url(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(get_error_detail(exc)) from exc
