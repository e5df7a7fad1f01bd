"""Small JPEG frames of a master: the cutter's timeline, fragment posters, list posters.

Pages show pictures, not the master video: a <video> per row downloads megabytes and
paints a black box until it seeks. A frame is extracted once with ffmpeg
(`productions.ffmpeg`) and kept through Django's storage API under
`thumbnails/<master>/<source>/<millis>.jpg`, served by the media URL like any upload.
`<source>` is a digest of the master's file name or URL, so a replaced video never
shows the old one's frames. The last probe of the master (frame rate, size, streams)
is kept beside them as `probe.json`, for the cutter's snapping to frames.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from productions.ffmpeg import FFmpegFailed, FFmpegTimedOut, run_ffmpeg
from productions.media import (
    CorruptMediaError,
    MediaInfo,
    master_local_path,
    probe_media,
)
from productions.models import CreativeProduction
from productions.url_safety import IPNetwork, Resolver, system_resolver

logger = logging.getLogger(__name__)

THUMBNAILS_DIRNAME = "thumbnails"
# Wide enough for a 9:16 poster in a table row, small enough to weigh a few kB.
THUMBNAIL_WIDTH = 160
# Frames on the cutter's timeline: one per equal slice of the master.
TIMELINE_FRAMES = 10
FRAME_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ProbeSummary:
    """What the console shows of a probe: enough to cut and to explain a refusal."""

    duration: float
    fps: float
    width: int
    height: int
    stream_count: int
    has_audio: bool
    video_codec: str
    container: str

    @classmethod
    def of(cls, info: MediaInfo) -> ProbeSummary:
        return cls(
            duration=round(float(info.duration), 3),
            fps=round(float(info.fps), 3),
            width=info.width,
            height=info.height,
            stream_count=info.stream_count,
            has_audio=info.has_audio,
            video_codec=info.video_codec,
            container=info.container,
        )

    def sentence(self) -> str:
        audio = "with sound" if self.has_audio else "without sound"
        return (
            f"{self.duration:.2f} s, {self.width}×{self.height} at {self.fps:g} fps, "
            f"{self.stream_count} stream(s) ({self.video_codec}, {audio})"
        )


def source_key(master: CreativeProduction) -> str:
    """A digest of where the master's video is: new video, new key."""
    source = master.video_file.name if master.video_file else master.video_url
    return hashlib.sha256(f"{master.pk}|{source}".encode()).hexdigest()[:16]


def _folder(master: CreativeProduction) -> str:
    return f"{THUMBNAILS_DIRNAME}/{master.pk}/{source_key(master)}"


def frame_name(master: CreativeProduction, millis: int) -> str:
    return f"{_folder(master)}/{int(millis)}.jpg"


def timeline_seconds(duration: float, count: int = TIMELINE_FRAMES) -> list[float]:
    """The middle of each of `count` equal slices of the master: a frame per slice."""
    if duration <= 0 or count <= 0:
        return []
    step = duration / count
    return [round(step * (i + 0.5), 3) for i in range(count)]


def frame_millis(seconds: float, *, duration: float | None) -> int:
    """A frame's key in milliseconds, kept inside the video (a seek past the end
    gives ffmpeg no frame) and in a bounded key space."""
    limit = float(duration if duration else settings.MASTER_MAX_SECONDS)
    seconds = min(max(float(seconds), 0.0), max(limit - 0.05, 0.0))
    return round(seconds * 1000)


def frame_thumbnail(
    master: CreativeProduction,
    millis: int,
    *,
    resolver: Resolver = system_resolver,
    allowed_networks: Collection[IPNetwork] = (),
) -> str:
    """The storage name of the master's frame at `millis`, extracted on first use.

    Raises CorruptMediaError (MissingMediaError) when the video cannot be read.
    """
    name = frame_name(master, millis)
    if default_storage.exists(name):
        return name
    with master_local_path(
        master,
        resolver=resolver,
        allowed_networks=allowed_networks,
        fetch_cache=_fetch_cache_dir(),
    ) as source:
        jpeg = _extract_frame(source, millis / 1000)
    if not default_storage.exists(name):  # a parallel request may have won
        default_storage.save(name, ContentFile(jpeg))
    return name


def _fetch_cache_dir() -> Path:
    """Masters given by URL are fetched once, where the renderer keeps its copies."""
    folder = getattr(settings, "RENDER_CACHE_DIR", "") or ""
    base = Path(folder) if folder else Path(settings.MEDIA_ROOT) / ".cache"
    return base / "masters"


def _extract_frame(source: Path, seconds: float) -> bytes:
    """One JPEG THUMBNAIL_WIDTH wide at `seconds` (input seeking: fast, frame-exact
    since ffmpeg 2.1); a seek that lands past the last frame retries a second earlier."""
    error = ""
    for at in (seconds, max(seconds - 1.0, 0.0)):
        with tempfile.TemporaryDirectory(prefix="thumb-") as tmp:
            out = Path(tmp) / "frame.jpg"
            try:
                run_ffmpeg(
                    [
                        *("-ss", f"{at:.3f}", "-i", str(source)),
                        *("-frames:v", "1", "-an"),
                        *("-vf", f"scale={THUMBNAIL_WIDTH}:-2", "-q:v", "5"),
                        *("-f", "image2", "-y", str(out)),
                    ],
                    timeout_seconds=FRAME_TIMEOUT_SECONDS,
                )
            except FFmpegTimedOut as exc:
                raise CorruptMediaError(
                    f"No frame at {at:.2f}s within {FRAME_TIMEOUT_SECONDS:.0f}s."
                ) from exc
            except FFmpegFailed as exc:
                error = str(exc)[-300:]
                continue
            if out.is_file() and out.stat().st_size:
                return out.read_bytes()
    logger.info("no frame of %s at %.2fs: %s", source.name, seconds, error)
    raise CorruptMediaError(f"No frame could be read at {seconds:.2f}s.")


def _probe_name(master: CreativeProduction) -> str:
    return f"{_folder(master)}/probe.json"


def probe_summary_store(master: CreativeProduction, info: MediaInfo) -> ProbeSummary:
    """Keep the probe of the master's current video (replacing an older one)."""
    summary = ProbeSummary.of(info)
    name = _probe_name(master)
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(json.dumps(asdict(summary)).encode()))
    return summary


def probe_summary(master: CreativeProduction) -> ProbeSummary | None:
    """The kept probe of the master's video; an uploaded file not probed yet is probed
    now (it is on our storage: fast), a URL master waits for the "Probe" action."""
    if not (master.video_file or master.video_url):
        return None
    name = _probe_name(master)
    try:
        with default_storage.open(name, "rb") as handle:
            data: dict[str, Any] = json.loads(handle.read())
        return ProbeSummary(**data)
    except (FileNotFoundError, ValueError, TypeError):
        pass
    if not master.video_file:
        return None
    try:
        with master_local_path(master) as source:
            info = probe_media(source)
    except CorruptMediaError as exc:
        logger.info("master %s does not probe: %s", master.pk, exc)
        return None
    return probe_summary_store(master, info)
