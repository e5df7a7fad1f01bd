"""Generated variants of a master: the plan, the rendered file, the Meta ids, the lifecycle."""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from productions.choices import NarrativeStructure
from productions.models import CreativeProduction, engine_mode_field
from productions.validators import validate_string_list
from variants.choices import (
    AspectRatio,
    DurationCategory,
    UploadStatus,
    VariantStatus,
    VariantType,
)
from variants.naming import variant_display_name


class CreativeVariant(models.Model):
    """One ad variant: its own ad with its own video (dynamic creative only reports sums)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    parent = models.ForeignKey(
        CreativeProduction, on_delete=models.PROTECT, related_name="variants"
    )
    batch_number = models.PositiveIntegerField(
        default=1,
        help_text="Which generation batch of this master the variant belongs to.",
    )
    variant_number = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(15)]
    )
    variant_type = models.CharField(max_length=24, choices=VariantType.choices)
    narrative_structure = models.CharField(
        max_length=16, choices=NarrativeStructure.choices
    )
    fragments_order = models.JSONField(
        default=list,
        help_text="Slots in order: fragment id, fragment type, in/out seconds in the master.",
    )
    caption = models.TextField(blank=True)
    hashtags = models.JSONField(
        default=list, blank=True, validators=[validate_string_list]
    )
    text_overlay = models.CharField(max_length=200, blank=True)
    color_look = models.CharField(max_length=40, blank=True)
    aspect_ratio = models.CharField(
        max_length=4, choices=AspectRatio.choices, default=AspectRatio.VERTICAL
    )
    pixel_id = models.CharField(max_length=32, blank=True)
    duration_seconds = models.FloatField(validators=[MinValueValidator(1.0)])
    duration_category = models.CharField(max_length=8, choices=DurationCategory.choices)
    estimated_score = models.FloatField(default=0.0)
    confidence = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    actual_performance = models.JSONField(
        default=dict,
        blank=True,
        help_text="Measured totals, refreshed from insights.",
    )
    plan_seed = models.BigIntegerField(default=0)
    plan_details = models.JSONField(
        default=dict, blank=True, help_text="Why the planner chose this variant."
    )
    refreshed_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="refreshes",
    )

    # Rendering
    video_file = models.FileField(
        upload_to="variants/%Y/%m/", max_length=500, blank=True
    )
    poster_file = models.FileField(
        upload_to="variants/%Y/%m/", max_length=500, blank=True
    )
    video_checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256.")
    probed_duration = models.FloatField(null=True, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    # Meta
    meta_video_id = models.CharField(max_length=64, blank=True)
    meta_image_hash = models.CharField(max_length=64, blank=True)
    meta_creative_id = models.CharField(max_length=64, blank=True)
    meta_ad_id = models.CharField(max_length=64, blank=True)
    meta_object_key = models.CharField(
        max_length=80,
        blank=True,
        db_index=True,  # the stub market finds a video's variant by it
        help_text="Deterministic name prefix of this variant's Meta objects (dedupe key).",
    )
    meta_ad_status = models.CharField(
        max_length=12,
        blank=True,
        help_text="The status we last set on the Meta ad (ads are created PAUSED).",
    )
    upload_status = models.CharField(
        max_length=20, choices=UploadStatus.choices, default=UploadStatus.NOT_UPLOADED
    )
    uploaded_at = models.DateTimeField(null=True, blank=True)
    # The winner's second ad: the same creative in the scaling ad set.
    scaling_ad_id = models.CharField(max_length=64, blank=True)
    scaling_adset_id = models.CharField(max_length=64, blank=True)
    scaling_ad_status = models.CharField(max_length=12, blank=True)
    campaign_id = models.CharField(max_length=64, blank=True)
    adset_id = models.CharField(max_length=64, blank=True)

    # Work in flight (variants.services.work): who holds the render/upload, until when
    # (renewed by a heartbeat), and the one message queued for the variant's next work.
    lease_holder = models.CharField(
        max_length=200, blank=True, help_text="host:pid:task of the worker on it."
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    dispatch_token = models.CharField(
        max_length=40,
        blank=True,
        help_text="Id of the one message sent for the variant's next work.",
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)

    # Lifecycle
    status = models.CharField(
        max_length=12, choices=VariantStatus.choices, default=VariantStatus.DRAFT
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    days_active = models.PositiveIntegerField(default=0)
    is_fatigued = models.BooleanField(default=False)
    fatigue_score = models.FloatField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    generated_at = models.DateTimeField(auto_now_add=True)
    mode = engine_mode_field()

    class Meta:
        db_table = "meta_creative_variants"
        ordering = ["parent", "-batch_number", "variant_number"]
        indexes = [
            models.Index(fields=["parent", "status"], name="var_parent_status_idx"),
            models.Index(
                fields=["status", "status_changed_at"], name="var_status_changed_idx"
            ),
            models.Index(fields=["narrative_structure"], name="var_structure_idx"),
            models.Index(fields=["duration_category"], name="var_duration_cat_idx"),
            models.Index(
                fields=["campaign_id", "status"], name="var_campaign_status_idx"
            ),
            models.Index(fields=["adset_id"], name="var_adset_idx"),
            models.Index(fields=["meta_ad_id"], name="var_meta_ad_idx"),
            # Covers the running-ads count, read before every upload's claim and ad:
            # counted from the index alone, without reading the wide rows.
            models.Index(fields=["status", "meta_ad_id"], name="var_status_ad_idx"),
            models.Index(fields=["upload_status"], name="var_upload_status_idx"),
            models.Index(fields=["is_fatigued", "status"], name="var_fatigued_idx"),
            models.Index(fields=["-generated_at"], name="var_generated_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "batch_number", "variant_number"],
                name="var_unique_number_per_batch",
                violation_error_message=(
                    "This master already has a variant with this number in this batch."
                ),
            ),
            models.CheckConstraint(
                condition=Q(variant_number__gte=1) & Q(variant_number__lte=15),
                name="var_number_1_to_15",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VariantStatus.values), name="var_status_known"
            ),
            models.CheckConstraint(
                condition=Q(narrative_structure__in=NarrativeStructure.values),
                name="var_structure_known",
            ),
            models.CheckConstraint(
                condition=Q(duration_category__in=DurationCategory.values),
                name="var_duration_category_known",
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=1),
                name="var_confidence_0_1",
            ),
            # One Meta ad per variant, ever: the database refuses a second variant row
            # claiming the same ad.
            models.UniqueConstraint(
                fields=["meta_ad_id"],
                condition=~Q(meta_ad_id=""),
                name="var_unique_meta_ad",
            ),
        ]

    def __str__(self) -> str:
        # Pages listing variants select_related("parent"), so the title costs no query.
        return variant_display_name(
            master_title=self.parent.title,
            batch_number=self.batch_number,
            variant_number=self.variant_number,
            structure=self.narrative_structure,
            duration_seconds=self.duration_seconds,
            look=self.color_look,
        )
