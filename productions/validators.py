"""Shape checks for the JSON that humans type into the admin or the API."""

import math
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from productions.looks import CUBE_SUFFIX, GRADING_RANGES, LUTS_DIRNAME, NATURAL_LOOK
from productions.url_safety import UnsafeURLError, check_url_shape

PIXEL_ID_PATTERN = re.compile(r"^\d{5,20}$")
HASHTAG_PATTERN = re.compile(r"^#?[^\s#]{1,100}$")
LUT_NAME_PATTERN = re.compile(r"^[a-z0-9_\-]{1,40}$")

# PostgreSQL stores neither NUL nor a lone UTF-16 surrogate in text or JSON (both are
# legal JSON escapes): refused as they arrive instead of a DataError at save.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_UNSTORABLE_MESSAGE = (
    "Text must not contain a NUL character (\\u0000) or a lone surrogate "
    "(\\ud800-\\udfff)."
)


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
        if (
            not isinstance(name, str)
            or not name.strip()
            or len(name) > 60
            or _UNSTORABLE.search(name)
        ):
            raise ValidationError(
                "Subgenre %(name)r is not valid: a non-empty name of at most 60 "
                "characters, without NUL or lone surrogates.",
                params={"name": name},
            )
    if len({n.strip().lower() for n in value}) != len(value):
        raise ValidationError("Authorized subgenres contain a duplicate.")


def validate_string_list(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Expected a JSON list of strings.")


def validate_text(value: Any) -> None:
    """Text that PostgreSQL can store: no NUL character and no lone UTF-16 surrogate
    (JSON allows both as escapes; the database refuses them with a DataError)."""
    if isinstance(value, str) and _UNSTORABLE.search(value):
        raise ValidationError(_UNSTORABLE_MESSAGE, code="unstorable_text")


# The contract's deepest value is a grading number: style guide → luts → look → number.
STYLE_GUIDE_MAX_DEPTH = 3
# A .cube file under MEDIA_ROOT/luts, named by a relative path of plain segments: no
# "..", no absolute path, no hidden file.
CUBE_NAME_PATTERN = re.compile(
    r"(?:[A-Za-z0-9][A-Za-z0-9_-]{0,63}/){0,3}"
    r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}(?:\.[A-Za-z0-9_-]{1,20}){0,3}"
    + re.escape(CUBE_SUFFIX)
)


def _style_guide_limits() -> tuple[int, int]:
    return (
        int(settings.STYLE_GUIDE_MAX_LIST_ITEMS),
        int(settings.STYLE_GUIDE_MAX_TEXT_CHARS),
    )


def _shape_errors(value: Any) -> list[str]:
    """Strings the database cannot store, and values nested deeper than the contract.

    Walks breadth-first and never below STYLE_GUIDE_MAX_DEPTH, so a document nested
    500 (or 100,000) levels deep costs one look at each level above the limit.
    """
    errors: list[str] = []
    level: list[tuple[str, Any]] = [("style guide", value)]
    for depth in range(STYLE_GUIDE_MAX_DEPTH + 1):
        below: list[tuple[str, Any]] = []
        for where, item in level:
            if isinstance(item, str):
                if _UNSTORABLE.search(item):
                    errors.append(f"{where}: {_UNSTORABLE_MESSAGE}")
                continue
            children: list[tuple[str, Any]] = []
            if isinstance(item, dict):
                for key, child in item.items():
                    if _UNSTORABLE.search(str(key)):
                        errors.append(f"A key in {where}: {_UNSTORABLE_MESSAGE}")
                    children.append((f"{where} → {_shown(key)}", child))
            elif isinstance(item, list):
                children = [(f"{where}[{i}]", c) for i, c in enumerate(item)]
            if children and depth == STYLE_GUIDE_MAX_DEPTH:
                errors.append(
                    f"The style guide nests deeper than its contract ({where}): at "
                    f"most {STYLE_GUIDE_MAX_DEPTH} levels (luts → look → number)."
                )
                return errors
            below.extend(children)
        level = below
    return errors


def _cut(text: Any, limit: int = 40) -> str:
    """Text as a message quotes it, cut to `limit` characters."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(value: Any, limit: int = 40) -> str:
    return _cut(repr(value), limit)


def _look_errors(name: str, look: Any) -> list[str]:
    """A look is a .cube file named under MEDIA_ROOT/luts, or a grading object of the
    known keys, each a number in its range."""
    if isinstance(look, str):
        if not CUBE_NAME_PATTERN.fullmatch(look):
            return [
                f"LUT {_shown(name)}: {_shown(look)} is not a .cube file name under "
                f"MEDIA_ROOT/{LUTS_DIRNAME} (plain names and folders, no '..', no "
                "absolute path)."
            ]
        return []
    if not isinstance(look, dict):
        return [f"LUT {_shown(name)} must be a .cube file name or a grading object."]
    errors: list[str] = []
    unknown = sorted(str(k) for k in set(look) - set(GRADING_RANGES))
    if unknown:
        errors.append(
            f"LUT {_shown(name)}: unknown grading keys "
            f"{', '.join(_shown(k) for k in unknown[:5])}. "
            f"Allowed: {', '.join(GRADING_RANGES)}."
        )
    for key, (low, high, _neutral) in GRADING_RANGES.items():
        if key not in look:
            continue
        number = look[key]
        if (
            isinstance(number, bool)
            or not isinstance(number, int | float)
            or not math.isfinite(number)
            or not low <= number <= high
        ):
            errors.append(
                f"LUT {_shown(name)}: grading {key!r} must be a number from {low} "
                f"to {high}."
            )
    return errors


def validate_style_guide(value: Any) -> None:
    """The style guide keys of DESIGN.md, each with its type and bounds; unknown keys
    are refused. Lists hold at most STYLE_GUIDE_MAX_LIST_ITEMS items and every string
    at most STYLE_GUIDE_MAX_TEXT_CHARS characters; looks are .cube names or grading
    objects of the known keys (`productions.looks`)."""
    if not isinstance(value, dict):
        raise ValidationError("The style guide must be a JSON object.")
    shape = _shape_errors(value)
    if shape:
        raise ValidationError(shape[:10])
    max_items, max_chars = _style_guide_limits()
    errors: list[str] = []
    unknown = sorted(str(k) for k in set(value) - STYLE_GUIDE_KEYS)
    if unknown:
        errors.append(
            f"Unknown style guide keys: {', '.join(_cut(k) for k in unknown[:10])}. "
            f"Allowed: {', '.join(sorted(STYLE_GUIDE_KEYS))}."
        )
    for key in sorted(STYLE_GUIDE_STRING_KEYS & set(value)):
        if not isinstance(value[key], str):
            errors.append(f"Style guide '{key}' must be a string.")
        elif len(value[key]) > max_chars:
            errors.append(
                f"Style guide '{key}' is {len(value[key])} characters; at most "
                f"{max_chars} (STYLE_GUIDE_MAX_TEXT_CHARS)."
            )
    for key in sorted(STYLE_GUIDE_LIST_KEYS & set(value)):
        items = value[key]
        if not isinstance(items, list) or not all(
            isinstance(i, str) and i.strip() for i in items
        ):
            errors.append(f"Style guide '{key}' must be a list of non-empty strings.")
        elif len(items) > max_items:
            errors.append(
                f"Style guide '{key}' has {len(items)} items; at most {max_items} "
                "(STYLE_GUIDE_MAX_LIST_ITEMS)."
            )
        elif any(len(i) > max_chars for i in items):
            errors.append(
                f"An item of style guide '{key}' is longer than {max_chars} "
                "characters (STYLE_GUIDE_MAX_TEXT_CHARS)."
            )
    hashtags = value.get("hashtags")
    if isinstance(hashtags, list) and len(hashtags) <= max_items:
        for tag in hashtags:
            if isinstance(tag, str) and not HASHTAG_PATTERN.match(tag):
                errors.append(f"Hashtag {_shown(tag)} must be one word without spaces.")
                break
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
        errors.extend(_luts_errors(value["luts"], max_items=max_items))
    if errors:
        raise ValidationError(errors)


def _luts_errors(luts: Any, *, max_items: int) -> list[str]:
    if not isinstance(luts, dict):
        return ["Style guide 'luts' must be an object of name → look."]
    if len(luts) > max_items:
        return [
            f"Style guide 'luts' has {len(luts)} looks; at most {max_items} "
            "(STYLE_GUIDE_MAX_LIST_ITEMS)."
        ]
    errors: list[str] = []
    for name, look in luts.items():
        if name == NATURAL_LOOK:
            errors.append(
                f"LUT name {NATURAL_LOOK!r} is the built-in look without a grade; "
                "name yours differently."
            )
        elif not LUT_NAME_PATTERN.fullmatch(str(name)):
            errors.append(
                f"LUT name {_shown(name)}: 1-40 lowercase letters, digits, _ or -."
            )
        errors.extend(_look_errors(str(name), look))
    return errors[:20]


# What a master may be called (MASTER_FILE_EXTENSIONS): extensions that every browser
# and ffmpeg read as video, so a stored master is never served as HTML or SVG.


def master_extension(name: str) -> str:
    """The lower-case extension of a file name ("" when it has none)."""
    return PurePosixPath(name.replace("\\", "/")).suffix.lower()


def validate_master_file(value: Any) -> None:
    """A newly attached master file has a video extension and at most MASTER_MAX_BYTES.

    A file already in storage is not checked again: a master saved before these
    limits can still have its other fields edited.
    """
    if not value or getattr(value, "_committed", False):
        return
    extension = master_extension(getattr(value, "name", "") or "")
    allowed = settings.MASTER_FILE_EXTENSIONS
    if extension not in allowed:
        raise ValidationError(
            "A master must be a video file (%(allowed)s); %(found)s is not accepted.",
            code="extension",
            params={
                "allowed": ", ".join(allowed) + " (MASTER_FILE_EXTENSIONS)",
                "found": extension or "a name without an extension",
            },
        )
    size = int(getattr(value, "size", 0) or 0)
    limit = int(settings.MASTER_MAX_BYTES)
    if size > limit:
        raise ValidationError(
            "The uploaded file is %(size)d bytes; masters may be at most %(limit)d "
            "bytes (MASTER_MAX_BYTES).",
            code="too_large",
            params={"size": size, "limit": limit},
        )


def validate_master_seconds(value: Any) -> None:
    """A master's duration, or a cut's start or end, within MASTER_MAX_SECONDS."""
    limit = float(settings.MASTER_MAX_SECONDS)
    if isinstance(value, int | float) and value > limit:
        raise ValidationError(
            "%(value).0fs is past the longest master: at most %(limit).0fs "
            "(MASTER_MAX_SECONDS).",
            code="too_long",
            params={"value": value, "limit": limit},
        )


def refuse_non_numbers(
    values: Mapping[str, Any], *, fields: Iterable[str], optional: bool = False
) -> None:
    """Seconds given to a service are real numbers: a boolean (True is 1 to Python and
    to a FloatField), a string, NaN or infinity is refused on its field, so the admin,
    commands and the API all get the same answer."""
    errors: dict[str, list[str]] = {}
    for field in fields:
        if field not in values:
            continue
        number = values[field]
        if number is None and optional:
            continue
        if (
            isinstance(number, bool)
            or not isinstance(number, int | float)
            or not math.isfinite(number)
        ):
            errors[field] = [
                f"Expected a number of seconds, not {_shown(number)} "
                f"({type(number).__name__})."
            ]
    if errors:
        raise ValidationError(errors, code="not_a_number")


def validate_video_url_shape(value: Any) -> None:
    """On every write of a video URL (model field): the checks of
    `productions.url_safety` that need no DNS (scheme, credentials, host, port 1-65535,
    a literal address must be public). The API and the admin also resolve the host as
    the URL arrives (`validate_public_video_url`); the fetcher checks again."""
    if not value:
        return
    try:
        check_url_shape(str(value))
    except UnsafeURLError as exc:
        raise ValidationError(str(exc), code="unsafe_url") from exc


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
