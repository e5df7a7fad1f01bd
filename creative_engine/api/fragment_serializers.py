"""What goes in and out of /api/fragments/ (and a master's fragments).

Input serializers check shape only; whether a master or fragment exists for the user
is read by the view, and whether a cut fits its master by the service.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from rest_framework import serializers

from creative_engine.api.fields import (
    PublicVideoURLField,
    StrictChoiceField,
    StrictFloatField,
    StrictModelSerializer,
    StrictUUIDField,
    optional_text,
)
from creative_engine.api.schema import named_choice_field
from productions.choices import FragmentType, NarrativeStructure
from productions.models import CreativeFragment
from productions.services import FRAGMENT_SYSTEM_FIELDS

# --- output --------------------------------------------------------------------------


class FragmentSerializer(StrictModelSerializer):
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
            *FRAGMENT_SYSTEM_FIELDS,
            "created_at",
        ]
        read_only_fields = fields


class FragmentsChangedSerializer(serializers.Serializer):
    changed = serializers.IntegerField(
        help_text="How many fragments changed (already approved/rejected ones are "
        "skipped)."
    )
    fragments = FragmentSerializer(many=True)


# --- input ---------------------------------------------------------------------------


class FragmentCutSerializer(serializers.Serializer):
    """A fragment as a person describes it: a typed cut of the master, in seconds."""

    fragment_type = StrictChoiceField(choices=FragmentType.choices)
    start_time = StrictFloatField(min_value=0.0, max_value=86_400.0)
    end_time = StrictFloatField(min_value=0.0, max_value=86_400.0)
    # A declared field named like Field.label: DRF pops it off the class, stubs object.
    label = optional_text(120)  # type: ignore[assignment]
    video_url = PublicVideoURLField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("start_time", getattr(self.instance, "start_time", None))
        end = attrs.get("end_time", getattr(self.instance, "end_time", None))
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError(
                {"end_time": ["The fragment must end after it starts."]}
            )
        return attrs


class FragmentCreateSerializer(FragmentCutSerializer):
    master_creative = StrictUUIDField()


class FragmentUpdateSerializer(FragmentCutSerializer):
    """PATCH: any of the cut's fields; changing the cut withdraws its approval."""


class NoInputSerializer(serializers.Serializer):
    """An action that takes no input still reads its body: empty or a JSON object,
    so a malformed or hostile one is refused before the action runs."""


class FragmentIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(child=StrictUUIDField(), min_length=1, max_length=500)

    def validate_ids(self, value: list[UUID]) -> list[UUID]:
        return list(dict.fromkeys(value))
