"""The master page: upload and probe, the fragment cutter over the video, the style
guide and the lists, and the actions (probe, generate now); every save goes through
`productions.services`, and a refusal is shown, not raised."""

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from unfold.admin import ModelAdmin
from unfold.decorators import action

from productions.admin.cutter import FragmentInline, cutter_context
from productions.admin.forms import MasterForm, submitted_values
from productions.admin.media import (
    frame_image,
    frame_url,
    master_media_url,
    video_player,
)
from productions.admin_widgets import (
    ADMIN_CSS,
    ADMIN_JS,
    chips,
    style_guide_summary,
)
from productions.guard import (
    AUTHORIZATION_PERMISSION,
    PROTECTED_FIELDS,
    Actor,
    HumanRuleViolation,
    actor_for_user,
)
from productions.media import CorruptMediaError
from productions.models import CreativeFragment, CreativeProduction
from productions.services import (
    FRAGMENT_EDITABLE_FIELDS,
    MASTER_EDITABLE_FIELDS,
    FragmentData,
    fragment_create,
    fragment_delete,
    fragment_update,
    production_create,
    production_probe,
    production_update,
)
from productions.thumbnails import (
    frame_millis,
    frame_thumbnail,
    probe_summary,
    source_key,
)
from productions.url_safety import (
    FetchError,
    UnsafeURLError,
)

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


def _delete_marked_fragments(
    *, actor: Actor, formsets: Sequence[BaseInlineFormSet]
) -> None:
    """The fragments the inline marked DELETE, deleted through the service."""
    for formset in formsets:
        if formset.model is CreativeFragment:
            for inline_form in formset.deleted_forms:
                if inline_form.instance.pk:
                    fragment_delete(actor=actor, fragment_id=inline_form.instance.pk)


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
        return video_player(master_media_url(obj))

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
                actor = actor_for_user(request.user)
                _delete_marked_fragments(actor=actor, formsets=formsets)
                if change:
                    _, changes = submitted_values(form, MASTER_EDITABLE_FIELDS)
                    production_update(
                        actor=actor, production_id=form.instance.pk, changes=changes
                    )
                super().save_related(request, form, formsets, change)
        if _refusal(request) is not None:
            for formset in formsets:  # the change message names nothing saved
                formset.new_objects, formset.changed_objects = [], []
                formset.deleted_objects = []

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
