"""The media storage as an S3 bucket (moto's server on loopback, real HTTP): names,
copies to a worker's folder, byte windows for uploads, and the media pages."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from productions.storage import (
    StoredFileMissing,
    StoredMedia,
    copy_to_local,
    is_local_storage,
    media_storage,
)

pytestmark = pytest.mark.django_db


def test_the_media_storage_is_the_bucket(s3_media):
    storage = media_storage()

    name = storage.save("variants/a.txt", ContentFile(b"hello"))

    assert not is_local_storage(storage)
    assert s3_media.object_keys() == [name]


def test_a_taken_name_gets_a_suffix_instead_of_replacing_the_file(s3_media):
    first = default_storage.save("masters/m.mp4", ContentFile(b"one"))
    second = default_storage.save("masters/m.mp4", ContentFile(b"two"))

    assert first != second
    assert default_storage.open(first).read() == b"one"


def test_a_stored_file_is_copied_to_a_local_folder_and_read_by_windows(
    s3_media, tmp_path
):
    payload = bytes(range(256)) * 4096  # 1 MiB
    name = default_storage.save("variants/v.mp4", ContentFile(payload))

    copy = copy_to_local(default_storage, name, tmp_path / "scratch" / "v.mp4")
    media = StoredMedia(storage=default_storage, name=name)

    assert copy.read_bytes() == payload
    assert list((tmp_path / "scratch").iterdir()) == [copy]  # no partial file left
    assert media.size == len(payload)
    assert media.read_range(1000, 300) == payload[1000:1300]
    assert media.read_range(len(payload) - 10, 100) == payload[-10:]
    with media.open() as stream:
        assert stream.read() == payload


def test_a_missing_stored_file_is_said_to_be_missing(s3_media, tmp_path):
    with pytest.raises(StoredFileMissing):
        copy_to_local(default_storage, "masters/none.mp4", tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


def test_a_media_page_redirects_staff_to_a_presigned_url_of_the_object(
    s3_media, client, manager_user, outsider_user
):
    name = default_storage.save("variants/clip.mp4", ContentFile(b"\x00" * 2048))

    client.force_login(outsider_user)
    outsider_user.is_staff = True
    outsider_user.save(update_fields=["is_staff"])
    refused = client.get(f"/media/{name}")
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.force_login(manager_user)
    answer = client.get(f"/media/{name}")
    missing = client.get("/media/variants/none.mp4")

    assert refused.status_code == 403
    assert answer.status_code == 302
    location = answer["Location"]
    assert location.startswith(s3_media.server.endpoint_url)
    assert "X-Amz-Signature=" in location and "X-Amz-Expires=600" in location
    assert missing.status_code == 404
    # The presigned URL itself serves the object, with Range, from the bucket
    import httpx

    ranged = httpx.get(location, headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100
