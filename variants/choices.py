"""Variant enumerations (plain string enums; pure planners may import them; labels as
in `productions.choices`)."""

from django.db import models


class VariantType(models.TextChoices):
    FRAGMENT_REORDER = "fragment_reorder", "Fragment reorder"
    CAPTION_OPTIMIZED = "caption_optimized", "Caption optimized"
    HASHTAG_VARIANT = "hashtag_variant", "Hashtag variant"
    COLOR_LUT = "color_lut", "Colour look"
    DURATION_SHORT = "duration_short", "Duration: short"
    DURATION_MEDIUM = "duration_medium", "Duration: medium"
    DURATION_LONG = "duration_long", "Duration: long"
    STRUCTURE_TEST = "structure_test", "Narrative structure test"
    REFRESH = "refresh", "Refresh of a fatigued variant"


class DurationCategory(models.TextChoices):
    SHORT = "short", "Short (5–7 s)"
    MEDIUM = "medium", "Medium (8–12 s)"
    LONG = "long", "Long (13–18 s)"


# Inclusive bounds in seconds, from SPEC.md.
DURATION_BOUNDS: dict[str, tuple[float, float]] = {
    DurationCategory.SHORT: (5.0, 7.0),
    DurationCategory.MEDIUM: (8.0, 12.0),
    DurationCategory.LONG: (13.0, 18.0),
}


class VariantStatus(models.TextChoices):
    DRAFT = "draft"
    RENDERING = "rendering"
    RENDERED = "rendered"
    UPLOADING = "uploading"
    TESTING = "testing"
    ACTIVE = "active"
    # Judged a loser: its ad is paused, not retired (a person may still promote it).
    PAUSED = "paused"
    FATIGUED = "fatigued"
    ARCHIVED = "archived"
    FAILED = "failed"


# The lifecycle of DESIGN.md; `failed` is reachable from every working state.
VARIANT_TRANSITIONS: dict[str, frozenset[str]] = {
    VariantStatus.DRAFT: frozenset(
        {VariantStatus.RENDERING, VariantStatus.FAILED, VariantStatus.ARCHIVED}
    ),
    VariantStatus.RENDERING: frozenset(
        {VariantStatus.RENDERED, VariantStatus.FAILED, VariantStatus.DRAFT}
    ),
    VariantStatus.RENDERED: frozenset(
        {VariantStatus.UPLOADING, VariantStatus.FAILED, VariantStatus.ARCHIVED}
    ),
    VariantStatus.UPLOADING: frozenset(
        {VariantStatus.TESTING, VariantStatus.FAILED, VariantStatus.RENDERED}
    ),
    VariantStatus.TESTING: frozenset(
        {
            VariantStatus.ACTIVE,
            VariantStatus.PAUSED,
            VariantStatus.FATIGUED,
            VariantStatus.ARCHIVED,
            VariantStatus.FAILED,
        }
    ),
    VariantStatus.ACTIVE: frozenset(
        {
            VariantStatus.TESTING,
            VariantStatus.PAUSED,
            VariantStatus.FATIGUED,
            VariantStatus.ARCHIVED,
            VariantStatus.FAILED,
        }
    ),
    # A paused loser is promoted again only by a person, or retired by one.
    VariantStatus.PAUSED: frozenset(
        {VariantStatus.ACTIVE, VariantStatus.ARCHIVED, VariantStatus.FAILED}
    ),
    VariantStatus.FATIGUED: frozenset({VariantStatus.ARCHIVED, VariantStatus.FAILED}),
    VariantStatus.ARCHIVED: frozenset(),
    VariantStatus.FAILED: frozenset({VariantStatus.DRAFT, VariantStatus.ARCHIVED}),
}

WORKING_STATUSES = frozenset({VariantStatus.RENDERING, VariantStatus.UPLOADING})
# States a queued message (render, upload) still has work to do in.
DISPATCHABLE_STATUSES = frozenset(
    {
        VariantStatus.DRAFT,
        VariantStatus.RENDERING,
        VariantStatus.RENDERED,
        VariantStatus.UPLOADING,
    }
)
LIVE_STATUSES = frozenset({VariantStatus.TESTING, VariantStatus.ACTIVE})


class UploadStatus(models.TextChoices):
    NOT_UPLOADED = "not_uploaded", "Not uploaded"
    VIDEO_UPLOADING = "video_uploading", "Video uploading"
    VIDEO_READY = "video_ready", "Video ready"
    CREATIVE_CREATED = "creative_created", "Creative created"
    AD_CREATED = "ad_created", "Ad created"
    FAILED = "failed"


class AspectRatio(models.TextChoices):
    VERTICAL = "9:16", "9:16 (1080x1920)"
    PORTRAIT = "4:5", "4:5 (1080x1350)"
    SQUARE = "1:1", "1:1 (1080x1080)"
