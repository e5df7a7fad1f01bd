"""Render one RenderSpec to an MP4 and a JPEG poster, atomically.

Files are written under temporary names next to their destination and renamed only after
the result probes as planned, so a failed or killed render leaves nothing half-written.

With a `GradeCache`, each (master, fragment span, size) is decoded once into raw frames,
and graded once more per .cube look; every variant that uses the fragment cuts from
those. A float RGB lut3d costs about as much CPU as the encode itself, and seeking into
an H.264 master decodes up to a GOP of frames per cut that are thrown away, so a batch
of variants sharing fragments and looks saves most of both.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from productions.media import (
    CorruptMediaError,
    MediaInfo,
    evict_oldest_files,
    probe_media,
)
from variants.rendering.commands import (
    Cut,
    RenderSpec,
    build_assemble_command,
    build_prepare_command,
    cuts_from_master,
    segment_frames,
    to_frame,
)
from variants.rendering.errors import RenderError
from variants.rendering.ffmpeg import run_ffmpeg

logger = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1
# Raw 1080x1920 frames take ~93 MB per second of span: a 20 s master with two .cube
# looks fills ~5 GB. Older entries go first beyond this bound.
DEFAULT_CACHE_MAX_BYTES = 4 * 1024**3
# Entries used this recently are never evicted: a render may be reading them (longer
# than the render task's hard time limit).
CACHE_EVICTION_MIN_AGE_SECONDS = 15 * 60


@dataclass(frozen=True)
class RenderResult:
    path: Path
    poster_path: Path
    checksum_sha256: str
    probed_duration: float
    media: MediaInfo
    seconds: float


def file_sha256(path: Path, chunk: int = 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Span:
    """A stretch of a master on the output grid and size, optionally graded (.cube)."""

    source: Path
    start: int
    frames: int
    look: Path | None
    width: int
    height: int
    fps: int
    has_audio: bool
    # Identifies `source` when it is itself a cache entry (hashing raw frames is slow).
    source_key: str | None = None

    def graded_from(self, entry: Path, *, entry_key: str, look: Path) -> Span:
        """This span read back from its cache `entry` (which always has a sound
        track) and graded by `look`."""
        return dataclasses.replace(
            self,
            source=entry,
            source_key=entry_key,
            start=0,
            look=look,
            has_audio=True,
        )


class GradeCache:
    """Spans of masters as raw NUT files (decoded, sized, maybe graded), bounded in size.

    Keys are content hashes (master bytes, LUT bytes, span, size), so a fetched master
    in a new temporary file still hits, and a changed LUT file misses. Concurrent
    renders may both prepare the same span; the atomic rename makes that harmless.
    """

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int = DEFAULT_CACHE_MAX_BYTES,
        min_age_seconds: float = CACHE_EVICTION_MIN_AGE_SECONDS,
    ) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.min_age_seconds = min_age_seconds
        self._hashes: dict[tuple[str, int, int], str] = {}
        self.hits = 0
        self.misses = 0

    def _content_hash(self, path: Path) -> str:
        stat = path.stat()
        identity = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if identity not in self._hashes:
            self._hashes[identity] = file_sha256(path)
        return self._hashes[identity]

    def key(self, span: Span) -> str:
        parts = {
            "v": CACHE_FORMAT_VERSION,
            "source": span.source_key or self._content_hash(span.source),
            "span": [span.start, span.frames],
            "look": self._content_hash(span.look) if span.look else None,
            "size": [span.width, span.height, span.fps],
            "audio": span.has_audio,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def prepared(self, span: Span, *, timeout_seconds: float) -> Path:
        """The cached graded span, preparing it first if needed."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{self.key(span)}.nut"
        if path.exists():
            with contextlib.suppress(FileNotFoundError):
                os.utime(path)
                self.hits += 1
                return path
        self.misses += 1
        tmp = self.root / f".{path.stem}.{uuid.uuid4().hex}.tmp"
        try:
            run_ffmpeg(
                build_prepare_command(
                    source=span.source,
                    span_start=span.start,
                    span_frames=span.frames,
                    look=span.look,
                    width=span.width,
                    height=span.height,
                    fps=span.fps,
                    has_audio=span.has_audio,
                    out_path=tmp,
                ),
                timeout_seconds=timeout_seconds,
            )
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self.evict()
        return path

    def evict(self) -> None:
        """Delete least recently used entries beyond max_bytes (not recently used ones)."""
        evict_oldest_files(
            self.root,
            "*.nut",
            max_bytes=self.max_bytes,
            min_age_seconds=self.min_age_seconds,
        )


def render_timeout(spec: RenderSpec) -> float:
    """Generous: a 1080x1920 render runs at ~2 output seconds per wall second."""
    return 120.0 + 30.0 * spec.duration


def plan_cuts(spec: RenderSpec, cache: GradeCache | None) -> list[Cut]:
    """Cuts straight from the master, or from cached spans when a cache is given.

    With a cache, each fragment span is decoded from the master once, onto the output
    size, as raw frames (no more seeking from a keyframe per cut); a .cube look is
    graded once per span from that. A grading look stays in the final command: its
    three tables cost less than storing a second copy of the frames.
    """
    if cache is None:
        return cuts_from_master(spec)
    width, height = spec.output_size
    timeout = render_timeout(spec)
    cuts = []
    for segment in spec.segments:
        first, count = segment_frames(segment, spec.fps)
        if segment.span is not None:
            span_start = to_frame(segment.span[0], spec.fps)
            span_frames = to_frame(segment.span[1], spec.fps) - span_start
        else:
            span_start, span_frames = first, count
        natural = Span(
            source=spec.source,
            start=span_start,
            frames=span_frames,
            look=None,
            width=width,
            height=height,
            fps=spec.fps,
            has_audio=spec.source_has_audio,
        )
        path = cache.prepared(natural, timeout_seconds=timeout)
        still_to_apply = spec.look
        if isinstance(spec.look, Path):
            graded = natural.graded_from(
                path, entry_key=cache.key(natural), look=spec.look
            )
            path = cache.prepared(graded, timeout_seconds=timeout)
            still_to_apply = None
        cuts.append(
            Cut(
                path=path,
                start=first - span_start,
                frames=count,
                prepared=True,
                has_audio=True,
                look=still_to_apply,
            )
        )
    return cuts


def render_to_file(
    spec: RenderSpec,
    out_path: Path,
    *,
    poster_path: Path | None = None,
    cache: GradeCache | None = None,
) -> RenderResult:
    """Render `spec` to `out_path` (+ a JPEG poster), verify it, and return what it is.

    The output is probed: a file whose duration is off the plan by more than a frame, or
    that is not H.264/AAC, is an error and is deleted.
    """
    out_path = Path(out_path)
    poster_path = Path(poster_path) if poster_path else out_path.with_suffix(".jpg")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    poster_path.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    tmp_video = out_path.with_name(f".{out_path.stem}.{token}.tmp.mp4")
    tmp_poster = poster_path.with_name(f".{poster_path.stem}.{token}.tmp.jpg")
    started = time.monotonic()
    try:
        cuts = plan_cuts(spec, cache)
        run_ffmpeg(
            build_assemble_command(
                cuts, spec=spec, out_path=tmp_video, poster_path=tmp_poster
            ),
            timeout_seconds=render_timeout(spec),
        )
        media = verify_output(tmp_video, spec)
        if not tmp_poster.is_file() or tmp_poster.stat().st_size == 0:
            raise RenderError("ffmpeg wrote no poster frame.")
        checksum = file_sha256(tmp_video)
        os.replace(tmp_video, out_path)
        os.replace(tmp_poster, poster_path)
    except BaseException:
        for leftover in (tmp_video, tmp_poster):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        raise
    seconds = time.monotonic() - started
    logger.info(
        "rendered %s (%.2fs of video) in %.2fs", out_path.name, media.duration, seconds
    )
    return RenderResult(
        path=out_path,
        poster_path=poster_path,
        checksum_sha256=checksum,
        probed_duration=media.duration,
        media=media,
        seconds=seconds,
    )


def verify_output(path: Path, spec: RenderSpec) -> MediaInfo:
    """The rendered file is what the plan says: length within a frame, H.264 + AAC."""
    try:
        media = probe_media(path)
    except CorruptMediaError as exc:
        raise RenderError(f"The rendered file does not probe: {exc}") from exc
    width, height = spec.output_size
    problems = []
    if abs(media.duration - spec.duration) > 1.0 / spec.fps + 1e-6:
        problems.append(
            f"duration {media.duration:.3f}s instead of {spec.duration:.3f}s"
        )
    if (media.width, media.height) != (width, height):
        problems.append(
            f"size {media.width}x{media.height} instead of {width}x{height}"
        )
    if media.video_codec != "h264" or media.audio_codec != "aac":
        problems.append(f"codecs {media.video_codec}/{media.audio_codec}")
    if problems:
        raise RenderError("The rendered file is off the plan: " + "; ".join(problems))
    return media
