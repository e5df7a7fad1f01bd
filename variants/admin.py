"""Variants are the engine's output: staff watch them here; the engine owns every field,
so the page is read-only (no Save, a POST refused) for everyone."""

from django.contrib import admin

from productions.admin import video_player
from productions.admin_permissions import EvidenceAdmin
from variants.models import CreativeVariant


@admin.register(CreativeVariant)
class CreativeVariantAdmin(EvidenceAdmin):
    list_display = (
        "__str__",
        "parent",
        "variant_type",
        "narrative_structure",
        "duration_category",
        "duration_seconds",
        "color_look",
        "status",
        "upload_status",
        "estimated_score",
        "confidence",
        "fatigue_score",
        "meta_ad_id",
        "generated_at",
    )
    list_filter = (
        "status",
        "upload_status",
        "narrative_structure",
        "duration_category",
        "variant_type",
        "is_fatigued",
        "mode",
    )
    search_fields = ("parent__title", "meta_ad_id", "meta_creative_id", "caption")
    list_select_related = ("parent",)
    raw_id_fields = ("parent", "refreshed_from")
    date_hierarchy = "generated_at"
    readonly_fields = ("video_preview", *[f.name for f in CreativeVariant._meta.fields])

    @admin.display(description="Rendered video")
    def video_preview(self, obj: CreativeVariant) -> str:
        return video_player(obj.video_file.url if obj.video_file else "")
