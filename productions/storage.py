"""Media through Django's storage API: the one way any process reads or writes a video.

Masters, renders and posters live in the `default` storage (STORAGES): a folder on the
embedded default, an S3-compatible bucket for a team (MEDIA_STORAGE=s3). Nothing outside
this module asks a storage for a local path: a process that needs a file on disk (ffmpeg,
PyAV) copies it into its own scratch folder with `copy_to_local`, and uploads stream
through `StoredMedia`, window by window.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from django.core.files.storage import FileSystemStorage, Storage, storages

COPY_BLOCK_BYTES = 1024 * 1024


class StoredFileMissing(FileNotFoundError):
    """The storage has no file of that name."""


def media_storage() -> Storage:
    """The storage of masters, renders and posters (STORAGES["default"])."""
    return storages["default"]


def is_local_storage(storage: Storage) -> bool:
    """Files of this storage are on this machine's disk (the embedded default)."""
    return isinstance(storage, FileSystemStorage)


def _s3_object(storage: Storage, name: str) -> Any | None:
    """The boto3 Object behind `name` on a django-storages S3 storage, else None."""
    try:
        from storages.backends.s3 import S3Storage
        from storages.utils import clean_name
    except ImportError:  # django-storages is a team's dependency, not the embedded one
        return None
    if not isinstance(storage, S3Storage):
        return None
    return storage.bucket.Object(storage._normalize_name(clean_name(name)))


def copy_to_local(storage: Storage, name: str, dest: Path) -> Path:
    """Copy the stored file `name` to `dest` (atomically: a temporary name, then a
    rename), streaming it; StoredFileMissing when it is not there."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
    try:
        obj = _s3_object(storage, name)
        if obj is not None:
            from botocore.exceptions import ClientError

            try:
                obj.download_file(str(tmp))
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code in {"404", "NoSuchKey", "NotFound"}:
                    raise StoredFileMissing(name) from exc
                raise
        else:
            try:
                source = storage.open(name, "rb")
            except FileNotFoundError as exc:
                raise StoredFileMissing(name) from exc
            with source, tmp.open("wb") as out:
                shutil.copyfileobj(source, out, COPY_BLOCK_BYTES)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return dest


@dataclass(frozen=True)
class StoredMedia:
    """A stored file as an upload reads it: its size, a stream, or a byte window.

    On S3 a window is one ranged GET, so a chunked upload to Meta holds one window in
    memory and never the whole video, on any disk.
    """

    storage: Storage
    name: str

    @classmethod
    def local(cls, path: str | os.PathLike[str]) -> StoredMedia:
        """A file on this disk, read through the same API (a folder's storage)."""
        path = Path(path).resolve()
        return cls(FileSystemStorage(location=path.parent), path.name)

    @property
    def filename(self) -> str:
        return os.path.basename(self.name)

    @cached_property
    def size(self) -> int:
        try:
            return int(self.storage.size(self.name))
        except FileNotFoundError as exc:
            raise StoredFileMissing(self.name) from exc

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        obj = _s3_object(self.storage, self.name)
        if obj is not None:
            body = obj.get()["Body"]
            try:
                yield body
            finally:
                body.close()
            return
        with self.storage.open(self.name, "rb") as handle:
            yield handle

    def read_range(self, start: int, length: int) -> bytes:
        """`length` bytes from `start` (fewer at the end of the file)."""
        if length <= 0:
            return b""
        obj = _s3_object(self.storage, self.name)
        if obj is not None:
            body = obj.get(Range=f"bytes={start}-{start + length - 1}")["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()
        with self.storage.open(self.name, "rb") as handle:
            handle.seek(start)
            return bytes(handle.read(length))
