"""Shape checks for the JSON that humans type into the admin or the API."""

import re
from typing import Any

from django.core.exceptions import ValidationError

PIXEL_ID_PATTERN = re.compile(r"^\d{5,20}$")
HASHTAG_PATTERN = re.compile(r"^#?[^\s#]{1,100}$")
LUT_NAME_PATTERN = re.compile(r"^[a-z0-9_\-]{1,40}$")

STYLE_GUIDE_STRING_KEYS = {
    "tone",
    "aesthetic_reference",
    "font_style",
    "music_style",
    "cta_text",
    "link_url",  # where the ad's call to action leads
    "cta_type",  # Meta's call_to_action.type, e.g. LEARN_MORE
}
STYLE_GUIDE_LIST_KEYS = {
    "vibes",
    "color_palette",
    "hashtags",
    "banned_words",
    "required_phrases",
}
STYLE_GUIDE_KEYS = (
    STYLE_GUIDE_STRING_KEYS
    | STYLE_GUIDE_LIST_KEYS
    | {
        "max_caption_length",
        "luts",
    }
)


def validate_pixel_ids(value: Any) -> None:
    """Meta pixel ids are digit strings; a list, no duplicates."""
    if not isinstance(value, list):
        raise ValidationError("Authorized pixels must be a JSON list of pixel ids.")
    for pixel in value:
        if not isinstance(pixel, str) or not PIXEL_ID_PATTERN.match(pixel):
            raise ValidationError(
                "Pixel id %(pixel)r is not valid: use the pixel's digits as a string.",
                params={"pixel": pixel},
            )
    if len(set(value)) != len(value):
        raise ValidationError("Authorized pixels contain a duplicate.")


def validate_subgenres(value: Any) -> None:
    if not isinstance(value, list):
        raise ValidationError("Authorized subgenres must be a JSON list of names.")
    for name in value:
        if not isinstance(name, str) or not name.strip() or len(name) > 60:
            raise ValidationError(
                "Subgenre %(name)r is not valid: a non-empty name of at most 60 characters.",
                params={"name": name},
            )
    if len({n.strip().lower() for n in value}) != len(value):
        raise ValidationError("Authorized subgenres contain a duplicate.")


def validate_string_list(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Expected a JSON list of strings.")


def validate_style_guide(value: Any) -> None:
    """The style guide keys of DESIGN.md, each with its type; unknown keys are refused."""
    if not isinstance(value, dict):
        raise ValidationError("The style guide must be a JSON object.")
    errors: list[str] = []
    unknown = sorted(set(value) - STYLE_GUIDE_KEYS)
    if unknown:
        errors.append(
            f"Unknown style guide keys: {', '.join(unknown)}. "
            f"Allowed: {', '.join(sorted(STYLE_GUIDE_KEYS))}."
        )
    for key in STYLE_GUIDE_STRING_KEYS & set(value):
        if not isinstance(value[key], str):
            errors.append(f"Style guide '{key}' must be a string.")
    for key in STYLE_GUIDE_LIST_KEYS & set(value):
        items = value[key]
        if not isinstance(items, list) or not all(
            isinstance(i, str) and i.strip() for i in items
        ):
            errors.append(f"Style guide '{key}' must be a list of non-empty strings.")
    for tag in (
        value.get("hashtags", []) if isinstance(value.get("hashtags"), list) else []
    ):
        if isinstance(tag, str) and not HASHTAG_PATTERN.match(tag):
            errors.append(f"Hashtag {tag!r} must be one word without spaces.")
    link = value.get("link_url")
    if isinstance(link, str) and link and not link.startswith(("https://", "http://")):
        errors.append("Style guide 'link_url' must be an http(s) URL.")
    cta_type = value.get("cta_type")
    if (
        isinstance(cta_type, str)
        and cta_type
        and not re.fullmatch(r"[A-Z_]{2,40}", cta_type)
    ):
        errors.append(
            "Style guide 'cta_type' must be a Meta call-to-action type like LEARN_MORE."
        )
    if "max_caption_length" in value:
        limit = value["max_caption_length"]
        if (
            not isinstance(limit, int)
            or isinstance(limit, bool)
            or not 20 <= limit <= 2200
        ):
            errors.append(
                "Style guide 'max_caption_length' must be an integer 20–2200."
            )
    if "luts" in value:
        luts = value["luts"]
        if not isinstance(luts, dict):
            errors.append("Style guide 'luts' must be an object of name → look.")
        else:
            for name, look in luts.items():
                if not LUT_NAME_PATTERN.match(str(name)):
                    errors.append(
                        f"LUT name {name!r}: lowercase letters, digits, _ or -."
                    )
                if not isinstance(look, (str, dict)):
                    errors.append(
                        f"LUT {name!r} must be a .cube path or a look object."
                    )
    if errors:
        raise ValidationError(errors)


def validate_fragment_within_master(
    *, end_time: float, master_duration: float | None
) -> None:
    """A cut must end within its master; a master of unknown length takes any cut."""
    if master_duration is not None and end_time > master_duration + 1e-6:
        raise ValidationError(
            {
                "end_time": [
                    f"The fragment ends at {end_time:.2f}s but the master is only "
                    f"{master_duration:.2f}s long."
                ]
            }
        )
