"""What the engine did on Meta and what Meta measured: read-only evidence."""

from django.contrib import admin

from productions.admin_permissions import EvidenceAdmin
from promotion.models import PromotionLog, VariantDailyMetric


@admin.register(PromotionLog)
class PromotionLogAdmin(EvidenceAdmin):
    list_display = (
        "created_at",
        "promotion_type",
        "operation",
        "variant",
        "promotion_status",
        "success",
        "error_code",
        "error_subcode",
        "budget_allocated",
        "meta_ad_id",
        "promoted_by",
        "mode",
    )
    list_filter = (
        "promotion_type",
        "promotion_status",
        "success",
        "promoted_by",
        "mode",
    )
    search_fields = ("meta_ad_id", "meta_creative_id", "adset_id", "error_message")
    list_select_related = ("variant",)
    raw_id_fields = ("variant", "run")
    date_hierarchy = "created_at"


@admin.register(VariantDailyMetric)
class VariantDailyMetricAdmin(EvidenceAdmin):
    list_display = (
        "variant",
        "date",
        "impressions",
        "clicks",
        "conversions",
        "spend",
        "revenue",
        "frequency",
    )
    list_filter = ("date",)
    search_fields = ("variant__meta_ad_id",)
    list_select_related = ("variant",)
    raw_id_fields = ("variant",)
    date_hierarchy = "date"
