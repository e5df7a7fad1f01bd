"""An uploaded master checked as it arrives, by the API and the admin alike.

1. The cheap checks first, before a byte is decoded: a video extension
   (MASTER_FILE_EXTENSIONS) and at most MASTER_MAX_BYTES.
2. One probe: the content must be an MP4/QuickTime or Matroska/WebM video matching its
   extension, within MASTER_MAX_DIMENSION, MASTER_MAX_STREAMS and MASTER_MAX_SECONDS
   (`productions.media`); its duration comes from the file unless the person gave one.
3. The services store it under `master_file_name`: an ASCII slug with its extension,
   at most MASTER_FILE_NAME_MAX_CHARS, made unique by the storage itself.

Every refusal is a ValidationError on `video_file` (or `duration`) naming the limit.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.utils.text import slugify

from productions.media import (
    CorruptMediaError,
    MediaLimitError,
    check_master_seconds,
    probe_upload,
)
from productions.validators import master_extension, validate_master_file

# The demuxer (as PyAV names it) that must read a file with each extension.
_CONTAINER_OF_EXTENSION = {
    ".mp4": "mp4",
    ".mov": "mov",
    ".m4v": "mp4",
    ".webm": "webm",
    ".mkv": "matroska",
}


def check_master_file(upload: File) -> None:
    """Extension and size (`validate_master_file`), on the `video_file` field:
    refused before the file is probed or stored."""
    try:
        validate_master_file(upload)
    except ValidationError as exc:
        raise ValidationError({"video_file": exc.messages}) from exc


def check_declared_duration(declared: float | None) -> None:
    if declared is None:
        return
    try:
        check_master_seconds(declared, what="The declared duration")
    except MediaLimitError as exc:
        raise ValidationError({"duration": [str(exc)]}, code="too_long") from exc


def uploaded_master_duration(upload: File, *, declared: float | None) -> float:
    """Seconds of the master: `declared` when given, else as probed from `upload`.

    The upload is checked and probed either way (a corrupt or oversized file is
    refused even with a declared duration); raises ValidationError on `video_file`.
    """
    check_master_file(upload)
    check_declared_duration(declared)
    try:
        info = probe_upload(upload)
    except MediaLimitError as exc:
        raise ValidationError(
            {"video_file": [f"The uploaded video is refused: {exc}"]}, code="limit"
        ) from exc
    except CorruptMediaError as exc:
        reason = str(exc)
        if reason.endswith("is not a readable video."):  # the decoder gave up at once
            reason = (
                f"{reason[: -len(' is not a readable video.')]} is damaged or not a "
                "video at all; masters are MP4, QuickTime, Matroska or WebM files."
            )
        raise ValidationError(
            {"video_file": [f"The uploaded file is not a readable video: {reason}"]}
        ) from exc
    expected = _CONTAINER_OF_EXTENSION[master_extension(upload.name or "")]
    if expected not in info.container.split(","):
        raise ValidationError(
            {
                "video_file": [
                    f"The file is named {master_extension(upload.name or '')} but "
                    f"holds a {info.container} video; give it its own extension."
                ]
            },
            code="extension_mismatch",
        )
    return declared if declared is not None else float(info.duration)


def master_file_name(name: str) -> str:
    """The name a master is stored under: an ASCII slug of the person's file name with
    its extension, at most MASTER_FILE_NAME_MAX_CHARS characters ("master" when
    nothing of the name survives). The storage makes it unique when it is taken."""
    extension = master_extension(name)
    stem = PurePosixPath(name.replace("\\", "/")).name
    stem = stem[: len(stem) - len(extension)] if extension else stem
    limit = int(settings.MASTER_FILE_NAME_MAX_CHARS) - len(extension)
    slug = slugify(stem)[:limit].strip("-_") or "master"
    return slug + extension


def prepared_master_file(upload: File) -> File:
    """`upload`, checked (`check_master_file`) and renamed to `master_file_name`: what
    the services attach to a master, whoever handed it over."""
    check_master_file(upload)
    upload.name = master_file_name(upload.name or "")
    return upload
