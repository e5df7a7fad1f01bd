"""Master media: probing a video and getting a copy of a master onto the worker's disk.

PyAV reads durations and streams (the imageio-ffmpeg wheel ships no ffprobe). A master is
probed before anything is cut from it, so a missing, unreadable or corrupt file gives one
clear error instead of an ffmpeg stack trace half-way through a render.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import time
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.base import File

from productions.storage import StoredFileMissing, copy_to_local
from productions.url_safety import (
    IPNetwork,
    Resolver,
    fetch_to_file,
    system_resolver,
)

logger = logging.getLogger(__name__)


class CorruptMediaError(Exception):
    """The media file is missing, unreadable, not a video, or damaged."""


class MissingMediaError(CorruptMediaError):
    """The master has no file, or its file is gone from storage."""


class MediaLimitError(CorruptMediaError):
    """A readable video past a master limit; the message names the setting."""


# The containers a master may be, as PyAV names their demuxers ("mov,mp4,m4a,..." reads
# .mp4/.mov/.m4v, "matroska,webm" reads .mkv/.webm). Anything else (GIF, PNG, AVI,
# MPEG-TS, HTML) is refused whatever its file is called.
MASTER_CONTAINERS = frozenset({"mov", "mp4", "matroska", "webm"})


def check_master_headers(
    *, container: str, width: int, height: int, streams: int
) -> None:
    """Refuse a video whose headers are past the master limits, before any frame is
    decoded (a 60000x60000 header would otherwise allocate gigabytes)."""
    if not MASTER_CONTAINERS & set(container.split(",")):
        raise MediaLimitError(
            f"The file is a {container or 'unknown'} file; masters must be MP4, "
            "QuickTime, Matroska or WebM video."
        )
    limit = int(settings.MASTER_MAX_DIMENSION)
    if width > limit or height > limit:
        raise MediaLimitError(
            f"The video is {width}x{height} pixels; masters may be at most {limit} "
            "pixels wide and high (MASTER_MAX_DIMENSION)."
        )
    most_streams = int(settings.MASTER_MAX_STREAMS)
    if streams > most_streams:
        raise MediaLimitError(
            f"The video has {streams} streams; masters may have at most {most_streams} "
            "(MASTER_MAX_STREAMS)."
        )


def check_master_seconds(seconds: float, *, what: str) -> None:
    """Refuse a master longer than MASTER_MAX_SECONDS (probed or declared)."""
    limit = float(settings.MASTER_MAX_SECONDS)
    if seconds > limit:
        raise MediaLimitError(
            f"{what} is {seconds:.0f}s long; masters may be at most {limit:.0f}s "
            "(MASTER_MAX_SECONDS)."
        )


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool
    video_codec: str
    profile: str | None
    pix_fmt: str | None
    audio_codec: str | None
    sample_rate: int | None
    channels: int | None
    frame_count: int | None = None
    audio_profile: str | None = None
    container: str = ""
    stream_count: int = 0


def probe_media(path: Path | str) -> MediaInfo:
    """Read the streams of a media file and prove its first video frame decodes.

    Every video the engine reads is a master or made from one, so the master limits
    (container, MASTER_MAX_DIMENSION, MASTER_MAX_STREAMS, MASTER_MAX_SECONDS) are
    checked on the headers first; past one, MediaLimitError names the setting.
    """
    # PyAV loads the FFmpeg libraries: imported on the first probe, not by every module
    # (admin, API, tasks) that imports this one.
    import av

    path = Path(path)
    if not path.exists():
        raise MissingMediaError(f"The media file {path.name} does not exist.")
    if not path.is_file() or path.stat().st_size == 0:
        raise CorruptMediaError(f"The media file {path.name} is empty or not a file.")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                raise CorruptMediaError(f"{path.name} has no video stream.")
            video = container.streams.video[0]
            if video.codec_context is None:
                raise CorruptMediaError(
                    f"{path.name} has a video stream that no decoder reads."
                )
            audio = container.streams.audio[0] if container.streams.audio else None
            duration = _duration_seconds(container, video)
            rate = video.average_rate or video.guessed_rate or video.base_rate
            info = MediaInfo(
                duration=duration,
                width=int(video.codec_context.width),
                height=int(video.codec_context.height),
                fps=float(rate) if rate else 0.0,
                has_audio=audio is not None,
                video_codec=video.codec_context.name,
                profile=video.profile,
                pix_fmt=video.codec_context.pix_fmt,
                audio_codec=audio.codec_context.name if audio else None,
                sample_rate=int(audio.codec_context.sample_rate) if audio else None,
                channels=_channels(audio.codec_context) if audio else None,
                frame_count=int(video.frames) or None,
                audio_profile=audio.profile if audio else None,
                container=str(container.format.name or ""),
                stream_count=len(container.streams),
            )
            check_master_headers(
                container=info.container,
                width=info.width,
                height=info.height,
                streams=info.stream_count,
            )
            check_master_seconds(info.duration, what="The video")
            # Headers can look fine on a damaged or truncated file: decode the first
            # frame and one near the end to be sure the whole length is there.
            next(container.decode(video=0))
            _decode_near_end(container, video, duration, path.name)
    except CorruptMediaError:
        raise
    except StopIteration as exc:
        raise CorruptMediaError(f"{path.name} has no decodable video frame.") from exc
    except (
        av.error.FFmpegError,
        OSError,
        ValueError,
        IndexError,
        AttributeError,
        TypeError,
    ) as exc:
        raise CorruptMediaError(
            f"{path.name} is not a readable video ({type(exc).__name__}: {exc})."
        ) from exc
    if info.duration <= 0 or info.width <= 0 or info.height <= 0 or info.fps <= 0:
        raise CorruptMediaError(
            f"{path.name} reports no usable duration, size or frame rate."
        )
    return info


def probe_upload(upload: File) -> MediaInfo:
    """Probe an uploaded video where it lies on local disk (Django's temporary file), or
    from a temporary copy of a small in-memory upload; the upload is rewound after.

    Raises CorruptMediaError when the upload is not a readable video.
    """
    temporary_file_path = getattr(upload, "temporary_file_path", None)
    probed = ""
    try:
        if temporary_file_path is not None:
            probed = temporary_file_path()
            return probe_media(probed)
        suffix = os.path.splitext(upload.name or "")[1][:10]
        with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
            probed = handle.name
            for chunk in upload.chunks():
                handle.write(chunk)
            handle.flush()
            return probe_media(handle.name)
    except CorruptMediaError as exc:
        raise type(exc)(_as_uploaded(str(exc), probed, upload.name or "")) from exc
    finally:
        upload.seek(0)


# The decoder's own words ("(InvalidDataError: [Errno 1094995529] …)"): for the log.
_DECODER_DETAIL = re.compile(r" \((?:\w+Error|\w+Exception): .*\)\.$", re.S)


def _as_uploaded(message: str, probed: str, name: str) -> str:
    """A probe's refusal as the person reads it: their file's name, not the
    temporary copy's, and without the decoder's error codes (logged instead)."""
    logger.info("upload %r refused by the probe: %s", name, message)
    shown = PurePosixPath(name.replace("\\", "/")).name or "The file"
    if probed:
        message = message.replace(probed, shown).replace(Path(probed).name, shown)
    return _DECODER_DETAIL.sub(".", message)


def _decode_near_end(container: Any, video: Any, duration: float, name: str) -> None:
    if duration <= 1.0 or video.time_base is None:
        return
    target = int((duration - 1.0) / Fraction(video.time_base))
    container.seek(target, stream=video, backward=True, any_frame=False)
    for frame in container.decode(video=0):
        if frame.time is not None and frame.time >= duration - 1.5:
            return
    raise CorruptMediaError(
        f"The end of {name} cannot be decoded: the file is truncated or damaged."
    )


def _duration_seconds(container: Any, video: Any) -> float:
    if video.duration is not None and video.time_base is not None:
        return float(video.duration * Fraction(video.time_base))
    if container.duration is not None:
        return container.duration / 1_000_000
    return 0.0


def _channels(codec_context: Any) -> int:
    layout = getattr(codec_context, "layout", None)
    if layout is not None and getattr(layout, "nb_channels", None):
        return int(layout.nb_channels)
    return int(getattr(codec_context, "channels", 0) or 0)


@contextlib.contextmanager
def master_local_path(
    master: Any,
    *,
    resolver: Resolver = system_resolver,
    allowed_networks: Collection[IPNetwork] = (),
    fetch_cache: Path | None = None,
    scratch: Path | None = None,
) -> Iterator[Path]:
    """Yield a local copy of the master's video; temporary copies are deleted after.

    The video comes through the storage API (any storage: a folder, a bucket), or, for
    a `video_url`, under the SSRF rules of `productions.url_safety` with the
    MASTER_MAX_BYTES and FETCH_TIMEOUT_SECONDS caps. With `fetch_cache` (a folder of
    the worker's own) the copy is kept there, so a batch of 15 variants fetches its
    master once per worker instead of 15 times; without it the copy goes to a
    temporary folder under `scratch` (the system's temporary folder when None).
    """
    if not master.video_file and not master.video_url:
        raise MissingMediaError(
            "The master has neither an uploaded file nor a video URL."
        )
    if fetch_cache is not None:
        if master.video_file:
            yield _stored_master(master, fetch_cache)
        else:
            yield _fetched_master(
                master,
                fetch_cache,
                resolver=resolver,
                allowed_networks=allowed_networks,
            )
        return
    if scratch is not None:
        Path(scratch).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="master-", dir=scratch) as tmp:
        if master.video_file:
            name = master.video_file.name
            dest = Path(tmp) / ("master" + PurePosixPath(name).suffix.lower())
            _copy_stored(master.video_file.storage, name, dest)
        else:
            suffix = PurePosixPath(master.video_url.split("?")[0]).suffix.lower()
            dest = Path(tmp) / ("master" + (suffix if len(suffix) <= 5 else ""))
            _fetch_master_url(master, dest, resolver, allowed_networks)
        yield dest


def _copy_stored(storage: Any, name: str, dest: Path) -> None:
    try:
        copy_to_local(storage, name, dest)
    except StoredFileMissing as exc:
        raise MissingMediaError(
            f"The master's uploaded file {name} is missing from storage."
        ) from exc


def _stored_master(master: Any, root: Path) -> Path:
    """The master's stored file copied once into `root`, keyed by its stored name and
    size: storages never reuse a name for other content (a taken name gets a suffix),
    so a replaced video is a new key."""
    root.mkdir(parents=True, exist_ok=True)
    field = master.video_file
    try:
        size = int(field.storage.size(field.name))
    except (FileNotFoundError, StoredFileMissing) as exc:
        raise MissingMediaError(
            f"The master's uploaded file {field.name} is missing from storage."
        ) from exc
    key = hashlib.sha256(f"stored|{field.name}|{size}".encode()).hexdigest()
    path = root / f"{key}.media"
    if path.is_file() and path.stat().st_size == size:
        return path
    _copy_stored(field.storage, field.name, path)
    _evict_masters(root)
    return path


# A cached master not used for this long may be evicted (a render may still read it).
FETCH_CACHE_MIN_AGE_SECONDS = 3600.0


def _fetched_master(
    master: Any,
    root: Path,
    *,
    resolver: Resolver,
    allowed_networks: Collection[IPNetwork],
) -> Path:
    """The master's URL fetched once into `root`, keyed by master and URL.

    A new URL is a new key, so a human who points the master elsewhere gets the new
    video. Concurrent renders may both fetch; the atomic rename makes that harmless.
    The folder is bounded by RENDER_CACHE_MAX_BYTES, oldest fetch first.
    """
    root.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(f"{master.pk}|{master.video_url}".encode()).hexdigest()
    path = root / f"{key}.media"
    if path.is_file():
        # Not touched on a hit: the span cache keys a master by path and mtime, so a
        # new mtime would make it hash the whole video again. Eviction is by age.
        return path
    tmp = root / f".{key}.{uuid.uuid4().hex}.tmp"
    try:
        _fetch_master_url(master, tmp, resolver, allowed_networks)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _evict_masters(root)
    return path


def _evict_masters(root: Path) -> None:
    evict_oldest_files(
        root,
        "*.media",
        max_bytes=int(getattr(settings, "RENDER_CACHE_MAX_BYTES", 1024**3)),
        min_age_seconds=FETCH_CACHE_MIN_AGE_SECONDS,
    )


def _fetch_master_url(
    master: Any,
    dest: Path,
    resolver: Resolver,
    allowed_networks: Collection[IPNetwork],
) -> None:
    fetch_to_file(
        master.video_url,
        dest,
        max_bytes=settings.MASTER_MAX_BYTES,
        timeout_seconds=settings.FETCH_TIMEOUT_SECONDS,
        resolver=resolver,
        allowed_networks=allowed_networks,
    )


def evict_oldest_files(
    root: Path, pattern: str, *, max_bytes: int, min_age_seconds: float
) -> None:
    """Delete the oldest files matching `pattern` in `root` (by mtime) until the rest
    fit in `max_bytes`, sparing files younger than `min_age_seconds` (still in use)."""
    entries = []
    for entry in root.glob(pattern):
        with contextlib.suppress(FileNotFoundError):
            stat = entry.stat()
            entries.append((stat.st_mtime, stat.st_size, entry))
    total = sum(size for _, size, _ in entries)
    now = time.time()
    for mtime, size, entry in sorted(entries):
        if total <= max_bytes:
            break
        if now - mtime < min_age_seconds:
            continue
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()
            total -= size
