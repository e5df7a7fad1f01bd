"""The Advantage+ creative-enhancement opt-out, one list for both clients.

Advantage+ can silently alter approved creative (AI rewrites, crops, music), so every
creative we create opts out of each enhancement explicitly
(`degrees_of_freedom_spec.creative_features_spec`): what runs is what humans approved.
The Graph client sends this spec and the stub records it, so stub mode exercises the
exact opt-out Meta receives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Every Advantage+ creative feature the pinned Marketing API knows
# (AdCreativeFeaturesSpec of facebook-business 26.0.3), each sent as OPT_OUT so
# what runs is what humans approved. The two bundles are left out: Meta rejects
# `standard_enhancements` since v22 (subcode 3858504) and asks for the
# individual features instead, which are all here. A test keeps this list equal
# to the SDK's, so a version bump that adds a feature fails until it is added.
ADVANTAGE_CREATIVE_FEATURES: tuple[str, ...] = (
    "adapt_to_placement",
    "add_text_overlay",
    "ads_with_benefits",
    "advantage_plus_creative",
    "app_highlights",
    "audio",
    "auto_promotion_tag",
    "biz_ai",
    "carousel_to_video",
    "catalog_feed_tag",
    "creative_stickers",
    "customize_product_recommendation",
    "cv_transformation",
    "description_automation",
    "dha_optimization",
    "dynamic_cta_text",
    "dynamic_partner_content",
    "enable_ncs_testimonials",
    "enhance_cta",
    "fb_feed_tag",
    "fb_reels_tag",
    "fb_story_tag",
    "feed_caption_optimization",
    "generate_cta",
    "hide_price",
    "hyperlink_formatting",
    "ig_feed_tag",
    "ig_glados_feed",
    "ig_reels_tag",
    "ig_stream_tag",
    "ig_video_native_subtitle",
    "image_animation",
    "image_auto_crop",
    "image_background_gen",
    "image_banner",
    "image_brightness_and_contrast",
    "image_end_card",
    "image_enhancement",
    "image_templates",
    "image_text_translation",
    "image_touchups",
    "image_uncrop",
    "inline_comment",
    "local_store_extension",
    "media_liquidity_animated_image",
    "media_order",
    "media_type_automation",
    "multi_creative_post_carousel",
    "multi_photo_to_video",
    "music_generation",
    "pac_genai_recomposition",
    "pac_recomposition",
    "pac_relaxation",
    "product_browsing",
    "product_extensions",
    "product_metadata_automation",
    "product_tags",
    "profile_card",
    "profile_extension",
    "replace_media_text",
    "reveal_details_over_time",
    "show_destination_blurbs",
    "show_summary",
    "site_extensions",
    "text_extraction_for_headline",
    "text_extraction_for_tap_target",
    "text_formatting_optimization",
    "text_generation",
    "text_optimizations",
    "text_overlay_translation",
    "text_translation",
    "translate_voiceover",
    "video_auto_crop",
    "video_filtering",
    "video_highlight",
    "video_highlights",
    "video_to_image",
    "video_uncrop",
    "video_uncrop_9x16_to_9x18",
    "video_voiceover",
    "wa_mm_image_filtering",
    "wa_mm_text_truncation_length",
)
EXCLUDED_FEATURE_BUNDLES = frozenset(
    {"standard_enhancements", "standard_enhancements_catalog"}
)


def opt_out_spec(
    features: Sequence[str] = ADVANTAGE_CREATIVE_FEATURES,
) -> dict[str, Any]:
    """`degrees_of_freedom_spec` that opts out of every listed feature."""
    return {
        "creative_features_spec": {f: {"enroll_status": "OPT_OUT"} for f in features}
    }
