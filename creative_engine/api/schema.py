"""OpenAPI: the one error shape, documented on every operation with the codes it can give."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from creative_engine.api.fields import StrictChoiceField


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code.")
    message = serializers.CharField(help_text="What went wrong, for a person.")
    # The output key is `fields`; DRF pops declared fields off the class, so this does
    # not shadow Serializer.fields at run time (the stubs cannot know that).
    fields = serializers.DictField(  # type: ignore[assignment]
        required=False,
        help_text="Validation errors by field (nested for nested input).",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


_DESCRIPTIONS = {
    "400": "Malformed JSON, JSON nested deeper than API_MAX_JSON_DEPTH, text with NUL "
    "or lone surrogates, wrong types (no coercion) or values (field messages in "
    "`fields`).",
    "401": "No or invalid credentials.",
    "403": "Authenticated without the `admin` or `manager` role (or the action needs "
    "`admin`).",
    "404": "No such object (or, on a list, no such page).",
    "409": "Refused: a human rule or the object's state forbids it.",
    "413": "The body is larger than API_MAX_BODY_BYTES.",
    "429": "Too many requests.",
    "502": "Meta did not complete the request (its message is passed on).",
}


class EngineAutoSchema(AutoSchema):
    """Adds the error responses every operation can give, in the one error shape (the
    project's DEFAULT_SCHEMA_CLASS, so every view has it).

    401/403/429 everywhere (roles are denied by default); 404 where the path names an
    object; 400 where there is input (a body or query parameters), 413 where there is
    a body; a view lists extra
    codes (409) in `error_codes` or with `extend_schema`.
    """

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        codes = ["401", "403", "429"]
        if "{" in self.path or (self.method == "GET" and self._is_list_view()):
            codes.append("404")
        has_input = self.method in {"POST", "PUT", "PATCH"} or (
            self.method == "GET" and self._is_list_view()
        )
        if has_input:
            codes.append("400")
        if self.method in {"POST", "PUT", "PATCH"}:
            codes.append("413")
        codes += [
            str(c)
            for c in getattr(self.view, "error_codes", {}).get(self.method.lower(), ())
        ]
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    error_response(_DESCRIPTIONS.get(code, "Error.")),
                    code,
                    direction=direction,  # type: ignore[arg-type]
                )
        return responses


_NAMED_CHOICE_FIELDS: dict[str, type[serializers.ChoiceField]] = {}


def named_choice_field(
    component_name: str, choices: Any, **kwargs: Any
) -> serializers.ChoiceField:
    """A choice field whose enum is one named schema component wherever it appears.

    drf-spectacular names enums after the field; two different `status` sets (variants,
    runs) or one set under two names (`narrative_structure`, `best_for_structure`) would
    otherwise give ambiguous names and warnings.
    """
    field_class = _NAMED_CHOICE_FIELDS.get(component_name)
    if field_class is None:
        values = [value for value, _label in choices]
        if kwargs.get("allow_blank"):
            values.append("")
        field_class = extend_schema_field(
            {"type": "string", "enum": values}, component_name=component_name
        )(type(f"{component_name}Field", (StrictChoiceField,), {}))
        _NAMED_CHOICE_FIELDS[component_name] = field_class
    return field_class(choices=choices, **kwargs)
