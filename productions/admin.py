"""Where marketing staff upload masters, cut and approve fragments, and set the rules.

Every save goes through productions.services, so the admin obeys the same human rules and
writes the same audit rows as the API. The master page shows pictures, not JSON: a
fragment cutter over the video (`fragment_cutter.html`, `master_page.js`), frames as
small JPEGs (`productions.thumbnails`), list and tag widgets (`productions.admin_widgets`).
"""

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from productions.admin_permissions import EvidenceAdmin
from productions.admin_widgets import (
    ADMIN_CSS,
    ADMIN_JS,
    STYLE_FORM_FIELDS,
    WORD_SEPARATORS,
    ListField,
    StyleGuideForm,
    chips,
    style_field,
    style_guide_compose,
    style_guide_errors,
    style_guide_summary,
)
from productions.guard import (
    AUTHORIZATION_PERMISSION,
    PROTECTED_FIELDS,
    HumanRuleViolation,
    actor_for_user,
)
from productions.media import CorruptMediaError
from productions.models import ApprovalAudit, CreativeFragment, CreativeProduction
from productions.services import (
    FRAGMENT_EDITABLE_FIELDS,
    FRAGMENT_SYSTEM_FIELDS,
    MASTER_EDITABLE_FIELDS,
    FragmentData,
    fragment_create,
    fragment_delete,
    fragment_update,
    fragments_approve,
    fragments_reject,
    production_create,
    production_probe,
    production_update,
)
from productions.thumbnails import (
    frame_millis,
    frame_thumbnail,
    probe_summary,
    source_key,
    timeline_seconds,
)
from productions.uploads import uploaded_master_duration
from productions.url_safety import (
    FetchError,
    UnsafeURLError,
    validate_public_video_url,
)
from productions.validators import validate_pixel_ids, validate_subgenres


def video_player(
    url: str, *, start: float | None = None, end: float | None = None
) -> str:
    """An HTML5 player; media fragments (#t=) make a fragment play only its cut."""
    if not url:
        return "—"
    if start is not None and end is not None:
        url = f"{url}#t={start:.3f},{end:.3f}"
    return format_html(
        '<video src="{}" controls preload="metadata" style="max-width:270px;'
        'max-height:480px;background:#000"></video>',
        url,
    )


def _master_media_url(master: CreativeProduction) -> str:
    if master.video_file:
        return master.video_file.url
    return master.video_url


def fragment_player(fragment: CreativeFragment) -> str:
    """The master's player limited to the fragment's cut (none for an unsaved row: its
    UUID exists before it is saved, but it has no cut yet)."""
    if fragment._state.adding or fragment.master_creative_id is None:
        return "—"
    return video_player(
        _master_media_url(fragment.master_creative),
        start=fragment.start_time,
        end=fragment.end_time,
    )


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


_REFUSAL_ATTRIBUTE = "_console_refusal"


@contextmanager
def _refusal_kept(request: HttpRequest) -> Iterator[None]:
    """Run a page's service calls in one savepoint; a refusal that the form could not
    foresee (a fragment added meanwhile, a rule only the service knows) rolls all of
    them back and is kept on the request, in plain words, for the response to show
    instead of "was changed successfully" (and no change is logged)."""
    try:
        with transaction.atomic():
            yield
    except (ValidationError, HumanRuleViolation) as exc:
        words = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        setattr(request, _REFUSAL_ATTRIBUTE, " ".join(words))


def _refusal(request: HttpRequest) -> str | None:
    return getattr(request, _REFUSAL_ATTRIBUTE, None)


def submitted_values(
    form: ModelForm, editable: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The editable values of a submitted form, and those among them it changed."""
    values = {f: form.cleaned_data[f] for f in editable if f in form.cleaned_data}
    changes = {f: values[f] for f in form.changed_data if f in values}
    return values, changes


def frame_url(master: CreativeProduction, seconds: float) -> str:
    """The URL of the master's frame at `seconds` (extracted when first asked for)."""
    millis = frame_millis(seconds, duration=master.duration)
    return reverse(
        "admin:productions_creativeproduction_frame",
        args=(master.pk, source_key(master), millis),
    )


def frame_image(url: str, *, alt: str, size: str = "small") -> str:
    return format_html(
        '<img src="{}" alt="{}" loading="lazy" class="ce-thumb ce-thumb-{}">',
        url,
        alt,
        size,
    )


def fragment_thumbnail(fragment: CreativeFragment, *, link: bool = True) -> str:
    """The first frame of the cut, small, linking to the cut itself (`#t=` plays only
    the cut in the browser's player; the cutter plays it on the page instead)."""
    if fragment._state.adding or fragment.master_creative_id is None:
        return format_html(
            '<span class="ce-thumb ce-thumb-small ce-thumb-none">{}</span>', "—"
        )
    master = fragment.master_creative
    url = _master_media_url(master)
    if not url:
        return "—"
    image = frame_image(
        frame_url(master, fragment.start_time), alt=f"First frame of {fragment}"
    )
    if not link:  # inside a list's row link
        return image
    return format_html(
        '<a href="{}#t={},{}" class="ce-thumb-link" target="_blank" '
        'rel="noopener" title="Play the cut">{}</a>',
        url,
        f"{fragment.start_time:.3f}",
        f"{fragment.end_time:.3f}",
        image,
    )


def cutter_context(master: CreativeProduction | None) -> dict[str, Any]:
    """What the fragment cutter needs of the master: its video, length, frame rate
    and timeline frames; `ready` is False (with a reason) until it can cut."""
    if master is None or master.pk is None or master._state.adding:
        return {"ready": False, "reason": "Save the master first to cut on its video."}
    url = _master_media_url(master)
    summary = probe_summary(master)
    duration = master.duration or (summary.duration if summary else None)
    if not url or not duration:
        return {
            "ready": False,
            "reason": "Probe the video (button above) to cut on its timeline.",
        }
    fps = summary.fps if summary and summary.fps > 0 else 25.0
    frames = [(t, frame_url(master, t)) for t in timeline_seconds(duration)]
    base = frame_url(master, 0)
    return {
        "ready": True,
        "video_url": url,
        "duration": f"{duration:.3f}",
        "fps": f"{fps:g}",
        "fps_known": summary is not None,
        "frames": frames,
        "frame_base": base[: base.rindex("/") + 1],
    }


class FragmentInline(TabularInline):
    """The master's fragments; the cutter (`template_before` and `master_page.js`)
    drives their start and end inputs, which still save through the services."""

    model = CreativeFragment
    extra = 1
    readonly_fields = (
        "thumbnail",
        "cut",
        "approved",
        "approved_by",
        "approved_at",
        "performance_score",
    )
    fields = (
        "thumbnail",
        "fragment_type",
        "start_time",
        "end_time",
        "cut",
        "label",
        "approved",
        "approved_by",
        "approved_at",
        "performance_score",
    )
    show_change_link = True
    template_before = "productions/fragment_cutter.html"

    def formfield_for_choice_field(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        # The theme offers no blank choice for a required field, so the blank row of a
        # new cut would post "hook", count as changed and fail "required" on its
        # seconds: a blank type keeps an untouched row untouched.
        if db_field.name == "fragment_type":
            kwargs["choices"] = db_field.get_choices(
                include_blank=True, blank_choice=[("", "Choose a type")]
            )
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CreativeFragment]:
        # Every row shows its approver and a frame of its master: joined, not a
        # query per row (the formset sets only the master's id on each row).
        return (
            super()
            .get_queryset(request)
            .select_related("approved_by", "master_creative")
        )

    @admin.display(description="First frame")
    def thumbnail(self, obj: CreativeFragment) -> str:
        return fragment_thumbnail(obj)

    @admin.display(description="Cut on the timeline")
    def cut(self, obj: CreativeFragment) -> str:
        return format_html(
            '<div class="ce-cut" data-ce-cut><span class="ce-cut-fallback">{}</span></div>',
            "Type the start and end seconds.",
        )


# A 1×1 transparent GIF: the frame of a video that cannot be read.
BLANK_FRAME_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01"
    b"\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
HUMAN_RULE_DISPLAYS = {
    "authorized_pixels": "authorized_pixels_list",
    "authorized_subgenres": "authorized_subgenres_list",
    "genre": "genre",
}


def _same_site_referer(request: HttpRequest) -> str:
    """The page the request came from, if it is on this site (never elsewhere)."""
    referer = request.headers.get("referer", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


def probe_action(
    name: str, url_path: str, back: Callable[[HttpRequest, str], str]
) -> Any:
    """The "Probe the video" button of a list row or of the master's page: probe the
    master (its refusal or its findings said in a message), then go `back`."""

    def probe(
        model_admin: "CreativeProductionAdmin", request: HttpRequest, object_id: str
    ) -> HttpResponse:
        model_admin._probe(request, object_id)
        return HttpResponseRedirect(back(request, object_id))

    probe.__name__ = probe.__qualname__ = name
    return action(
        description="Probe the video",
        url_path=url_path,
        permissions=["change"],
        icon="query_stats",
    )(probe)


@admin.register(CreativeProduction)
class CreativeProductionAdmin(ModelAdmin):
    list_display: tuple[str, ...] = (
        "poster",
        "title",
        "genre",
        "is_active",
        "duration",
        "approved_fragment_count",
        "total_variants_generated",
        "created_by",
        "created_at",
    )
    list_display_links = ("title",)
    list_filter = ("is_active", "genre", "mode")
    search_fields = ("title", "campaign_id", "adset_id", "genre")
    list_select_related = ("created_by",)
    form = MasterForm
    inlines = [FragmentInline]
    # Row and detail buttons (unfold), not a bulk action: each probe reads a video.
    actions_row = ["probe_row"]
    actions_detail = ["probe_detail"]
    engine_fields = (
        "fragments",
        "total_variants_generated",
        "mode",
        "created_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "video_preview",
        "probe_report",
        "authorized_pixels_list",
        "authorized_subgenres_list",
        "style_guide_summary",
        *engine_fields,
    )
    style_fieldset_fields = (
        ("sg_tone", "sg_cta_text"),
        "sg_hashtags",
        "sg_vibes",
        "sg_banned_words",
        "sg_required_phrases",
        "sg_color_palette",
        "sg_looks",
        ("sg_cta_type", "sg_link_url"),
        "sg_max_caption_length",
        ("sg_font_style", "sg_music_style"),
        "sg_aesthetic_reference",
    )

    class Media:
        js = (ADMIN_JS,)
        css = {"all": (ADMIN_CSS,)}

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """Who sees what as a form: managers read the human rules (their list
        displays), staff who may not change the master read the style guide."""
        editable = (
            self.has_change_permission(request, obj)
            if obj is not None
            else self.has_add_permission(request)
        )
        rules: tuple[str, ...] = tuple(HUMAN_RULE_DISPLAYS)
        if not (editable and request.user.has_perm(AUTHORIZATION_PERMISSION)):
            rules = tuple(HUMAN_RULE_DISPLAYS.values())
        style: tuple[Any, ...] = (
            self.style_fieldset_fields if editable else ("style_guide_summary",)
        )
        return (
            (
                None,
                {
                    "fields": (
                        "title",
                        "is_active",
                        "video_file",
                        "video_url",
                        "duration",
                        "probe_report",
                    )
                },
            ),
            (
                "Style guide",
                {"fields": (*style, "human_instructions"), "classes": ["tab"]},
            ),
            ("Human rules (admins only)", {"fields": rules, "classes": ["tab"]}),
            (
                "Objective and ad sets",
                {
                    "fields": (
                        "objective",
                        "campaign_id",
                        "adset_id",
                        "scaling_adset_id",
                    ),
                    "classes": ["tab"],
                },
            ),
            ("Engine (read-only)", {"fields": self.engine_fields, "classes": ["tab"]}),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[CreativeProduction]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _approved_fragments=Count(
                    "fragment_set", filter=Q(fragment_set__approved=True)
                )
            )
        )

    def get_urls(self) -> list[URLPattern]:
        frame = path(
            "<path:object_id>/frame/<str:source>/<int:millis>.jpg",
            self.admin_site.admin_view(self.frame_view),
            name="productions_creativeproduction_frame",
        )
        return [frame, *super().get_urls()]

    def frame_view(
        self, request: HttpRequest, object_id: str, source: str, millis: int
    ) -> HttpResponse:
        """A frame of the master as a small JPEG: extracted once, then a redirect to
        its media URL (immutable under its source key, so browsers keep it)."""
        master = self.get_object(request, object_id)
        if master is None:
            raise Http404("No such master.")
        if not self.has_view_permission(request, master):
            raise PermissionDenied
        try:
            name = frame_thumbnail(
                master, frame_millis(millis / 1000, duration=master.duration)
            )
        except (CorruptMediaError, UnsafeURLError, FetchError) as exc:
            # A video that cannot be read, or a URL that cannot be fetched (its host
            # gone, refused as unsafe), gets a blank frame, not a 500 on every row;
            # the page's probe line says why.
            blank = HttpResponse(BLANK_FRAME_GIF, content_type="image/gif")
            blank["Cache-Control"] = "no-cache"
            reason = " ".join(str(exc).split())[:200]
            blank["X-Frame-Unavailable"] = reason.encode("ascii", "replace").decode()
            return blank
        response = HttpResponseRedirect(default_storage.url(name))
        current = source == source_key(master)
        response["Cache-Control"] = (
            "private, max-age=31536000, immutable" if current else "no-cache"
        )
        return response

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: CreativeProduction | None = None,
    ) -> Any:
        context["cutter"] = cutter_context(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="Poster")
    def poster(self, obj: CreativeProduction) -> str:
        if not (obj.video_file or obj.video_url):
            return "—"
        at = min(1.0, (obj.duration or 2.0) / 2)
        return frame_image(frame_url(obj, at), alt=f"Poster of {obj.title}")

    @admin.display(description="Approved fragments", ordering="_approved_fragments")
    def approved_fragment_count(self, obj: CreativeProduction) -> int:
        return getattr(obj, "_approved_fragments", 0)

    @admin.display(description="Master video")
    def video_preview(self, obj: CreativeProduction) -> str:
        return video_player(_master_media_url(obj))

    @admin.display(description="Probe")
    def probe_report(self, obj: CreativeProduction) -> str:
        if obj is None or obj.pk is None or obj._state.adding:
            text = "Probed when you upload the video."
        elif (summary := probe_summary(obj)) is None:
            text = "Not probed yet: use “Probe the video” above."
        else:
            text = f"Probed: {summary.sentence()}."
        return format_html("<span data-ce-probe>{}</span>", text)

    @admin.display(description="Authorized pixels")
    def authorized_pixels_list(self, obj: CreativeProduction) -> str:
        return format_html(
            '<div data-ce-readonly="authorized_pixels">{}</div>',
            chips(obj.authorized_pixels or [], empty="No pixel authorized."),
        )

    @admin.display(description="Authorized subgenres")
    def authorized_subgenres_list(self, obj: CreativeProduction) -> str:
        return format_html(
            '<div data-ce-readonly="authorized_subgenres">{}</div>',
            chips(obj.authorized_subgenres or [], empty="No subgenre authorized."),
        )

    @admin.display(description="Style guide")
    def style_guide_summary(self, obj: CreativeProduction) -> str:
        return style_guide_summary(obj.style_guide)

    probe_row = probe_action(
        "probe_row",
        "probe-row",
        # Back to the list the button was pressed on (its filters kept).
        lambda request, object_id: (
            _same_site_referer(request)
            or reverse("admin:productions_creativeproduction_changelist")
        ),
    )
    probe_detail = probe_action(
        "probe_detail",
        "probe",
        lambda request, object_id: reverse(
            "admin:productions_creativeproduction_change", args=(object_id,)
        ),
    )

    def _probe(self, request: HttpRequest, production_id: Any) -> None:
        """Call the probe service and say what it found or why it refused."""
        try:
            master_id = uuid.UUID(str(production_id))
        except ValueError:
            self.message_user(request, "No such master.", level=messages.ERROR)
            return
        title = (
            CreativeProduction.objects.filter(pk=master_id)
            .values_list("title", flat=True)
            .first()
        )
        if title is None:
            self.message_user(request, "No such master.", level=messages.ERROR)
            return
        try:
            summary = production_probe(
                actor=actor_for_user(request.user), production_id=master_id
            )
        except ValidationError as exc:
            self.message_user(
                request,
                f"“{title}” was not probed: {' '.join(exc.messages)}",
                level=messages.ERROR,
            )
            return
        except HumanRuleViolation as exc:
            self.message_user(
                request, f"“{title}” was not probed: {exc}", level=messages.ERROR
            )
            return
        self.message_user(
            request,
            f"“{title}” probed: {summary.sentence()}; its duration is "
            f"{summary.duration:.2f} s.",
            level=messages.SUCCESS,
        )

    def get_readonly_fields(
        self, request: HttpRequest, obj: Any = None
    ) -> tuple[str, ...]:
        readonly = tuple(self.readonly_fields)
        if not request.user.has_perm(AUTHORIZATION_PERMISSION):
            readonly += PROTECTED_FIELDS
        return readonly

    def save_model(
        self,
        request: HttpRequest,
        obj: CreativeProduction,
        form: ModelForm,
        change: bool,
    ) -> None:
        if change:
            return  # saved by save_related, after the inline's deletions
        with _refusal_kept(request):
            data, _ = submitted_values(form, MASTER_EDITABLE_FIELDS)
            video_file = data.pop("video_file", None) or None
            saved = production_create(
                actor=actor_for_user(request.user), video_file=video_file, **data
            )
            # The inline formsets hang their rows on this instance.
            obj.pk = saved.pk
            obj._state.adding = False
            obj._state.db = saved._state.db

    def save_related(
        self,
        request: HttpRequest,
        form: ModelForm,
        formsets: Sequence[BaseInlineFormSet],
        change: bool,
    ) -> None:
        """One save of the page, in the order that lets it hold together.

        1. Delete the fragments marked DELETE, so that
        2. a changed master (a shorter duration) is checked against the fragments that
           remain, then
        3. create and change the inline's fragments against the saved master.
        A refusal of any service rolls back the whole save (`_refusal_kept`).
        """
        if _refusal(request) is None:
            with _refusal_kept(request):
                self._save_page(request, form, formsets, change)
        if _refusal(request) is not None:
            for formset in formsets:  # the change message names nothing saved
                formset.new_objects, formset.changed_objects = [], []
                formset.deleted_objects = []

    def _save_page(
        self,
        request: HttpRequest,
        form: ModelForm,
        formsets: Sequence[BaseInlineFormSet],
        change: bool,
    ) -> None:
        actor = actor_for_user(request.user)
        for formset in formsets:
            if formset.model is CreativeFragment:
                for inline_form in formset.deleted_forms:
                    if inline_form.instance.pk:
                        fragment_delete(
                            actor=actor, fragment_id=inline_form.instance.pk
                        )
        if change:
            _, changes = submitted_values(form, MASTER_EDITABLE_FIELDS)
            production_update(
                actor=actor, production_id=form.instance.pk, changes=changes
            )
        super().save_related(request, form, formsets, change)

    def save_formset(
        self,
        request: HttpRequest,
        form: ModelForm,
        formset: BaseInlineFormSet,
        change: bool,
    ) -> None:
        if formset.model is not CreativeFragment:
            return super().save_formset(request, form, formset, change)
        actor = actor_for_user(request.user)
        master = CreativeProduction.objects.get(pk=form.instance.pk)
        for inline_form in formset.forms:
            if inline_form in formset.deleted_forms or not inline_form.has_changed():
                continue  # deletions ran first, in save_related
            data, changes = submitted_values(inline_form, FRAGMENT_EDITABLE_FIELDS)
            if inline_form.instance._state.adding:
                fragment_create(
                    actor=actor, production=master, data=FragmentData(**data)
                )
            else:
                fragment_update(
                    actor=actor, fragment_id=inline_form.instance.pk, changes=changes
                )
        formset.new_objects, formset.changed_objects, formset.deleted_objects = (
            [],
            [],
            [],
        )
        return None

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if _refusal(request) is None:
            return super().log_addition(request, obj, message)
        return None

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if _refusal(request) is None:
            return super().log_change(request, obj, message)
        return None

    def response_add(
        self,
        request: HttpRequest,
        obj: CreativeProduction,
        post_url_continue: Any = None,
    ) -> HttpResponse:
        if (refusal := _refusal(request)) is not None:
            return self._refused(request, refusal)
        return super().response_add(request, obj, post_url_continue)

    def response_change(
        self, request: HttpRequest, obj: CreativeProduction
    ) -> HttpResponse:
        if (refusal := _refusal(request)) is not None:
            return self._refused(request, refusal)
        return super().response_change(request, obj)

    def _refused(self, request: HttpRequest, refusal: str) -> HttpResponse:
        self.message_user(
            request, f"Nothing was saved: {refusal}", level=messages.ERROR
        )
        return HttpResponseRedirect(request.get_full_path())

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.variants.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(CreativeFragment)
class CreativeFragmentAdmin(ModelAdmin):
    # What a marketer scans a cut by; who approved it when, the success rate and the
    # JSON scores (by pixel, by structure) read on the fragment's page. Each column
    # costs every row its render, so the list keeps to these.
    list_display = (
        "list_thumbnail",
        "__str__",
        "master_creative",
        "fragment_type",
        "cut",
        "approved",
        "performance_score",
        "usage_count",
        "hook_rate",
        "hold_rate",
        "best_for_structure",
    )
    list_per_page = 50
    list_filter = ("approved", "fragment_type", "best_for_structure")
    search_fields = ("label", "master_creative__title")
    list_select_related = ("master_creative", "approved_by")
    autocomplete_fields = ("master_creative",)
    actions = ("approve_selected", "reject_selected")
    form = PublicVideoURLForm
    list_display_links = ("__str__",)
    readonly_fields = ("thumbnail", "preview", "duration", *FRAGMENT_SYSTEM_FIELDS)
    fields = ("master_creative", *FRAGMENT_EDITABLE_FIELDS, *readonly_fields)

    class Media:
        css = {"all": (ADMIN_CSS,)}

    @admin.display(description="Cut", ordering="start_time")
    def cut(self, obj: CreativeFragment) -> str:
        return (
            f"{obj.start_time:.1f}–{obj.end_time:.1f} s "
            f"({obj.end_time - obj.start_time:.1f} s)"
        )

    @admin.display(description="First frame")
    def list_thumbnail(self, obj: CreativeFragment) -> str:
        return fragment_thumbnail(obj, link=False)

    @admin.display(description="First frame")
    def thumbnail(self, obj: CreativeFragment) -> str:
        return fragment_thumbnail(obj)

    @admin.display(description="Preview")
    def preview(self, obj: CreativeFragment) -> str:
        return fragment_player(obj)

    def get_readonly_fields(
        self, request: HttpRequest, obj: Any = None
    ) -> tuple[str, ...]:
        if obj is not None:  # a fragment stays with its master
            return (*self.readonly_fields, "master_creative")
        return tuple(self.readonly_fields)

    def save_model(
        self, request: HttpRequest, obj: CreativeFragment, form: ModelForm, change: bool
    ) -> None:
        actor = actor_for_user(request.user)
        data, changes = submitted_values(form, FRAGMENT_EDITABLE_FIELDS)
        if change:
            saved = fragment_update(actor=actor, fragment_id=obj.pk, changes=changes)
        else:
            saved = fragment_create(
                actor=actor,
                production=form.cleaned_data["master_creative"],
                data=FragmentData(**data),
            )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: CreativeFragment) -> None:
        fragment_delete(actor=actor_for_user(request.user), fragment_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        actor = actor_for_user(request.user)
        for pk in queryset.values_list("pk", flat=True):
            fragment_delete(actor=actor, fragment_id=pk)

    @admin.action(description="Approve selected fragments", permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run_bulk(request, queryset, fragments_approve, "approved")

    @admin.action(
        description="Reject (withdraw approval of) selected fragments",
        permissions=["change"],
    )
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run_bulk(request, queryset, fragments_reject, "rejected")

    def _run_bulk(
        self, request: HttpRequest, queryset: QuerySet, service: Any, verb: str
    ) -> None:
        try:
            count = service(
                actor=actor_for_user(request.user),
                fragment_ids=list(queryset.values_list("pk", flat=True)),
            )
        except HumanRuleViolation as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return
        skipped = queryset.count() - count
        note = f" ({skipped} already {verb})" if skipped else ""
        self.message_user(
            request, f"{count} fragment(s) {verb}{note}.", messages.SUCCESS
        )


@admin.register(ApprovalAudit)
class ApprovalAuditAdmin(EvidenceAdmin):
    """The audit trail is evidence: readable, never editable."""

    list_display = ("created_at", "action", "actor_name", "object_repr", "production")
    # A date filter (today, 7 days, this month), not a date hierarchy: its links
    # are a scan of every row's day.
    list_filter = ("created_at", "action")
    search_fields = ("actor_name", "object_repr", "production__title")
    list_select_related = ("production",)
    readonly_fields = [f.name for f in ApprovalAudit._meta.fields]
