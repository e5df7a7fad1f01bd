"""The master's form: a public video URL or an upload (probed at once), the style guide
as fields, pixels and subgenres as lists; every value bounded before a service sees it."""

import json
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.forms import ModelForm

from productions.admin_widgets import (
    STYLE_FORM_FIELDS,
    WORD_SEPARATORS,
    ListField,
    StyleGuideForm,
    style_field,
    style_guide_compose,
    style_guide_errors,
)
from productions.uploads import uploaded_master_duration
from productions.url_safety import (
    validate_public_video_url,
)
from productions.validators import validate_pixel_ids, validate_subgenres


class PublicVideoURLForm(ModelForm):
    """A master's or fragment's form: a new or changed video URL passes the same check
    as the API's (`validate_public_video_url`); an unchanged one is not re-resolved."""

    def clean_video_url(self) -> str:
        url: str = self.cleaned_data["video_url"]
        if "video_url" in self.changed_data:
            validate_public_video_url(url)
        return url


class DepthSafeJSONField(forms.JSONField):
    """The admin's JSON box: text nested too deeply for Python's parser (thousands of
    brackets) is a form error, not a RecursionError and a 500."""

    default_error_messages = {
        "too_deep": "This JSON nests too deeply to read; the style guide is at most "
        "three levels deep (luts → look → number).",
    }

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except RecursionError as exc:
            raise ValidationError(
                self.error_messages["too_deep"], code="too_deep"
            ) from exc

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)

    def prepare_value(self, value: Any) -> Any:
        # A refused value is shown again; a lone surrogate it carries cannot be
        # written as UTF-8, so it is shown as the escape the person typed.
        text = super().prepare_value(value)
        try:
            text.encode()
        except UnicodeEncodeError:
            return json.dumps(value, cls=self.encoder)
        return text


# How far a typed duration may be from the probed one (container vs stream rounding).
DURATION_TOLERANCE_SECONDS = 0.5


class MasterForm(PublicVideoURLForm, StyleGuideForm):
    """The master's form: its video URL checked as it arrives (`PublicVideoURLForm`),
    a new upload checked and probed by `productions.uploads` like the API's (type,
    MASTER_MAX_BYTES, MASTER_MAX_DIMENSION, MASTER_MAX_STREAMS, MASTER_MAX_SECONDS).

    A master with a video file takes its duration from the file, on add and when the
    file is replaced: a typed duration the probe contradicts is refused, so no
    fragment can be cut (and approved) past the video's real end.

    Pixels and subgenres are list widgets (one row per item); the style guide is
    edited as form fields (`StyleGuideForm`) and stored as the JSON the validators
    read. The JSON itself is still accepted when a script posts `style_guide` and no
    style fields (it is not shown on the page, so its errors read at the top).
    """

    authorized_pixels = ListField(
        label="Authorized pixels",
        required=False,
        separators=WORD_SEPARATORS,
        validators=[validate_pixel_ids],
        help_text="Meta pixel ids (digits), one per row. Admins only.",
    )
    authorized_subgenres = ListField(
        label="Authorized subgenres",
        required=False,
        validators=[validate_subgenres],
        help_text="One per row. Admins only.",
    )
    style_guide = DepthSafeJSONField(required=False)

    class Meta:
        field_classes = {"style_guide": DepthSafeJSONField}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_style_guide(self.instance.style_guide)

    def _style_fields_posted(self) -> bool:
        # The hashtags box is always posted by the page (even empty): its absence
        # means a client that posts the JSON.
        return self.is_bound and style_field("hashtags") in self.data

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        self._clean_style_guide(cleaned)
        upload = cleaned.get("video_file")
        if "video_file" not in self.changed_data or not isinstance(
            upload, UploadedFile
        ):
            return cleaned
        try:
            probed = uploaded_master_duration(upload, declared=None)
        except ValidationError as exc:
            self.add_error(None, exc)
            return cleaned
        typed = cleaned.get("duration") if "duration" in self.changed_data else None
        if typed is not None and abs(typed - probed) > DURATION_TOLERANCE_SECONDS:
            self.add_error(
                "duration",
                f"The uploaded video is {probed:.2f}s long, not {typed:.2f}s; "
                "leave the duration empty to take it from the file.",
            )
            return cleaned
        cleaned["duration"] = probed
        if "duration" not in self.changed_data:  # a change the service must save
            self.changed_data.append("duration")
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        # A refused upload leaves the master without a video: the model's "needs a
        # file or a URL" would only repeat the upload's own error.
        if "video_file" in self.errors and NON_FIELD_ERRORS in self.errors:
            kept = [
                e
                for e in self.errors[NON_FIELD_ERRORS].as_data()
                if "needs an uploaded video file or a video URL"
                not in " ".join(e.messages)
            ]
            if kept:
                self.errors[NON_FIELD_ERRORS] = self.error_class(
                    kept, error_class="nonfield", renderer=self.renderer
                )
            else:
                del self.errors[NON_FIELD_ERRORS]

    def _clean_style_guide(self, cleaned: dict[str, Any]) -> None:
        """Put the style guide JSON into `cleaned` (and `changed_data` if it changed),
        from the style fields or a posted JSON; its refusals on the fields they name."""
        stored = self.instance.style_guide or {}
        guide: Any
        refusals: dict[str | None, list[str]]
        if self._style_fields_posted():
            if any(name in self.errors for name in STYLE_FORM_FIELDS):
                return  # a field already refused its value: nothing to compose
            guide = style_guide_compose(cleaned, existing=stored)
            refusals = style_guide_errors(guide)
        elif "style_guide" in self.errors:
            self.add_error(None, self.errors.pop("style_guide"))
            return
        elif self.is_bound and "style_guide" in self.data:
            guide = cleaned.get("style_guide")
            if not isinstance(guide, dict):
                refusals = {None: ["The style guide must be a JSON object."]}
            else:
                found = style_guide_errors(guide)
                refusals = (
                    {None: [m for ms in found.values() for m in ms]} if found else {}
                )
        else:
            cleaned["style_guide"] = stored
            return
        for field, messages_ in refusals.items():
            if messages_:
                self.add_error(field if field in self.fields else None, messages_)
        if refusals:
            return
        cleaned["style_guide"] = guide
        if guide != stored and "style_guide" not in self.changed_data:
            self.changed_data.append("style_guide")
        elif guide == stored and "style_guide" in self.changed_data:
            self.changed_data.remove("style_guide")


def submitted_values(
    form: ModelForm, editable: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The editable values of a submitted form, and those among them it changed."""
    values = {f: form.cleaned_data[f] for f in editable if f in form.cleaned_data}
    changes = {f: values[f] for f in form.changed_data if f in values}
    return values, changes
