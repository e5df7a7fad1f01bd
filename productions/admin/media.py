"""How the admin shows media: the master's and a fragment's player (a `#t=` cut of
the master), frames as small JPEGs, fragment thumbnails."""

from django.urls import reverse
from django.utils.html import format_html

from productions.models import CreativeFragment, CreativeProduction
from productions.thumbnails import (
    frame_millis,
    source_key,
)


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


def master_media_url(master: CreativeProduction) -> str:
    if master.video_file:
        return master.video_file.url
    return master.video_url


def fragment_player(fragment: CreativeFragment) -> str:
    """The master's player limited to the fragment's cut (none for an unsaved row: its
    UUID exists before it is saved, but it has no cut yet)."""
    if fragment._state.adding or fragment.master_creative_id is None:
        return "—"
    return video_player(
        master_media_url(fragment.master_creative),
        start=fragment.start_time,
        end=fragment.end_time,
    )


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
    url = master_media_url(master)
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
