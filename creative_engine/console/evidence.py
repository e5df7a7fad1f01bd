"""Evidence: what the engine did on Meta (PromotionLog) and what Meta measured
(VariantDailyMetric). Read-only; every row reads as an outcome and a reason."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import URLPattern, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from unfold.decorators import display

from creative_engine.console.leaderboards import leaderboard_urls
from creative_engine.console.pages import badge, fieldset_fields
from productions.admin_permissions import EvidenceAdmin
from promotion.decision_story import (
    OUTCOME_LABELS,
    action_for_log,
    action_label,
    decision_numbers,
    decision_reason,
    log_outcome,
)
from promotion.delivery import DeliveryTotals
from promotion.models import PromotionLog, VariantDailyMetric

REASON_MAX_CHARS = 140
OUTCOME_BADGES = {
    "succeeded": "success",
    "failed": "danger",
    "refused": "warning",
    "pending": "info",
}


def _variant_link(variant: Model | None) -> str:
    if variant is None:
        return "—"
    url = reverse("admin:variants_creativevariant_change", args=[variant.pk])
    return format_html('<a href="{}" class="text-primary-600">{}</a>', url, variant)


def log_reason(log: PromotionLog) -> str:
    """Why, in a sentence: the decision's story, or the error for a failure."""
    outcome = _outcome(log)
    details = log.decision_details if isinstance(log.decision_details, dict) else {}
    if outcome in {"failed", "refused"}:
        return log.error_message or "(no message recorded)"
    action = str(details.get("action") or "") or action_for_log(
        log.promotion_type, log.operation
    )
    because = decision_reason(action, details, reason=log.error_message)
    if because:
        return f"{action_label(action)}: {because}"
    if "call" in details:
        return f"Meta call {log.operation.replace('_', ' ')}: done"
    return action_label(action)


def _outcome(log: PromotionLog) -> str:
    return log_outcome(
        promotion_status=log.promotion_status,
        success=log.success,
        operation=log.operation,
    )


def _numbers_table(details: Any) -> SafeString:
    rows = decision_numbers(details if isinstance(details, dict) else {})
    return SafeString(render_to_string("console/evidence_numbers.html", {"rows": rows}))


@admin.register(PromotionLog)
class PromotionLogAdmin(EvidenceAdmin):
    list_display = (
        "created_at",
        "promotion_type",
        "operation",
        "variant_name",
        "outcome",
        "reason",
        "budget_allocated",
    )
    list_filter = (
        "created_at",
        "promotion_type",
        "promotion_status",
        "success",
        "promoted_by",
        "mode",
    )
    search_fields = ("meta_ad_id", "meta_creative_id", "adset_id", "error_message")
    list_select_related = ("variant__parent",)
    # The log grows with every cycle: a date filter (today, 7 days, this month) rather
    # than a date hierarchy, whose links are a scan of every row's day; 50 rows a page.
    list_per_page = 50
    fieldsets = (
        (
            "What happened",
            {
                "fields": (
                    "outcome",
                    "reason",
                    "variant_name",
                    "run_link",
                    "promotion_type",
                    "operation",
                    "promoted_by",
                    "created_at",
                    "completed_timestamp",
                )
            },
        ),
        ("The numbers behind it", {"fields": ("decision_table",)}),
        (
            "On Meta",
            {
                "fields": (
                    "meta_ad_id",
                    "meta_creative_id",
                    "meta_campaign_id",
                    "adset_id",
                    "budget_allocated",
                    "error_code",
                    "error_subcode",
                    "attempt",
                    "targeting_table",
                    "mode",
                )
            },
        ),
    )
    readonly_fields = fieldset_fields(fieldsets)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("variant__parent", "run")

    @display(description="Outcome")
    def outcome(self, log: PromotionLog) -> SafeString:
        key = _outcome(log)
        return badge(OUTCOME_LABELS[key], OUTCOME_BADGES[key])

    @display(description="Reason")
    def reason(self, log: PromotionLog) -> str:
        return Truncator(log_reason(log)).chars(REASON_MAX_CHARS)

    @display(description="Variant", ordering="variant__parent__title")
    def variant_name(self, log: PromotionLog) -> str:
        return _variant_link(log.variant)

    @display(description="Cycle run")
    def run_link(self, log: PromotionLog) -> str:
        if log.run is None:
            return "—"
        url = reverse("admin:creative_engine_cyclerun_change", args=[log.run.pk])
        return format_html('<a href="{}" class="text-primary-600">{}</a>', url, log.run)

    @display(description="Decision details")
    def decision_table(self, log: PromotionLog) -> SafeString:
        return _numbers_table(log.decision_details)

    @display(description="Targeting")
    def targeting_table(self, log: PromotionLog) -> SafeString:
        return _numbers_table(log.targeting_details)


@admin.register(VariantDailyMetric)
class VariantDailyMetricAdmin(EvidenceAdmin):
    list_display = (
        "variant_name",
        "date",
        "impressions",
        "clicks",
        "ctr",
        "conversions",
        "cvr",
        "spend",
        "revenue",
        "roas",
        "frequency",
    )
    list_filter = ("date",)
    search_fields = ("variant__meta_ad_id", "variant__parent__title")
    list_select_related = ("variant__parent",)
    # Newest day first, on the date index: the model's ordering (by variant) follows
    # the variant's and the master's orderings, a sort of every row over two joins.
    ordering = ("-date", "-id")
    # unfold renders a row's cells at a cost per column and row; 50 rows keep the page
    # quick, and the date filter replaces a date hierarchy (a scan of every row).
    list_per_page = 50
    list_before_template = "console/evidence_metrics_links.html"
    readonly_fields = ("variant_name",)
    exclude = ("variant",)

    def get_urls(self) -> list[URLPattern]:
        return [*leaderboard_urls(self), *super().get_urls()]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("variant__parent")

    @display(description="Variant", ordering="variant__parent__title")
    def variant_name(self, metric: VariantDailyMetric) -> str:
        return _variant_link(metric.variant)

    @display(description="CTR")
    def ctr(self, metric: VariantDailyMetric) -> str:
        rate = DeliveryTotals.of_row(metric).ctr
        return "—" if rate is None else f"{rate * 100:.2f}\u00a0%"

    @display(description="CVR")
    def cvr(self, metric: VariantDailyMetric) -> str:
        rate = DeliveryTotals.of_row(metric).cvr
        return "—" if rate is None else f"{rate * 100:.2f}\u00a0%"

    @display(description="ROAS")
    def roas(self, metric: VariantDailyMetric) -> str:
        value = DeliveryTotals.of_row(metric).roas
        return "—" if value is None else f"{value:.2f}×"
