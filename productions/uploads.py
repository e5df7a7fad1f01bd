"""An uploaded master checked as it arrives: probed once, so a file that is not a
readable video is refused on its field before anything is stored, and its duration
comes from the file unless the person gave one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from productions.media import CorruptMediaError, probe_upload


def uploaded_master_duration(upload: UploadedFile, *, declared: float | None) -> float:
    """Seconds of the master: `declared` when given, else as probed from `upload`.

    The upload is probed either way (a corrupt file is refused even with a declared
    duration); raises ValidationError on `video_file`.
    """
    try:
        info = probe_upload(upload)
    except CorruptMediaError as exc:
        raise ValidationError(
            {"video_file": [f"The uploaded file is not a readable video: {exc}"]}
        ) from exc
    return declared if declared is not None else float(info.duration)
