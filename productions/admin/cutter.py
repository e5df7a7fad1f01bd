"""The fragment cutter on the master page: its rows (an inline of fragments whose
cuts are dragged on the timeline) and what its template needs."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from unfold.admin import TabularInline

from productions.admin.media import (
    fragment_thumbnail,
    frame_url,
    master_media_url,
)
from productions.models import CreativeFragment, CreativeProduction
from productions.thumbnails import (
    probe_summary,
    timeline_seconds,
)

_REFUSAL_ATTRIBUTE = "_console_refusal"


def cutter_context(master: CreativeProduction | None) -> dict[str, Any]:
    """What the fragment cutter needs of the master: its video, length, frame rate
    and timeline frames; `ready` is False (with a reason) until it can cut."""
    if master is None or master.pk is None or master._state.adding:
        return {"ready": False, "reason": "Save the master first to cut on its video."}
    url = master_media_url(master)
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
