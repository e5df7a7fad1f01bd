"""What goes in and out of /api/productions/.

Fields the engine owns (counters, the approved-set snapshot, performance, approval)
are output-only, so a payload that carries them changes nothing. An uploaded file is
probed once, by `productions.uploads`, which also supplies its duration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from creative_engine.api.fields import (
    PublicVideoURLField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictFloatField,
    StrictJSONField,
    StrictModelSerializer,
    optional_or_null,
    optional_text,
)
from creative_engine.api.fragment_serializers import (
    FragmentCutSerializer,
    FragmentSerializer,
)
from productions.choices import Objective
from productions.models import CreativeProduction
from productions.services import MASTER_EDITABLE_FIELDS
from productions.uploads import uploaded_master_duration
from productions.validators import (
    validate_fragment_within_master,
    validate_pixel_ids,
    validate_style_guide,
    validate_subgenres,
)

ADMIN_ONLY = "Admin role only."

# --- output --------------------------------------------------------------------------


class ProductionSerializer(StrictModelSerializer):
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
            *MASTER_EDITABLE_FIELDS,
            "mode",
            "total_variants_generated",
            "approved_fragments",
            "fragments",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- input ---------------------------------------------------------------------------


def _name_list(
    *, max_name_length: int, validator: Callable[[Any], None]
) -> serializers.ListField:
    """Pixels or subgenres: a list of names only the admin role may set."""
    return serializers.ListField(
        child=StrictCharField(max_length=max_name_length),
        max_length=100,
        required=False,
        default=list,
        validators=[validator],
        help_text=ADMIN_ONLY,
    )


class ProductionInputSerializer(serializers.Serializer):
    """What a person may set on a master. Anything else in the payload is ignored."""

    title = StrictCharField(max_length=200)
    video_url = PublicVideoURLField()
    video_file = optional_or_null(serializers.FileField, max_length=500)
    duration = optional_or_null(
        StrictFloatField,
        min_value=1.0,
        max_value=86_400.0,
        help_text="Seconds; probed from an uploaded file when omitted.",
    )
    authorized_pixels = _name_list(max_name_length=20, validator=validate_pixel_ids)
    authorized_subgenres = _name_list(max_name_length=60, validator=validate_subgenres)
    genre = optional_text(60, help_text=ADMIN_ONLY)
    style_guide = StrictJSONField(
        required=False, default=dict, validators=[validate_style_guide]
    )
    human_instructions = optional_text(10_000)
    campaign_id = optional_text(64)
    adset_id = optional_text(64, help_text="The testing ad set (else the default).")
    scaling_adset_id = optional_text(
        64, help_text="The ad set winners graduate into (else the default)."
    )
    objective = StrictChoiceField(
        choices=[("", "Automatic"), *Objective.choices],
        required=False,
        default="",
        help_text=(
            "What every decision judges by: roas, cpa or ctr; blank: ROAS when the "
            "pixel reports revenue, else CPA."
        ),
    )
    is_active = StrictBooleanField(required=False, default=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        upload = attrs.get("video_file")
        if upload:  # the one probe of this request; refuses a corrupt upload
            attrs["duration"] = uploaded_master_duration(
                upload, declared=attrs.get("duration")
            )
        return attrs


class ProductionCreateSerializer(ProductionInputSerializer):
    fragments = FragmentCutSerializer(many=True, required=False, default=list)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read per request, so the setting is the one in force; counted before any
        # cut is validated.
        limit = settings.API_MAX_NESTED_FRAGMENTS
        cuts = self.fields["fragments"]
        cuts.max_length = limit  # type: ignore[attr-defined]
        cuts.error_messages["max_length"] = (
            f"At most {limit} fragments may be created with their master in one "
            "request (API_MAX_NESTED_FRAGMENTS); add more under /api/fragments/."
        )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not attrs.get("video_url") and not attrs.get("video_file"):
            raise serializers.ValidationError(
                {"video_url": ["Give a video URL or upload a video_file."]}
            )
        errors = [
            _fragment_fit_errors(f["end_time"], attrs.get("duration"))
            for f in attrs["fragments"]
        ]
        if any(errors):
            raise serializers.ValidationError({"fragments": errors})
        return attrs


def _fragment_fit_errors(end_time: float, duration: float | None) -> dict[str, Any]:
    try:
        validate_fragment_within_master(end_time=end_time, master_duration=duration)
    except DjangoValidationError as exc:
        return exc.message_dict
    return {}


class ProductionUpdateSerializer(ProductionInputSerializer):
    """PATCH: only the fields sent are changed."""
