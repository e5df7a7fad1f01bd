"""The master page's form fields: lists, tags, colour swatches and looks, not JSON boxes.

Each field parses what the browser posts into the JSON shape `productions.validators`
accepts and renders that shape back, so a person never types brackets and a bad item
is a field error on the page, never a 500. The services still validate everything
(`full_clean`): these fields only make the input humane.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from unfold.contrib.forms.widgets import ArrayWidget
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminColorInputWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
    UnfoldAdminURLInputWidget,
)

from productions.looks import KNOWN_LOOKS
from productions.validators import (
    HASHTAG_PATTERN,
    STYLE_GUIDE_KEYS,
    validate_style_guide,
)

# Items typed on one line: phrases split at commas and new lines, single words (hashtags,
# pixel ids) at any white space too.
PHRASE_SEPARATORS = re.compile(r"[,\n\r]+")
WORD_SEPARATORS = re.compile(r"[,\s]+")
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
ADMIN_JS = "productions/master_page.js"
ADMIN_CSS = "productions/master_page.css"


def split_items(values: Iterable[Any], *, separators: re.Pattern[str]) -> list[str]:
    """The items of posted values (one input per item, or several typed on one line):
    stripped, blanks dropped, repeats dropped in order."""
    items: list[str] = []
    for value in values:
        for item in separators.split(str(value)):
            item = item.strip()
            if item and item not in items:
                items.append(item)
    return items


class ListField(forms.Field):
    """A list of strings, one input per item (unfold's ArrayWidget: add and remove)."""

    widget = ArrayWidget
    default_error_messages = {"not_a_list": "Give a list of items, one per row."}

    def __init__(
        self, *, separators: re.Pattern[str] = PHRASE_SEPARATORS, **kwargs: Any
    ) -> None:
        self.separators = separators
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        if value in (None, "", [], ()):
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            raise ValidationError(self.error_messages["not_a_list"], code="not_a_list")
        if len(value) == 1 and str(value[0]).lstrip().startswith("["):
            return self._json_list(str(value[0]))
        return split_items(value, separators=self.separators)

    def _json_list(self, text: str) -> list[str]:
        """A JSON list pasted (or posted by a script) in one box, kept item by item."""
        try:
            items = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ValidationError(
                self.error_messages["not_a_list"], code="not_a_list"
            ) from exc
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValidationError(self.error_messages["not_a_list"], code="not_a_list")
        return [i.strip() for i in items if i.strip()]

    def prepare_value(self, value: Any) -> list[str]:
        # Shown again after a refusal: what was posted, less the empty boxes.
        if isinstance(value, list | tuple):
            return [str(v) for v in value if str(v).strip()]
        return []

    def has_changed(self, initial: Any, data: Any) -> bool:
        if self.disabled:
            return False
        try:
            return self.to_python(initial) != self.to_python(data)
        except ValidationError:
            return True


class ColourListWidget(ArrayWidget):
    """Colour swatches (input type=color), one per palette entry; a named colour the
    palette already holds ("neon pink") keeps a text box, so it is not lost."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(UnfoldAdminColorInputWidget, *args, **kwargs)

    def _resolve_widgets(self, value: list | str | None) -> None:
        items = value if isinstance(value, list) else []
        self.widgets = [
            UnfoldAdminColorInputWidget()
            if HEX_COLOUR.match(str(item))
            else UnfoldAdminTextInputWidget()
            for item in items
        ]
        self.widgets_names = ["" for _ in self.widgets]


class TagsWidget(forms.Widget):
    """A tag input: chips with a remove button, and a box where Enter or a comma adds
    one. Every chip posts a hidden input of the field's name, and so does the box: what
    is left typed there (several tags split at commas) counts too, JavaScript or not."""

    template_name = "productions/widgets/tags.html"

    class Media:
        js = (ADMIN_JS,)
        css = {"all": (ADMIN_CSS,)}

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        placeholder: str = "",
        words: bool = False,
    ) -> None:
        super().__init__(attrs)
        self.placeholder = placeholder
        self.words = words

    def get_context(
        self, name: str, value: Any, attrs: dict[str, Any] | None
    ) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["tags"] = list(value) if isinstance(value, list) else []
        context["widget"]["placeholder"] = self.placeholder
        context["widget"]["words"] = self.words
        return context

    def format_value(self, value: Any) -> Any:
        return value  # the list itself; the template renders one chip per item

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        getlist = getattr(data, "getlist", None)
        if getlist is not None:
            return list(getlist(name))
        value = data.get(name)
        return value if isinstance(value, list) else [] if value is None else [value]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data


def tags_field(
    label: str,
    *,
    help_text: str = "",
    words: bool = False,
    placeholder: str = "Type and press Enter",
) -> ListField:
    return ListField(
        label=label,
        required=False,
        help_text=help_text,
        separators=WORD_SEPARATORS if words else PHRASE_SEPARATORS,
        widget=TagsWidget(placeholder=placeholder, words=words),
    )


def _validate_hashtags(tags: Sequence[str]) -> None:
    bad = [t for t in tags if not HASHTAG_PATTERN.match(t)]
    if bad:
        raise ValidationError(
            "Hashtag %(tag)r must be one word without spaces.", params={"tag": bad[0]}
        )


def _validate_colours(colours: Sequence[str]) -> None:
    for colour in colours:
        if len(colour) > 40:
            raise ValidationError("A colour is a hex code (#ff2bd6) or a short name.")


# Meta's call-to-action types the engine's ads use; a master's own stays listed.
CTA_TYPES = (
    "LEARN_MORE",
    "SHOP_NOW",
    "BUY_TICKETS",
    "LISTEN_NOW",
    "WATCH_MORE",
    "SIGN_UP",
    "SUBSCRIBE",
    "DOWNLOAD",
    "GET_OFFER",
    "ORDER_NOW",
    "BOOK_NOW",
    "CONTACT_US",
    "APPLY_NOW",
)
_TEXT_KEYS = ("tone", "aesthetic_reference", "font_style", "music_style", "cta_text")
_LIST_KEYS = (
    "vibes",
    "hashtags",
    "banned_words",
    "required_phrases",
    "color_palette",
)
STYLE_FIELD_PREFIX = "sg_"


def style_field(key: str) -> str:
    """The form field that edits style guide `key` ("luts" is picked as looks)."""
    return STYLE_FIELD_PREFIX + ("looks" if key == "luts" else key)


def _text(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=UnfoldAdminTextInputWidget(),
    )


class StyleGuideForm(forms.Form):
    """The style guide of DESIGN.md as form fields; `style_guide_compose` turns them
    back into the JSON the validators and the planner read."""

    sg_tone = _text("Tone", "How captions sound, e.g. energetic.")
    sg_vibes = tags_field("Vibes", help_text="Moods the variants aim for.")
    sg_hashtags = tags_field(
        "Hashtags",
        help_text="The approved set: captions use these and no other.",
        words=True,
        placeholder="#tag, then Enter",
    )
    sg_banned_words = tags_field(
        "Banned words", help_text="A caption containing one is never written."
    )
    sg_required_phrases = tags_field(
        "Required phrases", help_text="Every caption contains each of these."
    )
    sg_color_palette = ListField(
        label="Colour palette",
        required=False,
        widget=ColourListWidget(),
        validators=[_validate_colours],
    )
    sg_looks = forms.MultipleChoiceField(
        label="Looks",
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget(),
        help_text="Colour grades the variants may use (besides the natural look).",
    )
    sg_cta_text = _text("Call-to-action text", "e.g. Get tickets.")
    sg_cta_type = forms.ChoiceField(
        label="Call-to-action button",
        required=False,
        widget=UnfoldAdminSelectWidget(),
    )
    sg_link_url = forms.URLField(
        label="Link",
        required=False,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        widget=UnfoldAdminURLInputWidget(),
        help_text="Where the ad's button leads.",
    )
    sg_max_caption_length = forms.IntegerField(
        label="Longest caption",
        required=False,
        min_value=20,
        max_value=2200,
        widget=UnfoldAdminIntegerFieldWidget(),
        help_text="Characters (20–2200).",
    )
    sg_font_style = _text("Font style")
    sg_music_style = _text("Music style")
    sg_aesthetic_reference = _text("Aesthetic reference")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sg_hashtags"].validators.append(_validate_hashtags)

    def setup_style_guide(self, style_guide: Any) -> None:
        """Choices and initial values from the master's stored guide."""
        guide = style_guide if isinstance(style_guide, dict) else {}
        self.fields["sg_looks"].choices = look_choices(guide.get("luts"))  # type: ignore[attr-defined]
        ctas = list(CTA_TYPES)
        current_cta = guide.get("cta_type")
        if isinstance(current_cta, str) and current_cta and current_cta not in ctas:
            ctas.append(current_cta)
        self.fields["sg_cta_type"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((c, c.replace("_", " ").capitalize()) for c in ctas),
        ]
        for name, value in style_guide_initial(guide).items():
            self.fields[name].initial = value


STYLE_FORM_FIELDS = tuple(StyleGuideForm.base_fields)
_FORM_KEYS = frozenset({*_TEXT_KEYS, *_LIST_KEYS, "cta_type", "link_url"}) | {
    "max_caption_length",
    "luts",
}


def _look_label(name: str, look: Any) -> str:
    title = name.replace("_", " ").replace("-", " ").capitalize()
    if isinstance(look, str):
        return f"{title} (file {look})"
    if name not in KNOWN_LOOKS or look != KNOWN_LOOKS[name]:
        return f"{title} (this master's own grade)"
    return title


def look_choices(luts: Any) -> list[tuple[str, str]]:
    """The known looks, then any other look the master's guide already names."""
    own = luts if isinstance(luts, dict) else {}
    names = [*KNOWN_LOOKS, *(str(n) for n in own if str(n) not in KNOWN_LOOKS)]
    return [(n, _look_label(n, own.get(n, KNOWN_LOOKS.get(n)))) for n in names]


def style_guide_initial(guide: Mapping[str, Any]) -> dict[str, Any]:
    """The form's initial values of a stored style guide."""
    initial: dict[str, Any] = {}
    for key in (*_TEXT_KEYS, "cta_type", "link_url"):
        initial[style_field(key)] = guide.get(key, "")
    for key in _LIST_KEYS:
        items = guide.get(key)
        initial[style_field(key)] = list(items) if isinstance(items, list) else []
    initial[style_field("max_caption_length")] = guide.get("max_caption_length")
    luts = guide.get("luts")
    initial[style_field("luts")] = list(luts) if isinstance(luts, dict) else []
    return initial


def style_guide_compose(
    cleaned: Mapping[str, Any], *, existing: Mapping[str, Any]
) -> dict[str, Any]:
    """The style guide JSON from the form's cleaned values. Keys the form does not
    edit are kept (and so still checked by the validators); a look already in the
    guide keeps its own grade, a newly picked one gets the known look's."""
    guide: dict[str, Any] = {k: v for k, v in existing.items() if k not in _FORM_KEYS}
    for key in (*_TEXT_KEYS, "cta_type", "link_url"):
        text = str(cleaned.get(style_field(key)) or "").strip()
        if text:
            guide[key] = text
    for key in _LIST_KEYS:
        items = list(cleaned.get(style_field(key)) or [])
        if items:
            guide[key] = items
    limit = cleaned.get(style_field("max_caption_length"))
    if limit is not None:
        guide["max_caption_length"] = int(limit)
    own = existing.get("luts") if isinstance(existing.get("luts"), dict) else {}
    picked = list(cleaned.get(style_field("luts")) or [])
    if picked:
        guide["luts"] = {
            name: (own or {}).get(name, KNOWN_LOOKS.get(name)) for name in picked
        }
    return guide


def style_guide_errors(guide: Mapping[str, Any]) -> dict[str | None, list[str]]:
    """The validators' refusals of `guide`, each on the field that edits what it names
    (None: the guide as a whole, e.g. a key the form does not show)."""
    try:
        validate_style_guide(dict(guide))
    except ValidationError as exc:
        by_field: dict[str | None, list[str]] = {}
        for message in exc.messages:
            by_field.setdefault(_field_named(message), []).append(message)
        return by_field
    return {}


def _field_named(message: str) -> str | None:
    if message.startswith("Hashtag "):
        return style_field("hashtags")
    if message.startswith("LUT"):
        return style_field("luts")
    for key in sorted(STYLE_GUIDE_KEYS, key=len, reverse=True):
        if f"'{key}'" in message:
            return style_field(key)
    return None


# --- Read-only displays (managers on pixels/subgenres, view-only staff on all) ------------


def chips(items: Iterable[Any], *, empty: str = "None") -> SafeString:
    """Items as the theme's labels, one per item."""
    shown = [
        render_to_string("unfold/helpers/label.html", {"text": str(i)}) for i in items
    ]
    if not shown:
        return format_html('<span class="text-base-500">{}</span>', empty)
    # Each label is the theme's template, rendered with autoescaping.
    return format_html(
        '<div class="ce-chips flex flex-wrap gap-2">{}</div>',
        mark_safe("".join(shown)),  # noqa: S308
    )


def swatches(colours: Iterable[Any]) -> SafeString:
    """Colours as small squares with their codes."""
    colours = [str(c) for c in colours]
    if not colours:
        return format_html('<span class="text-base-500">{}</span>', "None")
    return format_html(
        '<div class="ce-chips flex flex-wrap gap-2">{}</div>',
        format_html_join(
            "",
            '<span class="ce-swatch"><span class="ce-swatch-colour" '
            'style="background:{}"></span>{}</span>',
            ((c if HEX_COLOUR.match(c) else "transparent", c) for c in colours),
        ),
    )


def style_guide_summary(guide: Any) -> SafeString:
    """The whole style guide as a person reads it: a label and its values per key."""
    guide = guide if isinstance(guide, dict) else {}
    rows: list[tuple[str, SafeString | str]] = []
    form = StyleGuideForm()
    render: dict[str, Callable[[Any], SafeString | str]] = {
        "color_palette": swatches,
        "luts": lambda luts: chips(luts if isinstance(luts, dict) else []),
    }
    for name in STYLE_FORM_FIELDS:
        key = "luts" if name == style_field("luts") else name[len(STYLE_FIELD_PREFIX) :]
        if key not in guide:
            continue
        value = guide[key]
        if key in render:
            shown = render[key](value)
        elif isinstance(value, list):
            shown = chips(value)
        else:
            shown = str(value)
        rows.append((str(form.fields[name].label), shown))
    if not rows:
        return format_html('<span class="text-base-500">{}</span>', "No style guide.")
    return format_html(
        '<dl class="ce-style-summary">{}</dl>',
        format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows),
    )
