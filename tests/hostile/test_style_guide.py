"""Hostile style guides: every list and string bounded by a setting, no text the
database cannot store, no nesting past the contract, looks only by name.

Each case goes through the real API (and a sample through the admin) and proves three
things: a 400 (a form error in the admin), a message naming the limit, and nothing
written (no master, no audit row).
"""

import html
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from productions.models import ApprovalAudit, CreativeProduction
from productions.validators import validate_style_guide
from tests.factories import ProductionFactory

pytestmark = pytest.mark.django_db

# Each expected message is a pattern: where the API's request parser refuses a body
# before the style guide is read (NUL, surrogates, depth, size), its own message names
# its own limit, and either answer is a refusal that says why.
LISTS = "STYLE_GUIDE_MAX_LIST_ITEMS"
TEXT = "STYLE_GUIDE_MAX_TEXT_CHARS"
TEXT_OR_BODY = "STYLE_GUIDE_MAX_TEXT_CHARS|API_MAX_BODY_BYTES"
UNSTORABLE = r"NUL character|lone (UTF-16 )?surrogate"
TOO_DEEP = (
    r"nests deeper than its contract|deeper than \d+ levels \(API_MAX_JSON_DEPTH\)"
)
NOT_A_CUBE = r"is not a \.cube file name under MEDIA_ROOT/luts"


def _nested(depth: int) -> object:
    value: object = []
    for _ in range(depth - 1):
        value = [value]
    return value


HOSTILE_STYLE_GUIDES = [
    # Lists past STYLE_GUIDE_MAX_LIST_ITEMS (100 by default).
    ("10k-hashtags", {"hashtags": [f"#t{i}" for i in range(10_000)]}, LISTS),
    ("10k-banned-words", {"banned_words": [f"w{i}" for i in range(10_000)]}, LISTS),
    ("10k-phrases", {"required_phrases": [f"p{i}" for i in range(10_000)]}, LISTS),
    ("101-vibes", {"vibes": [f"v{i}" for i in range(101)]}, LISTS),
    ("101-colours", {"color_palette": ["#ffffff"] * 101}, LISTS),
    ("10k-looks", {"luts": {f"l{i}": {"warmth": 0.1} for i in range(10_000)}}, LISTS),
    # Strings past STYLE_GUIDE_MAX_TEXT_CHARS (1,000 by default).
    ("5mb-tone", {"tone": "x" * 5_000_000}, TEXT_OR_BODY),
    ("long-aesthetic", {"aesthetic_reference": "y" * 1001}, TEXT),
    ("long-font", {"font_style": "z" * 1001}, TEXT),
    ("long-music", {"music_style": "m" * 20_000}, TEXT),
    ("long-cta", {"cta_text": "c" * 1001}, TEXT),
    ("long-link", {"link_url": "https://example.com/" + "a" * 2000}, TEXT),
    ("long-banned-word", {"banned_words": ["b" * 1001]}, TEXT),
    ("long-phrase", {"required_phrases": ["p" * 100_000]}, TEXT),
    # Text PostgreSQL cannot store (a DataError, a 500, before this check).
    ("nul-in-tone", {"tone": "warm\u0000"}, UNSTORABLE),
    ("high-surrogate", {"tone": "warm\ud800"}, UNSTORABLE),
    ("low-surrogate", {"cta_text": "\udfffbuy"}, UNSTORABLE),
    ("nul-in-hashtag", {"hashtags": ["#ok", "#no\u0000"]}, UNSTORABLE),
    ("nul-in-banned-word", {"banned_words": ["\u0000"]}, UNSTORABLE),
    ("nul-in-look-name", {"luts": {"warm\u0000": {"warmth": 0.1}}}, UNSTORABLE),
    ("surrogate-in-cube", {"luts": {"film": "film\udc80.cube"}}, UNSTORABLE),
    ("nul-in-unknown-key", {"to\u0000ne": "x"}, UNSTORABLE),
    # Deeper than the contract (style guide -> luts -> look -> number).
    ("look-500-deep", {"luts": {"deep": _nested(500)}}, TOO_DEEP),
    ("vibes-500-deep", {"vibes": _nested(500)}, TOO_DEEP),
    ("grading-object-in-object", {"luts": {"w": {"warmth": {"x": 1}}}}, TOO_DEEP),
    ("grading-list-of-lists", {"luts": {"w": {"gamma": [[1.0]]}}}, TOO_DEEP),
    # Looks only by name: a .cube under MEDIA_ROOT/luts or a grading object.
    ("etc-passwd", {"luts": {"film": "../../etc/passwd"}}, NOT_A_CUBE),
    ("absolute-cube", {"luts": {"film": "/etc/ssl/evil.cube"}}, NOT_A_CUBE),
    ("dotdot-cube", {"luts": {"film": "looks/../../../x.cube"}}, NOT_A_CUBE),
    ("hidden-cube", {"luts": {"film": ".hidden.cube"}}, NOT_A_CUBE),
    ("windows-cube", {"luts": {"film": "C:\\luts\\film.cube"}}, NOT_A_CUBE),
    ("url-cube", {"luts": {"film": "http://evil.example/film.cube"}}, NOT_A_CUBE),
    ("not-a-cube", {"luts": {"film": "film.lut"}}, NOT_A_CUBE),
    ("newline-cube", {"luts": {"film": "film.cube\n"}}, NOT_A_CUBE),
    ("natural-is-built-in", {"luts": {"natural": {"warmth": 0.2}}}, "built-in look"),
    ("spaced-look-name", {"luts": {"Warm Look": {"warmth": 0.2}}}, "lowercase"),
    ("unknown-grading-key", {"luts": {"w": {"hue": 0.3}}}, "unknown grading keys"),
    ("boolean-grading", {"luts": {"w": {"warmth": True}}}, "must be a number"),
    ("grading-out-of-range", {"luts": {"w": {"contrast": 99}}}, "from 0.5 to 2.0"),
    ("look-is-a-number", {"luts": {"w": 5}}, "a .cube file name or a grading"),
    ("luts-is-a-list", {"luts": ["film.cube"]}, "an object of name → look"),
]


def _post_json(client, url: str, body: dict, method: str = "post"):
    # json.dumps escapes lone surrogates (\ud800) as JSON allows; DRF's renderer would
    # fail to encode them, so the body is sent as text.
    return getattr(client, method)(
        url, data=json.dumps(body), content_type="application/json"
    )


def _fields(response) -> dict:
    return response.json()["error"]["fields"]


def _refusal(response) -> str:
    """The style guide's field messages, or the message of a refusal of the whole
    request (the API's body limits answer before any field is read)."""
    error = response.json()["error"]
    if "fields" in error:
        return " ".join(error["fields"]["style_guide"])
    return error["message"]


def _media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _new_master(style_guide: dict) -> dict:
    return {
        "title": "Hostile",
        "video_url": "https://cdn.example.com/m.mp4",
        "duration": 20.0,
        "style_guide": style_guide,
    }


@pytest.mark.parametrize(
    ("style_guide", "message"),
    [pytest.param(sg, msg, id=name) for name, sg, msg in HOSTILE_STYLE_GUIDES],
)
def test_a_hostile_style_guide_is_a_400_naming_the_limit_and_writes_nothing(
    manager_api, style_guide, message
):
    response = _post_json(manager_api, "/api/productions/", _new_master(style_guide))

    assert response.status_code in {400, 413}, response.content[:500]
    assert re.search(message, _refusal(response)), _refusal(response)
    assert not CreativeProduction.objects.exists()
    assert not ApprovalAudit.objects.exists()
    assert _media_files() == []


@pytest.mark.parametrize(
    ("style_guide", "message"),
    [
        pytest.param(sg, msg, id=name)
        for name, sg, msg in HOSTILE_STYLE_GUIDES
        if name in {"10k-hashtags", "nul-in-tone", "etc-passwd", "look-500-deep"}
    ],
)
def test_a_hostile_style_guide_patched_onto_a_master_changes_nothing(
    manager_api, style_guide, message
):
    master = ProductionFactory()
    before = master.style_guide

    response = _post_json(
        manager_api,
        f"/api/productions/{master.pk}/",
        {"style_guide": style_guide},
        method="patch",
    )

    assert response.status_code == 400
    assert re.search(message, _refusal(response)), _refusal(response)
    master.refresh_from_db()
    assert master.style_guide == before
    assert not ApprovalAudit.objects.exists()


def test_a_style_guide_at_every_limit_is_accepted(manager_api):
    # Given lists of exactly 100 items and strings of exactly 1,000 characters
    style_guide = {
        "tone": "t" * 1000,
        "hashtags": [f"#tag{i}" for i in range(100)],
        "banned_words": [f"w{i}" for i in range(100)],
        "luts": {f"look-{i}": {"warmth": 0.01 * i} for i in range(99)}
        | {"film": "looks/film.v2.cube"},
    }

    # When the master is created
    response = _post_json(manager_api, "/api/productions/", _new_master(style_guide))

    # Then it is stored as given
    assert response.status_code == 201, response.content[:500]
    assert CreativeProduction.objects.get().style_guide == style_guide


def test_the_limits_are_settings_and_the_message_follows_them(manager_api, settings):
    settings.STYLE_GUIDE_MAX_LIST_ITEMS = 2
    settings.STYLE_GUIDE_MAX_TEXT_CHARS = 5

    response = _post_json(
        manager_api,
        "/api/productions/",
        _new_master({"hashtags": ["#a", "#b", "#c"], "tone": "sixsix"}),
    )

    assert response.status_code == 400
    messages = _fields(response)["style_guide"]
    assert "has 3 items; at most 2 (STYLE_GUIDE_MAX_LIST_ITEMS)" in " ".join(messages)
    assert "is 6 characters; at most 5 (STYLE_GUIDE_MAX_TEXT_CHARS)" in " ".join(
        messages
    )


def _admin_form(style_guide_text: str) -> dict:
    return {
        "title": "Hostile",
        "is_active": "on",
        "video_url": "https://cdn.example.com/m.mp4",
        "duration": "20",
        "style_guide": style_guide_text,
        "human_instructions": "",
        "campaign_id": "",
        "adset_id": "",
        "fragment_set-TOTAL_FORMS": "0",
        "fragment_set-INITIAL_FORMS": "0",
        "fragment_set-MIN_NUM_FORMS": "0",
        "fragment_set-MAX_NUM_FORMS": "1000",
    }


ADMIN_CASES = [
    pytest.param(json.dumps(sg), msg, id=name)
    for name, sg, msg in HOSTILE_STYLE_GUIDES
    if name
    in {
        "10k-hashtags",
        "5mb-tone",
        "nul-in-tone",
        "high-surrogate",
        "look-500-deep",
        "etc-passwd",
        "boolean-grading",
    }
] + [
    # Deeper than Python's JSON parser goes: a RecursionError (500) before the fix.
    pytest.param(
        '{"luts": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}",
        "nests too deeply to read",
        id="100k-deep-text",
    ),
]


@pytest.mark.parametrize(("text", "message"), ADMIN_CASES)
def test_a_hostile_style_guide_typed_into_the_admin_is_a_form_error(
    manager_client, text, message
):
    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"), _admin_form(text)
    )

    assert response.status_code == 200
    assert re.search(message, html.unescape(response.content.decode()))
    assert not CreativeProduction.objects.exists()
    assert not ApprovalAudit.objects.exists()


@pytest.mark.parametrize(
    "style_guide",
    [
        {"luts": {"w": {"gamma": float("nan")}}},
        {"luts": {"w": {"warmth": float("inf")}}},
        {"max_caption_length": True},
    ],
    ids=["nan-grading", "infinite-grading", "boolean-caption-length"],
)
def test_values_json_can_carry_only_outside_the_api_are_refused_by_the_validator(
    style_guide,
):
    # The API's strict JSON parser refuses NaN itself; the admin's and commands' paths
    # reach the validator with it.
    with pytest.raises(ValidationError):
        validate_style_guide(style_guide)


def test_human_instructions_are_bounded_on_every_path(db):
    from django.core.exceptions import ValidationError

    from productions.models import CreativeProduction
    from tests.factories import ProductionFactory

    master = ProductionFactory()
    master.human_instructions = "x" * 10_001

    with pytest.raises(ValidationError, match="at most 10000 characters"):
        master.full_clean()
    assert (
        CreativeProduction.objects.get(pk=master.pk).human_instructions != "x" * 10_001
    )
