"""Render one RenderSpec to an MP4 and a JPEG poster, atomically.

Files are written under temporary names next to their destination and renamed only after
the result probes as planned, so a failed or killed render leaves nothing half-written.

With a `PieceCache`, every cut is a run of closed-GOP H.264 pieces (a second each, from
the start of its fragment, graded and with the variant's text) that are encoded once
and kept; a variant is its pieces joined by the concat demuxer with the video copied,
not encoded again, and its sound cut from the master and encoded (cheap). Encoding is
most of a render's CPU, so a batch whose variants share fragments, looks and text costs
about the pieces it really needs, not the sum of its variants.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
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
    AudioCut,
    RenderSpec,
    build_piece_assembly_command,
    build_piece_runs_command,
    build_poster_command,
    build_render_command,
    piece_run,
    segment_frames,
    to_frame,
)
from variants.rendering.errors import RenderError
from variants.rendering.ffmpeg import run_ffmpeg
from variants.rendering.looks import Grading, Look

logger = logging.getLogger(__name__)

PIECE_FORMAT_VERSION = 1
# Pieces are encoded video (~0.5 MB per second at 1080x1920): a 20 s master with its
# looks and two overlays fits in a few hundred MB. Least recently used go first beyond.
DEFAULT_CACHE_MAX_BYTES = 1024**3
# Pieces used this recently are never evicted: a render may be about to join them.
CACHE_EVICTION_MIN_AGE_SECONDS = 15 * 60


@dataclass(frozen=True)
class RenderResult:
    path: Path
    poster_path: Path
    checksum_sha256: str
    probed_duration: float
    media: MediaInfo
    seconds: float
    pieces_encoded: int = 0
    pieces_reused: int = 0


def file_sha256(path: Path, chunk: int = 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class PieceCache:
    """Encoded pieces (`<content key>.mp4`) in a folder of the worker's own, bounded.

    Keys are content hashes (master bytes, look, text, font, size, encoder settings,
    frames), so a master fetched again into a new file still hits, and a changed LUT
    misses. Concurrent renders may both encode a piece; the atomic rename makes that
    harmless. A hit refreshes the file's time: eviction is least recently used first.
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

    def content_hash(self, path: Path) -> str:
        stat = path.stat()
        identity = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if identity not in self._hashes:
            self._hashes[identity] = file_sha256(path)
        return self._hashes[identity]

    def _look_identity(self, look: Look | None) -> object:
        if look is None:
            return None
        if isinstance(look, Grading):
            return ["grading", repr(look)]
        return ["cube", self.content_hash(Path(look))]

    def key(self, spec: RenderSpec, *, first: int, frames: int) -> str:
        parts = {
            "v": PIECE_FORMAT_VERSION,
            "source": self.content_hash(spec.source),
            "frames": [first, frames],
            "look": self._look_identity(spec.look),
            "text": spec.text_overlay,
            "font": self.content_hash(spec.font) if spec.text_overlay else None,
            "size": [*spec.output_size, spec.fps],
            "encode": [spec.preset, spec.crf],
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / f"{key}.mp4"

    def lookup(self, key: str) -> Path | None:
        path = self.path(key)
        try:
            os.utime(path)
        except FileNotFoundError:
            return None
        return path

    def bytes_used(self) -> int:
        total = 0
        for entry in self.root.glob("*.mp4"):
            with contextlib.suppress(FileNotFoundError):
                total += entry.stat().st_size
        return total

    def evict(self) -> None:
        """Delete least recently used pieces beyond max_bytes (not recently used)."""
        evict_oldest_files(
            self.root,
            "*.mp4",
            max_bytes=self.max_bytes,
            min_age_seconds=self.min_age_seconds,
        )

    def pieces_for(self, spec: RenderSpec, *, timeout_seconds: float) -> list[Path]:
        """Every piece of every cut of `spec`, in order, encoding the missing ones:
        each run of missing pieces once, all runs of the render in one ffmpeg
        process (pieces present between two missing ones are not encoded again)."""
        self.root.mkdir(parents=True, exist_ok=True)
        paths: list[Path] = []
        runs: list[tuple[tuple[int, ...], list[str]]] = []
        for segment in spec.segments:
            first, count = segment_frames(segment, spec.fps)
            anchor = to_frame(segment.span[0], spec.fps) if segment.span else first
            run = piece_run(first, count, anchor=anchor, fps=spec.fps)
            keys = [self.key(spec, first=a, frames=n) for a, n in run.pieces]
            missing = [i for i, key in enumerate(keys) if self.lookup(key) is None]
            self.hits += len(keys) - len(missing)
            self.misses += len(missing)
            for group in _contiguous(missing):
                runs.append(
                    (
                        run.boundaries[group[0] : group[-1] + 2],
                        [keys[i] for i in group],
                    )
                )
            paths.extend(self.path(k) for k in keys)
        if runs:
            self._encode(spec, runs=runs, timeout_seconds=timeout_seconds)
        self.evict()
        return paths

    def _encode(
        self,
        spec: RenderSpec,
        *,
        runs: list[tuple[tuple[int, ...], list[str]]],
        timeout_seconds: float,
    ) -> None:
        work = self.root / f".encode-{uuid.uuid4().hex}"
        work.mkdir()
        try:
            run_ffmpeg(
                build_piece_runs_command(
                    spec=spec,
                    runs=[
                        (boundaries, work / f"run-{n}-piece-%d.mp4")
                        for n, (boundaries, _) in enumerate(runs)
                    ],
                    look=spec.look,
                ),
                timeout_seconds=timeout_seconds,
            )
            for n, (_, keys) in enumerate(runs):
                for index, key in enumerate(keys):
                    made = work / f"run-{n}-piece-{index}.mp4"
                    if not made.is_file():
                        raise RenderError(
                            f"ffmpeg wrote {index} of {len(keys)} pieces of a run."
                        )
                    os.replace(made, self.path(key))
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _contiguous(indices: list[int]) -> list[list[int]]:
    """[1, 2, 4] -> [[1, 2], [4]]: the runs of consecutive indices."""
    groups: list[list[int]] = []
    for index in indices:
        if groups and groups[-1][-1] == index - 1:
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def render_timeout(spec: RenderSpec) -> float:
    """Generous: a 1080x1920 render runs at ~2 output seconds per wall second."""
    return 120.0 + 30.0 * spec.duration


def _concat_list(pieces: list[Path], path: Path) -> Path:
    lines = []
    for piece in pieces:
        quoted = str(piece.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    path.write_text("\n".join(lines) + "\n")
    return path


def _render_from_pieces(
    spec: RenderSpec,
    cache: PieceCache,
    *,
    tmp_video: Path,
    tmp_poster: Path,
) -> tuple[int, int]:
    """Pieces (encoded where missing), joined; sound cut per variant; the poster.
    Returns (pieces encoded, pieces reused)."""
    misses, hits = cache.misses, cache.hits
    timeout = render_timeout(spec)
    pieces = cache.pieces_for(spec, timeout_seconds=timeout)
    listing = _concat_list(pieces, tmp_video.with_suffix(".txt"))
    try:
        audio = [
            AudioCut(*segment_frames(segment, spec.fps)) for segment in spec.segments
        ]
        run_ffmpeg(
            build_piece_assembly_command(
                spec=spec, concat_list=listing, audio_cuts=audio, out_path=tmp_video
            ),
            timeout_seconds=timeout,
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            listing.unlink()
    run_ffmpeg(
        build_poster_command(
            video=tmp_video,
            total_frames=spec.total_frames,
            fps=spec.fps,
            poster_path=tmp_poster,
        ),
        timeout_seconds=timeout,
    )
    return cache.misses - misses, cache.hits - hits


def render_to_file(
    spec: RenderSpec,
    out_path: Path,
    *,
    poster_path: Path | None = None,
    cache: PieceCache | None = None,
) -> RenderResult:
    """Render `spec` to `out_path` (+ a JPEG poster), verify it, and return what it is.

    Without a cache: one ffmpeg process from the master (the reference render).

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
    encoded = reused = 0
    try:
        if cache is None:
            run_ffmpeg(
                build_render_command(spec, tmp_video, poster_path=tmp_poster),
                timeout_seconds=render_timeout(spec),
            )
        else:
            encoded, reused = _render_from_pieces(
                spec, cache, tmp_video=tmp_video, tmp_poster=tmp_poster
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
        pieces_encoded=encoded,
        pieces_reused=reused,
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
