"""What the engine did on Meta (PromotionLog, one row per call) and what Meta measured."""

import uuid

from django.db import models
from django.db.models import Q

from productions.choices import EngineMode
from promotion.choices import PromotedBy, PromotionStatus, PromotionType
from variants.models import CreativeVariant


def _empty_dict() -> dict:
    return {}


class PromotionLog(models.Model):
    """One row per call to Meta (or per decision): success, or the error Meta gave."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    variant = models.ForeignKey(
        CreativeVariant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="promotion_logs",
    )
    run = models.ForeignKey(
        "creative_engine.CycleRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="promotion_logs",
    )
    promotion_type = models.CharField(max_length=12, choices=PromotionType.choices)
    operation = models.CharField(
        max_length=40,
        blank=True,
        help_text="The Meta call, e.g. create_ad, update_budget.",
    )
    meta_creative_id = models.CharField(max_length=64, blank=True)
    meta_ad_id = models.CharField(max_length=64, blank=True)
    meta_campaign_id = models.CharField(max_length=64, blank=True)
    campaign_id = models.CharField(max_length=64, blank=True)
    adset_id = models.CharField(max_length=64, blank=True)
    promotion_status = models.CharField(
        max_length=12, choices=PromotionStatus.choices, default=PromotionStatus.PENDING
    )
    upload_timestamp = models.DateTimeField(null=True, blank=True)
    completed_timestamp = models.DateTimeField(null=True, blank=True)
    success = models.BooleanField(default=False)
    error_message = models.TextField(blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_subcode = models.CharField(max_length=32, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    budget_allocated = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    targeting_details = models.JSONField(default=_empty_dict, blank=True)
    decision_details = models.JSONField(
        default=_empty_dict, blank=True, help_text="The numbers behind a decision."
    )
    promoted_by = models.CharField(
        max_length=12, choices=PromotedBy.choices, default=PromotedBy.SCHEDULER
    )
    mode = models.CharField(
        max_length=8, choices=EngineMode.choices, default=EngineMode.STUB
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "meta_creative_promotion_logs"
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["variant", "-created_at"], name="plog_variant_created_idx"
            ),
            models.Index(fields=["run", "-created_at"], name="plog_run_created_idx"),
            models.Index(
                fields=["promotion_type", "-created_at"], name="plog_type_created_idx"
            ),
            models.Index(fields=["promotion_status"], name="plog_status_idx"),
            models.Index(
                fields=["success", "-created_at"], name="plog_success_created_idx"
            ),
            models.Index(fields=["meta_ad_id"], name="plog_meta_ad_idx"),
            models.Index(
                fields=["adset_id", "-created_at"], name="plog_adset_created_idx"
            ),
            models.Index(fields=["campaign_id"], name="plog_campaign_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget_allocated__isnull=True) | Q(budget_allocated__gte=0),
                name="plog_budget_nonneg",
            ),
        ]

    def __str__(self) -> str:
        outcome = "ok" if self.success else (self.error_code or self.promotion_status)
        return f"{self.operation or self.promotion_type} {outcome}"


class VariantDailyMetric(models.Model):
    """One day of Meta insights for one variant's ad; late corrections overwrite."""

    id = models.BigAutoField(primary_key=True)
    variant = models.ForeignKey(
        CreativeVariant, on_delete=models.CASCADE, related_name="daily_metrics"
    )
    date = models.DateField()
    impressions = models.PositiveIntegerField(default=0)
    reach = models.PositiveIntegerField(default=0)
    frequency = models.FloatField(default=0.0)
    clicks = models.PositiveIntegerField(default=0)
    spend = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    conversions = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    video_plays = models.PositiveIntegerField(default=0)
    video_p25 = models.PositiveIntegerField(default=0)
    video_p50 = models.PositiveIntegerField(default=0)
    video_p75 = models.PositiveIntegerField(default=0)
    video_p100 = models.PositiveIntegerField(default=0)
    video_avg_watch_seconds = models.FloatField(default=0.0)
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "meta_creative_variant_daily_metrics"
        ordering = ["variant", "date"]
        indexes = [models.Index(fields=["date"], name="metric_date_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "date"], name="metric_one_row_per_day"
            ),
            models.CheckConstraint(
                condition=Q(clicks__lte=models.F("impressions")) | Q(impressions=0),
                name="metric_clicks_le_impressions",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id} {self.date}"
