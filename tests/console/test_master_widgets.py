"""The master page's widgets parse what a browser posts into the JSON the validators
accept, and render that JSON back: no database, no browser."""

from __future__ import annotations

import re

import pytest
from django.http import QueryDict

from productions.admin_widgets import (
    PHRASE_SEPARATORS,
    WORD_SEPARATORS,
    ColourListWidget,
    ListField,
    StyleGuideForm,
    TagsWidget,
    chips,
    look_choices,
    split_items,
    style_guide_compose,
    style_guide_errors,
    style_guide_initial,
    style_guide_summary,
)
from productions.looks import KNOWN_LOOKS
from productions.validators import validate_pixel_ids, validate_style_guide

GUIDE = {
    "tone": "energetic",
    "vibes": ["neon", "late night"],
    "hashtags": ["#neonnights", "#livetour"],
    "banned_words": ["free"],
    "required_phrases": ["Neon Nights"],
    "color_palette": ["#ff2bd6", "neon pink"],
    "max_caption_length": 125,
    "cta_text": "Get tickets",
    "cta_type": "BUY_TICKETS",
    "link_url": "https://example.com/tickets",
    "luts": {
        "neon_pop": KNOWN_LOOKS["neon_pop"],
        "house": "brand/house.cube",
    },
}


def _posted(form: StyleGuideForm) -> dict:
    """The style form's cleaned values after a round trip through its own widgets."""
    assert form.is_valid(), form.errors
    return form.cleaned_data


def _bound(data: dict[str, list[str]], guide: dict | None = None) -> StyleGuideForm:
    query = QueryDict(mutable=True)
    for name, values in data.items():
        query.setlist(name, values)
    form = StyleGuideForm(data=query)
    form.setup_style_guide(guide or {})
    return form


def test_items_typed_on_one_line_split_at_commas_and_repeats_drop():
    assert split_items(["#a, #b", "#b", "  "], separators=PHRASE_SEPARATORS) == [
        "#a",
        "#b",
    ]
    assert split_items(["#a #b\n#c"], separators=WORD_SEPARATORS) == ["#a", "#b", "#c"]
    assert split_items(["Neon Nights, on tour"], separators=PHRASE_SEPARATORS) == [
        "Neon Nights",
        "on tour",
    ]


def test_a_list_field_reads_one_item_per_input_or_a_pasted_json_list():
    field = ListField(
        required=False, validators=[validate_pixel_ids], separators=WORD_SEPARATORS
    )

    assert field.clean(["123456789012", "", "999999999999"]) == [
        "123456789012",
        "999999999999",
    ]
    assert field.clean(['["123456789012"]']) == ["123456789012"]
    assert field.clean([]) == []


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        (["12ab"], "is not valid"),
        (['["1234567",'], "Give a list of items"),
        (["[1234567]"], "Give a list of items"),
    ],
)
def test_a_bad_pixel_is_a_field_error_not_an_exception(posted, message):
    field = ListField(validators=[validate_pixel_ids], separators=WORD_SEPARATORS)

    with pytest.raises(Exception) as refused:
        field.clean(posted)

    assert type(refused.value).__name__ == "ValidationError"
    assert message in " ".join(refused.value.messages)


def test_the_tags_widget_renders_a_chip_and_hidden_input_per_tag_and_an_entry_box():
    html = TagsWidget(words=True).render("sg_hashtags", ["#neon", "<b>"])

    assert html.count('type="hidden" name="sg_hashtags"') == 2
    assert 'value="#neon"' in html
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert "data-ce-tag-entry" in html and 'data-words="1"' in html


def test_the_tags_widget_reads_every_posted_value_of_its_name():
    query = QueryDict("sg_hashtags=%23a&sg_hashtags=%23b&sg_hashtags=")

    assert TagsWidget().value_from_datadict(query, {}, "sg_hashtags") == [
        "#a",
        "#b",
        "",
    ]
    assert TagsWidget().value_omitted_from_data(QueryDict(""), {}, "sg_hashtags")


def test_the_palette_renders_hex_colours_as_swatches_and_named_ones_as_text():
    html = ColourListWidget().render("sg_color_palette", ["#ff2bd6", "neon pink"])
    inputs = re.findall(r"<input[^>]*>", html)

    # (one swatch more: the template of a new row, which is a swatch too)
    swatch = next(i for i in inputs if 'value="#ff2bd6"' in i)
    named = next(i for i in inputs if 'value="neon pink"' in i)
    assert 'type="color"' in swatch
    assert 'type="text"' in named


def test_a_stored_guide_round_trips_through_the_form_unchanged():
    # Given the form's initial values of a stored guide, posted back as they render
    initial = style_guide_initial(GUIDE)
    posted = {
        name: value if isinstance(value, list) else [str(value)]
        for name, value in initial.items()
    }
    form = _bound(posted, GUIDE)

    # Then composing them gives the guide back, and the validators accept it
    guide = style_guide_compose(_posted(form), existing=GUIDE)
    assert guide == GUIDE
    validate_style_guide(guide)


def test_a_newly_picked_look_gets_the_known_grade_and_a_dropped_one_goes():
    form = _bound({"sg_hashtags": [""], "sg_looks": ["mono", "house"]}, GUIDE)

    guide = style_guide_compose(_posted(form), existing=GUIDE)

    assert guide["luts"] == {"mono": KNOWN_LOOKS["mono"], "house": "brand/house.cube"}
    assert "hashtags" not in guide  # an empty list is no key


def test_the_looks_offered_are_the_known_ones_then_the_masters_own():
    names = [name for name, _ in look_choices(GUIDE["luts"])]

    assert names[: len(KNOWN_LOOKS)] == list(KNOWN_LOOKS)
    assert names[-1] == "house"
    assert dict(look_choices(GUIDE["luts"]))["house"] == "House (file brand/house.cube)"


def test_an_unknown_look_posted_is_a_field_error():
    form = _bound({"sg_hashtags": [""], "sg_looks": ["../../etc/passwd"]})

    assert not form.is_valid()
    assert "sg_looks" in form.errors


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"sg_hashtags": ["#a#b"]}, "sg_hashtags"),
        (
            {"sg_hashtags": [""], "sg_max_caption_length": ["5"]},
            "sg_max_caption_length",
        ),
        ({"sg_hashtags": [""], "sg_link_url": ["ftp://x"]}, "sg_link_url"),
    ],
)
def test_bad_style_input_is_an_error_on_its_field(data, field):
    form = _bound(data)

    assert not form.is_valid()
    assert field in form.errors


def test_the_validators_refusals_land_on_the_field_they_name(settings):
    settings.STYLE_GUIDE_MAX_TEXT_CHARS = 5

    errors = style_guide_errors({"tone": "too long a tone", "hashtags": ["#ok"]})

    assert list(errors) == ["sg_tone"]
    assert "STYLE_GUIDE_MAX_TEXT_CHARS" in errors["sg_tone"][0]


def test_read_only_displays_escape_what_people_typed():
    assert "&lt;script&gt;" in chips(["<script>"])
    summary = style_guide_summary({"tone": "<i>", "color_palette": ["#ff2bd6"]})
    assert "&lt;i&gt;" in summary
    assert "background:#ff2bd6" in summary
    assert "No style guide" in style_guide_summary({})
