"""Probing masters with PyAV, and getting a master's video onto the local disk."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from django.core.files.uploadedfile import (
    SimpleUploadedFile,
    TemporaryUploadedFile,
)

from productions.media import (
    CorruptMediaError,
    MissingMediaError,
    master_local_path,
    probe_media,
    probe_upload,
)
from productions.uploads import uploaded_master_duration
from productions.url_safety import UnsafeURLError
from variants.rendering.demo_media import make_synthetic_master
from variants.rendering.ffmpeg import run_ffmpeg


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_synthetic_master(
        tmp_path_factory.mktemp("probe") / "clip.mp4",
        duration=4.0,
        width=180,
        height=320,
    )


def test_a_video_probes_with_its_streams(clip):
    info = probe_media(clip)

    assert info.duration == pytest.approx(4.0, abs=1 / 30)
    assert (info.width, info.height, info.fps) == (180, 320, 30.0)
    assert (info.video_codec, info.profile, info.pix_fmt) == ("h264", "High", "yuv420p")
    assert info.has_audio
    assert (info.audio_codec, info.sample_rate, info.channels) == ("aac", 48000, 2)
    assert info.frame_count == 120


def test_a_small_upload_in_memory_is_probed_and_rewound(clip):
    upload = SimpleUploadedFile("master.mp4", clip.read_bytes())

    info = probe_upload(upload)

    assert info.duration == pytest.approx(4.0, abs=1 / 30)
    assert upload.tell() == 0  # storage saves the whole file afterwards


def test_a_large_upload_is_probed_where_django_spooled_it(clip):
    upload = TemporaryUploadedFile("master.mp4", "video/mp4", 0, None)
    upload.write(clip.read_bytes())
    upload.seek(0)

    info = probe_upload(upload)

    assert (info.width, info.height) == (180, 320)
    assert upload.tell() == 0
    upload.close()


def test_an_upload_that_is_not_a_video_is_refused_on_its_field():
    upload = SimpleUploadedFile("master.mp4", b"\x00\x00\x00\x18ftypmp42junk")

    with pytest.raises(CorruptMediaError):
        probe_upload(upload)
    with pytest.raises(ValidationError) as refused:
        uploaded_master_duration(upload, declared=12.0)

    assert "not a readable video" in refused.value.message_dict["video_file"][0]
    assert upload.tell() == 0


def test_a_declared_duration_wins_over_the_probed_one(clip):
    upload = SimpleUploadedFile("master.mp4", clip.read_bytes())

    assert uploaded_master_duration(upload, declared=3.5) == 3.5
    assert uploaded_master_duration(upload, declared=None) == pytest.approx(
        4.0, abs=0.05
    )


def test_random_bytes_are_a_corrupt_master(tmp_path):
    path = tmp_path / "master.mp4"
    path.write_bytes(bytes((i * 7919) % 251 for i in range(100_000)))

    with pytest.raises(CorruptMediaError, match="master.mp4 is not a readable video"):
        probe_media(path)


def test_a_missing_file_is_a_missing_master(tmp_path):
    with pytest.raises(MissingMediaError, match="gone.mp4 does not exist"):
        probe_media(tmp_path / "gone.mp4")


def test_an_empty_file_is_refused(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")

    with pytest.raises(CorruptMediaError, match="empty"):
        probe_media(tmp_path / "empty.mp4")


def test_a_truncated_video_is_refused_before_any_cut_is_made(clip, tmp_path):
    # faststart puts the index first, so the headers of a cut-off file still look fine
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])

    with pytest.raises(CorruptMediaError, match="truncated"):
        probe_media(truncated)


def test_audio_without_video_is_not_a_master(tmp_path):
    path = tmp_path / "song.m4a"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(path)])

    with pytest.raises(CorruptMediaError, match="no video stream"):
        probe_media(path)


class _Master:
    """The two fields master_local_path reads, without a database."""

    def __init__(self, video_file=None, video_url=""):
        self.video_file = video_file
        self.video_url = video_url


class _RemoteStorage(Storage):
    """A storage without local paths, like S3: files only through open()."""

    def __init__(self, inner: FileSystemStorage):
        self.inner = inner

    def _open(self, name, mode="rb"):
        return self.inner._open(name, mode)

    def exists(self, name):
        return self.inner.exists(name)

    def size(self, name):
        return self.inner.size(name)


def _stored(storage, clip):
    name = storage.save("masters/clip.mp4", ContentFile(clip.read_bytes()))
    return _stored_as(storage, name)


def _stored_as(storage, name):
    from django.db.models.fields.files import FieldFile

    field = type("F", (), {"storage": storage, "name": "video_file"})()
    return FieldFile(instance=None, field=field, name=name)


def test_an_uploaded_master_is_copied_into_the_scratch_folder_and_removed(
    clip, tmp_path
):
    storage = FileSystemStorage(location=tmp_path / "media")
    master = _Master(video_file=_stored(storage, clip))

    with master_local_path(master, scratch=tmp_path / "scratch") as path:
        assert path.is_relative_to(tmp_path / "scratch")
        assert not path.is_relative_to(tmp_path / "media")
        assert probe_media(path).duration == pytest.approx(4.0, abs=1 / 30)
        copy = path

    assert not copy.exists()


def test_an_uploaded_master_is_fetched_once_into_the_workers_cache(clip, tmp_path):
    local = FileSystemStorage(location=tmp_path / "media")
    stored = _stored(local, clip)
    master = _Master(video_file=_stored_as(_RemoteStorage(local), stored.name))
    cache = tmp_path / "cache"

    with master_local_path(master, fetch_cache=cache) as first:
        pass
    first.write_bytes(first.read_bytes())  # same content, a new mtime
    mtime = first.stat().st_mtime_ns
    with master_local_path(master, fetch_cache=cache) as second:
        pass

    assert second == first and second.stat().st_mtime_ns == mtime
    assert second.read_bytes() == clip.read_bytes()


def test_an_uploaded_master_on_remote_storage_is_copied_and_the_copy_removed(
    clip, tmp_path
):
    local = FileSystemStorage(location=tmp_path / "media")
    stored = _stored(local, clip)
    storage = _RemoteStorage(local)
    master = _Master(video_file=_stored_as(storage, stored.name))

    with master_local_path(master) as path:
        assert path.read_bytes() == clip.read_bytes()
        copy = path

    assert not copy.exists()


def test_an_uploaded_master_gone_from_storage_is_a_missing_master(clip, tmp_path):
    storage = FileSystemStorage(location=tmp_path / "media")
    master = _Master(video_file=_stored(storage, clip))
    storage.delete(master.video_file.name)

    with (
        pytest.raises(MissingMediaError, match="missing from storage"),
        master_local_path(master),
    ):
        pass


def test_a_master_with_neither_file_nor_url_is_refused():
    with pytest.raises(MissingMediaError), master_local_path(_Master()):
        pass


def test_a_master_url_goes_through_the_ssrf_checks(settings):
    master = _Master(video_url="http://169.254.169.254/latest/meta-data/")

    with pytest.raises(UnsafeURLError, match="metadata"), master_local_path(master):
        pass
