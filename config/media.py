"""Media (masters, renders, posters) served by Django, with HTTP Range.

Django's `static()` view answers every request with the whole file and ignores
`Range`, so a browser can neither seek a master nor play a fragment's `#t=` cut. This
view answers one `Range: bytes=…` with 206, streams only the asked bytes, and serves
the company's unreleased videos to signed-in staff with an engine role only.

1. Who: anonymous → the admin's login page; staff without a role, or not staff → 403.
2. What: a path inside MEDIA_ROOT only. `..`, absolute paths, hidden folders (the
   render cache) and symlinks that resolve outside MEDIA_ROOT are 404, as a missing
   file is — a probe learns nothing about what exists.
3. How much: no `Range` (or one we do not read: several ranges, other units, bad
   syntax) → 200 and the whole file, as RFC 9110 §14.2 lets a server ignore it; one
   satisfiable range → 206 with `Content-Range`; a range past the end → 416 with
   `Content-Range: bytes */size`. A stale `If-Range` gets the whole file.

With remote storage (MEDIA_STORAGE=s3) the same checks end in a redirect to a presigned
URL of the object, valid for AWS_QUERYSTRING_EXPIRE seconds; the bucket answers Range.

Front servers (nginx `X-Accel`, a CDN) take over when MEDIA_SERVED_BY_DJANGO is false;
`config/urls.py` then adds no route at all.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.files.storage import Storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseForbidden,
    HttpResponseRedirect,
)
from django.urls import reverse
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from productions.roles import has_engine_role
from productions.storage import is_local_storage, media_storage

# Chunks large enough for video, small enough that a seek wastes little.
STREAM_BLOCK_BYTES = 64 * 1024
_RANGE = re.compile(r"^bytes=(?P<start>\d*)-(?P<end>\d*)$")
# Shown in the page (video, poster): anything else is downloaded, never rendered, so
# an HTML or SVG file in MEDIA_ROOT cannot run script with a staff member's session.
_INLINE_TYPES = ("video/", "audio/", "image/png", "image/jpeg", "image/webp")


class _BoundedFile:
    """`length` bytes of an open file from where it was seeked: what FileResponse
    streams for a range, block by block, never more."""

    def __init__(self, handle: IO[bytes], length: int) -> None:
        self._handle = handle
        self._left = length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size < 0 else min(size, self._left)
        chunk = self._handle.read(size)
        self._left -= len(chunk)
        return chunk

    def close(self) -> None:
        self._handle.close()


def media_name_parts(relative: str) -> tuple[str, ...]:
    """The plain path segments of a media name; Http404 for anything else."""
    parts = PurePosixPath(relative.replace("\\", "/")).parts
    if (
        not parts
        or relative.startswith(("/", "\\"))
        or any(p in ("", ".", "..") or p.startswith(".") or ":" in p for p in parts)
        or "\x00" in relative
    ):
        raise Http404("No such media file.")
    return parts


def media_file_path(relative: str) -> Path:
    """The file under the local media folder that `relative` names; Http404 else."""
    parts = media_name_parts(relative)
    storage = media_storage()
    location = getattr(storage, "location", None) or settings.MEDIA_ROOT
    root = Path(location).resolve()
    try:
        target = root.joinpath(*parts).resolve()
        found = target.is_relative_to(root) and target.is_file()
    except OSError:  # a name the file system refuses (too long, say) names no file
        found = False
    if not found:
        raise Http404("No such media file.")
    return target


class UnsatisfiableRange(Exception):
    """A well-formed range that no byte of the file satisfies (416)."""


def requested_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of one `Range` header on a file of `size`,
    or None for a range we do not read (the whole file is served).

    Raises UnsatisfiableRange when it starts past the end (or asks for no bytes).
    """
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    start, end = match["start"], match["end"]
    if not start and not end:
        return None
    if not start:  # a suffix: the last N bytes
        suffix = int(end)
        if suffix == 0 or size == 0:
            raise UnsatisfiableRange(header)
        return max(size - suffix, 0), size - 1
    first = int(start)
    last = int(end) if end else size - 1
    if end and last < first:
        return None  # invalid: ignored, as RFC 9110 says
    if first >= size:
        raise UnsatisfiableRange(header)
    return first, min(last, size - 1)


def _if_range_holds(request: HttpRequest, modified: float) -> bool:
    value = request.headers.get("If-Range")
    if not value:
        return True
    since = parse_http_date_safe(value)  # an ETag never matches: we send none
    return since is not None and int(modified) <= since


@require_safe
def media_serve(request: HttpRequest, path: str) -> HttpResponseBase:
    """One media file for staff with an engine role, whole or the range asked for."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not (request.user.is_staff and has_engine_role(request.user)):
        return HttpResponseForbidden(
            "These videos are for the marketing team: your account has no engine role."
        )
    storage = media_storage()
    if not is_local_storage(storage):
        return _redirect_to_storage(storage, path)
    target = media_file_path(path)
    stat = target.stat()
    size = stat.st_size
    header = request.headers.get("Range", "")
    try:
        asked = requested_range(header, size) if header else None
    except UnsatisfiableRange:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        return refused
    if asked is not None and not _if_range_holds(request, stat.st_mtime):
        asked = None
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    inline = content_type.startswith(_INLINE_TYPES)
    if not inline:
        content_type = "application/octet-stream"
    handle = target.open("rb")
    if asked is None:
        first, last, status = 0, size - 1, 200
    else:
        (first, last), status = asked, 206
        handle.seek(first)
    length = max(last - first + 1, 0)
    response = FileResponse(
        _BoundedFile(handle, length),
        status=status,
        content_type=content_type,
        as_attachment=not inline,
        filename=target.name,
    )
    response.block_size = STREAM_BLOCK_BYTES
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Last-Modified"] = http_date(stat.st_mtime)
    # Unreleased videos: the browser may keep them, no shared cache may.
    response["Cache-Control"] = "private, max-age=3600"
    if status == 206:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response


def _redirect_to_storage(storage: Storage, path: str) -> HttpResponseBase:
    """Remote storage: after the same checks, a short-lived presigned URL of the
    object (the bucket serves Range itself); a missing object is 404 here."""
    name = "/".join(media_name_parts(path))
    if not storage.exists(name):
        raise Http404("No such media file.")
    response = HttpResponseRedirect(storage.url(name))
    response["Cache-Control"] = "private, no-store"
    return response


def media_url_prefix() -> str | None:
    """MEDIA_URL as a local route prefix (no slashes around it), or None when media
    are not Django's to serve (MEDIA_SERVED_BY_DJANGO off, or MEDIA_URL on another
    host)."""
    if not settings.MEDIA_SERVED_BY_DJANGO:
        return None
    url = str(settings.MEDIA_URL or "")
    if not url or "://" in url or url.startswith("//"):
        return None
    prefix = url.strip("/")
    return prefix or None
