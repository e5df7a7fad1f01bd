"""What the engine did on Meta (PromotionLog, one row per call), what Meta measured,
and the stub mode's simulated Meta account."""

from django.db import models
from django.db.models import Q

from productions.models import (
    NewestFirstModel,
    engine_mode_field,
    newest_first_index,
)
from promotion.choices import PromotedBy, PromotionStatus, PromotionType, StubObjectKind
from variants.models import CreativeVariant


class PromotionLog(NewestFirstModel):
    """One row per call to Meta (or per decision): success, or the error Meta gave."""

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
    targeting_details = models.JSONField(default=dict, blank=True)
    decision_details = models.JSONField(
        default=dict, blank=True, help_text="The numbers behind a decision."
    )
    promoted_by = models.CharField(
        max_length=12, choices=PromotedBy.choices, default=PromotedBy.SCHEDULER
    )
    mode = engine_mode_field()

    class Meta(NewestFirstModel.Meta):
        db_table = "meta_creative_promotion_logs"
        indexes = [
            newest_first_index("variant", name="plog_variant_created_idx"),
            newest_first_index("run", name="plog_run_created_idx"),
            newest_first_index("promotion_type", name="plog_type_created_idx"),
            models.Index(fields=["promotion_status"], name="plog_status_idx"),
            newest_first_index("success", name="plog_success_created_idx"),
            models.Index(fields=["meta_ad_id"], name="plog_meta_ad_idx"),
            # An ad set's budget changes, newest first, without reading its every
            # upload and status call (`adset_budget_change_hours`). It replaces
            # (ad set, newest first): beside it, a planner without statistics costs
            # the two alike and may take the one that reads every row of the ad set.
            models.Index(
                fields=["adset_id", "operation", "-created_at"],
                name="plog_adset_op_created_idx",
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
        what = (self.operation or self.promotion_type).replace("_", " ").capitalize()
        if self.success:
            return f"{what} · succeeded"
        code = f" (error {self.error_code})" if self.error_code else ""
        return f"{what} · {self.get_promotion_status_display().lower()}{code}"


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
    # Retention: 3-second views (Graph's `video_view` action) and ThruPlays (15 s or
    # the whole video), so hook rate = views_3s / impressions and hold rate =
    # thruplays / impressions.
    video_3s_views = models.PositiveIntegerField(default=0)
    thruplays = models.PositiveIntegerField(default=0)
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


class StubMetaObject(models.Model):
    """An object on the stub's simulated Meta account (stub mode only).

    The stub keeps its "Meta" in the database so that separate processes (workers,
    `run_cycle --as-of` runs) see one market. `history` holds timestamped status and
    budget changes on the stub's clock; the market simulator replays it.
    """

    id = models.BigAutoField(primary_key=True)
    seed = models.BigIntegerField(help_text="Each seed is a separate stub account.")
    kind = models.CharField(max_length=8, choices=StubObjectKind.choices)
    meta_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    parent_meta_id = models.CharField(
        max_length=64, blank=True, help_text="Ad: its ad set. Creative: its video."
    )
    status = models.CharField(max_length=16, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    history = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(help_text="On the stub's clock.")

    class Meta:
        db_table = "meta_creative_stub_objects"
        ordering = ["seed", "kind", "created_at", "id"]
        # The column a lookup names the object by comes right after the seed, the
        # kind (five values) last. A table without statistics yet (a fresh database,
        # autovacuum not yet run) costs every equality alike, so with (seed, kind)
        # leading every index matched a lookup equally well and PostgreSQL could
        # answer a lookup by id through the parent index, reading every ad of the
        # account: each call's cost grew with the account.
        indexes = [
            models.Index(
                fields=["seed", "name", "kind"], name="stub_seed_name_kind_idx"
            ),
            # With the name: finding an ad by name in its ad set reads one row.
            models.Index(
                fields=["seed", "parent_meta_id", "kind", "name"],
                name="stub_seed_parent_kind_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["seed", "meta_id", "kind"], name="stub_unique_meta_id"
            ),
        ]

    def __str__(self) -> str:
        return f"stub {self.kind} {self.meta_id} {self.name}"


class StubMetaAttempt(models.Model):
    """How often the stub was asked to do one named thing: its failures are drawn per
    (seed, operation, name, attempt), so a retry in another process draws afresh."""

    id = models.BigAutoField(primary_key=True)
    seed = models.BigIntegerField()
    operation = models.CharField(max_length=40)
    name = models.CharField(max_length=255)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "meta_creative_stub_attempts"
        constraints = [
            models.UniqueConstraint(
                fields=["seed", "operation", "name"], name="stub_attempt_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.name}: {self.attempts}"
