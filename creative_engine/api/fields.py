"""Input fields that mean the same wherever they appear, declared once.

Strict types: DRF's fields coerce (a title `5` becomes "5", a duration `true` becomes
1.0, a UUID `5` becomes 00000000-…-0005). The `Strict*` fields take a JSON value
only as its own type, and every input serializer of the API uses them (a test walks
them all). A multipart form carries text only, so a value that came from a form field
(marked `FormText` by `get_value`) may still be a number written as text ("12.5"),
parsed as the JSON number would be; booleans are never numbers either way (`true`
is not a valid number in a form, and only "true"/"false" are booleans there).
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers
from rest_framework.fields import empty, get_error_detail
from rest_framework.utils import html

from creative_engine.api.parsers import InvalidJSON, load_json
from productions.url_safety import validate_public_video_url

FieldT = TypeVar("FieldT", bound=serializers.Field)

# An invalid choice is echoed back in its error; never a whole megabyte of it.
_ECHO_LIMIT = 100
_FORM_INTEGER = re.compile(r"\s*[-+]?\d{1,19}\s*")
_INT64_MAX = 2**63 - 1


class FormText(str):
    """A value as a multipart form field carried it: always text."""


def json_type_name(value: Any) -> str:
    """The JSON name of a value's type, for 'expected X, got Y' messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _FormAware(serializers.Field):
    """Marks what came from a form field as `FormText`."""

    default_error_messages = {"wrong_type": "Expected {expected}, got {got}."}

    def get_value(self, dictionary: Any) -> Any:
        value = super().get_value(dictionary)
        if html.is_html_input(dictionary) and isinstance(value, str):
            return FormText(value)
        return value

    def _refuse_type(self, data: Any, expected: str) -> None:
        self.fail("wrong_type", expected=expected, got=json_type_name(data))


class _TextOnly(_FormAware):
    """Text fields: a JSON string, nothing else."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self._refuse_type(data, "a string")
        return super().to_internal_value(data)


class StrictCharField(_TextOnly, serializers.CharField):
    """Free text: a string, and always with a maximum length when it is input."""

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("max_length") is None and not kwargs.get("read_only"):
            raise TypeError("Free-text input needs a max_length.")
        super().__init__(**kwargs)


class StrictRegexField(_TextOnly, serializers.RegexField):
    """Text matching a pattern (an id of Meta's, say): a string, not a number."""


class StrictUUIDField(_TextOnly, serializers.UUIDField):
    """A UUID as its text (DRF would also take an integer as one)."""


class StrictChoiceField(_TextOnly, serializers.ChoiceField):
    """One of the choices, given as its text."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and len(data) > _ECHO_LIMIT:
            self.fail("invalid_choice", input=data[:_ECHO_LIMIT] + "…")
        return super().to_internal_value(data)


class StrictFloatField(_FormAware, serializers.FloatField):
    """A finite JSON number (not a boolean, not a string but from a form)."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float | FormText):
            self._refuse_type(data, "a number")
        try:
            value = super().to_internal_value(data)
        except OverflowError:  # an integer too large for a float
            self.fail("invalid")
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class StrictIntegerField(_FormAware, serializers.IntegerField):
    """A whole JSON number (not a boolean, a fraction or a string but from a form),
    within 64 bits whatever its own bounds (the databases' integer columns)."""

    default_error_messages = {"out_of_range": "Must be within ±(2**63 - 1)."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, FormText):
            if not _FORM_INTEGER.fullmatch(data):
                self.fail("invalid")
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self._refuse_type(data, "a whole number")
        if abs(data) > _INT64_MAX:
            self.fail("out_of_range")
        return int(super().to_internal_value(data))


class StrictDecimalField(_FormAware, serializers.DecimalField):
    """Money: a JSON number or its text ("50.00", exact), never a boolean."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self._refuse_type(data, "a number or a decimal string")
        return super().to_internal_value(data)


class StrictBooleanField(_FormAware, serializers.BooleanField):
    """true or false; in a form, the text "true" or "false". A form that leaves the
    field out gets its default (DRF would read an absent checkbox as false)."""

    default_empty_html = empty

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, FormText) and data.strip().lower() in {"true", "false"}:
            return data.strip().lower() == "true"
        if not isinstance(data, bool):
            self._refuse_type(data, "true or false")
        return data


class StrictJSONField(serializers.JSONField):
    """Any JSON value; from a form field, its text parsed by the body's rules
    (depth, NUL, surrogates, finite numbers: `creative_engine.api.parsers`)."""

    def to_internal_value(self, data: Any) -> Any:
        if getattr(data, "is_json_string", False):
            try:
                return load_json(str(data))
            except InvalidJSON as exc:
                raise serializers.ValidationError(str(exc), code=exc.code) from exc
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose generated fields are the strict ones."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.AutoField: StrictIntegerField,
        models.BigAutoField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.BooleanField: StrictBooleanField,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.DecimalField: StrictDecimalField,
        models.FloatField: StrictFloatField,
        models.UUIDField: StrictUUIDField,
        models.JSONField: StrictJSONField,
    }
    serializer_choice_field = StrictChoiceField


def optional_or_null(field_class: type[FieldT], **kwargs: Any) -> FieldT:
    """A value a client may leave out or send as null (None: the server decides)."""
    return field_class(required=False, allow_null=True, default=None, **kwargs)


def optional_text(max_length: int, **kwargs: Any) -> StrictCharField:
    """Text a client may leave out or send blank (stored as "")."""
    return StrictCharField(
        max_length=max_length, required=False, allow_blank=True, default="", **kwargs
    )


class PublicVideoURLField(_TextOnly, serializers.URLField):
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
