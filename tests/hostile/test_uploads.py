"""Hostile master uploads: a video by its content and its name, within MASTER_MAX_BYTES,
MASTER_MAX_DIMENSION, MASTER_MAX_STREAMS and MASTER_MAX_SECONDS, stored under a bounded
ASCII name.

Each refusal goes through the real API (a sample through the admin, and the services
that commands call) and proves a 400 (a form error in the admin), a message naming
the limit, and nothing written: no master, no audit row, no file in MEDIA_ROOT.
"""

import html
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from productions.guard import actor_for_user
from productions.models import ApprovalAudit, CreativeProduction
from productions.services import production_create, production_update
from tests.factories import ProductionFactory

pytestmark = pytest.mark.django_db

NOT_ACCEPTED = "is not accepted"
NOT_READABLE = "not a readable video"
NOT_A_MASTER_CONTAINER = "masters must be MP4, QuickTime, Matroska or WebM video"


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args],
        check=True,
        timeout=60,
    )


def _testsrc(size: str = "64x36", seconds: float = 1.0) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=10:duration={seconds}"]


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, bytes]:
    """Small real files of every kind the corpus needs, made once per session."""
    folder = tmp_path_factory.mktemp("hostile-media")
    h264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
    recipes: dict[str, list[str]] = {
        "mp4": [*_testsrc(seconds=3.0), *h264, "mp4"],
        "mkv": [*_testsrc(), *h264, "mkv"],
        "ts": [*_testsrc(), *h264, "-f", "mpegts", "ts"],
        "avi": [*_testsrc(), "-c:v", "mpeg4", "avi"],
        "gif": [*_testsrc(), "-frames:v", "5", "gif"],
        "png": [*_testsrc(), "-frames:v", "1", "png"],
        "m4a": ["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", "m4a"],
        "wide": [*_testsrc("5000x10"), "-frames:v", "1", *h264, "mp4"],
        "tall": [*_testsrc("10x5000"), "-frames:v", "1", *h264, "mp4"],
        "streams": [
            *_testsrc(),
            "-f",
            "lavfi",
            "-i",
            "sine=duration=1",
            "-map",
            "0",
            *(arg for _ in range(8) for arg in ("-map", "1")),
            *h264,
            "-c:a",
            "aac",
            "mp4",
        ],
    }
    made: dict[str, bytes] = {}
    for name, recipe in recipes.items():
        *args, extension = recipe
        path = folder / f"{name}.{extension}"
        _ffmpeg(*args, str(path))
        made[name] = path.read_bytes()
    made["truncated"] = made["mp4"][: len(made["mp4"]) // 2]
    made["html"] = b"<!doctype html><script>alert(document.cookie)</script>"
    made["svg"] = (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
    )
    made["random"] = bytes((i * 7919) % 251 for i in range(50_000))
    return made


# (file name, which content, the message that must name the refusal)
HOSTILE_UPLOADS = [
    # Names: only video extensions are stored, whatever the content.
    ("master.html", "mp4", NOT_ACCEPTED),
    ("master.htm", "html", NOT_ACCEPTED),
    ("master.svg", "svg", NOT_ACCEPTED),
    ("master.xhtml", "html", NOT_ACCEPTED),
    ("master.js", "html", NOT_ACCEPTED),
    ("master.php", "html", NOT_ACCEPTED),
    ("master.exe", "random", NOT_ACCEPTED),
    ("master", "mp4", "a name without an extension"),
    ("master.mp4.html", "mp4", NOT_ACCEPTED),
    ("master.MP4.SVG", "svg", NOT_ACCEPTED),
    (".htaccess", "html", NOT_ACCEPTED),
    ("master.gif", "gif", NOT_ACCEPTED),
    ("master.avi", "avi", NOT_ACCEPTED),
    ("master.txt", "mp4", NOT_ACCEPTED),
    # Content: checked by probing, not by the name.
    ("master.mp4", "html", NOT_READABLE),
    ("master.mp4", "svg", NOT_READABLE),
    ("master.mov", "random", NOT_READABLE),
    ("master.mp4", "truncated", NOT_READABLE),
    ("master.mp4", "m4a", "has no video stream"),
    ("master.mp4", "gif", NOT_A_MASTER_CONTAINER),
    ("master.mp4", "png", NOT_A_MASTER_CONTAINER),
    ("master.mp4", "ts", NOT_A_MASTER_CONTAINER),
    ("master.mkv", "avi", NOT_A_MASTER_CONTAINER),
    ("master.mp4", "mkv", "holds a matroska,webm video"),
    ("master.webm", "mp4", "holds a mov,mp4"),
    ("master.m4v", "mkv", "holds a matroska,webm video"),
    # Limits (defaults: 4096 pixels, 8 streams).
    ("wide.mp4", "wide", "at most 4096 pixels wide and high (MASTER_MAX_DIMENSION)"),
    ("tall.mp4", "tall", "(MASTER_MAX_DIMENSION)"),
    ("streams.mp4", "streams", "has 9 streams; masters may have at most 8"),
]


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="video/mp4")


def _post_upload(client, upload, **fields):
    return client.post(
        "/api/productions/",
        {"title": "Hostile", "video_file": upload, **fields},
        format="multipart",
    )


def _media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _assert_nothing_written() -> None:
    assert not CreativeProduction.objects.exists()
    assert not ApprovalAudit.objects.exists()
    assert _media_files() == []


def _field_messages(response, field: str = "video_file") -> str:
    return " ".join(response.json()["error"]["fields"][field])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [pytest.param(*case, id=f"{case[0]}<-{case[1]}") for case in HOSTILE_UPLOADS],
)
def test_a_hostile_upload_is_a_400_naming_why_and_writes_nothing(
    manager_api, media, name, content, message
):
    response = _post_upload(manager_api, _upload(name, media[content]))

    assert response.status_code == 400, response.content[:500]
    assert message in _field_messages(response)
    _assert_nothing_written()


def test_an_upload_past_the_size_cap_is_refused_before_it_is_probed(
    manager_api, media, settings, monkeypatch
):
    # Given a cap below the size of a real video
    settings.MASTER_MAX_BYTES = 1000
    probed = []
    monkeypatch.setattr(
        "productions.media.probe_media", lambda path: probed.append(path)
    )

    response = _post_upload(manager_api, _upload("master.mp4", media["mp4"]))

    assert response.status_code == 400
    assert (
        f"is {len(media['mp4'])} bytes; masters may be at most 1000 bytes "
        "(MASTER_MAX_BYTES)" in _field_messages(response)
    )
    assert probed == []
    _assert_nothing_written()


def test_a_video_longer_than_the_duration_cap_is_refused(manager_api, media, settings):
    settings.MASTER_MAX_SECONDS = 2

    response = _post_upload(manager_api, _upload("master.mp4", media["mp4"]))

    assert response.status_code == 400
    assert "is 3s long; masters may be at most 2s (MASTER_MAX_SECONDS)" in (
        _field_messages(response)
    )
    _assert_nothing_written()


def test_a_declared_duration_past_the_cap_is_refused_on_duration(
    manager_api, media, settings
):
    settings.MASTER_MAX_SECONDS = 2

    response = _post_upload(
        manager_api, _upload("master.mp4", media["mp4"]), duration="3"
    )

    assert response.status_code == 400
    assert "(MASTER_MAX_SECONDS)" in _field_messages(response, "duration")
    _assert_nothing_written()


def test_the_dimension_cap_is_a_setting(manager_api, media, settings):
    settings.MASTER_MAX_DIMENSION = 32

    response = _post_upload(manager_api, _upload("master.mp4", media["mp4"]))

    assert response.status_code == 400
    assert "is 64x36 pixels; masters may be at most 32" in _field_messages(response)
    _assert_nothing_written()


def test_replacing_a_masters_file_with_a_hostile_one_changes_nothing(
    manager_api, media
):
    master = ProductionFactory(video_url="https://cdn.example.com/m.mp4")

    response = manager_api.patch(
        f"/api/productions/{master.pk}/",
        {"video_file": _upload("evil.svg", media["svg"])},
        format="multipart",
    )

    assert response.status_code == 400
    assert NOT_ACCEPTED in _field_messages(response)
    master.refresh_from_db()
    assert not master.video_file
    assert not ApprovalAudit.objects.exists()
    assert _media_files() == []


def _stored_names() -> list[str]:
    return sorted(
        CreativeProduction.objects.exclude(video_file="").values_list(
            "video_file", flat=True
        )
    )


def test_a_600_character_name_uploaded_twice_is_stored_twice_under_bounded_names(
    manager_api, media
):
    # Given a name longer than any file system allows for one path component
    name = "a" * 596 + ".mp4"

    first = _post_upload(manager_api, _upload(name, media["mp4"]))
    second = _post_upload(manager_api, _upload(name, media["mp4"]))

    # Then both are stored, under distinct short names with their extension
    assert first.status_code == 201, first.content[:500]
    assert second.status_code == 201, second.content[:500]
    names = _stored_names()
    assert len(set(names)) == 2
    for stored in names:
        base = Path(stored).name
        assert base.endswith(".mp4")
        assert len(base) <= 100 + len("_abcdefg")  # the storage's unique suffix
        assert (Path(settings.MEDIA_ROOT) / stored).is_file()


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("Ünïcødé 🎬 teaser.MP4", "unicde-teaser.mp4"),  # ø has no ASCII base
        ("../../etc/passwd.mp4", "passwd.mp4"),
        ("..\\..\\windows\\win.ini.mov", "winini.mov"),
        ("‮4pm.evil.mp4", "4pmevil.mp4"),
        ("....mp4", "master.mp4"),
        ("<script>alert(1)</script>.mkv", "script.mkv"),  # after the last /
    ],
    ids=["unicode", "traversal", "backslashes", "rtl-override", "dots", "markup"],
)
def test_a_stored_name_is_an_ascii_slug_with_its_extension(
    manager_api, media, name, stored
):
    content = media["mkv"] if stored.endswith(".mkv") else media["mp4"]

    response = _post_upload(manager_api, _upload(name, content))

    assert response.status_code == 201, response.content[:500]
    (path,) = _stored_names()
    assert Path(path).name == stored
    assert path.startswith("masters/")


def _admin_form(**overrides) -> dict:
    data = {
        "title": "Hostile",
        "is_active": "on",
        "video_url": "",
        "duration": "",
        "style_guide": "{}",
        "human_instructions": "",
        "campaign_id": "",
        "adset_id": "",
        "fragment_set-TOTAL_FORMS": "0",
        "fragment_set-INITIAL_FORMS": "0",
        "fragment_set-MIN_NUM_FORMS": "0",
        "fragment_set-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


ADMIN_UPLOADS = [
    pytest.param(*case, id=f"{case[0]}<-{case[1]}")
    for case in HOSTILE_UPLOADS
    if case[0] in {"master.html", "master.svg", "wide.mp4", "streams.mp4"}
    or case[1] in {"truncated", "gif"}
]


@pytest.mark.parametrize(("name", "content", "message"), ADMIN_UPLOADS)
def test_a_hostile_upload_in_the_admin_is_a_form_error_and_writes_nothing(
    manager_client, media, name, content, message
):
    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"),
        _admin_form(video_file=_upload(name, media[content])),
    )

    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    _assert_nothing_written()


def test_the_admin_refuses_an_upload_past_the_size_cap(manager_client, media, settings):
    settings.MASTER_MAX_BYTES = 1000

    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"),
        _admin_form(video_file=_upload("master.mp4", media["mp4"])),
    )

    assert response.status_code == 200
    assert "(MASTER_MAX_BYTES)" in html.unescape(response.content.decode())
    _assert_nothing_written()


def test_an_admin_upload_without_a_duration_is_probed_for_it(manager_client, media):
    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"),
        _admin_form(video_file=_upload("Spring Teaser.mp4", media["mp4"])),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    master = CreativeProduction.objects.get()
    assert master.duration == pytest.approx(3.0, abs=0.1)
    assert Path(master.video_file.name).name == "spring-teaser.mp4"


@pytest.mark.parametrize(
    ("name", "size_cap", "message"),
    [
        ("master.html", None, NOT_ACCEPTED),
        ("master.svg", None, NOT_ACCEPTED),
        ("master.mp4", 10, "(MASTER_MAX_BYTES)"),
    ],
)
def test_the_services_refuse_a_hostile_file_from_any_caller(
    manager_user, settings, name, size_cap, message
):
    # Given a command or script that hands a file straight to the service
    if size_cap is not None:
        settings.MASTER_MAX_BYTES = size_cap
    actor = actor_for_user(manager_user)

    with pytest.raises(ValidationError) as refused:
        production_create(
            actor=actor,
            title="From a command",
            video_file=ContentFile(b"<svg onload=alert(1)>", name=name),
            duration=10.0,
        )

    assert message in " ".join(refused.value.message_dict["video_file"])
    _assert_nothing_written()


def test_the_update_service_stores_a_replacement_under_a_normalised_name(
    manager_user, media
):
    master = ProductionFactory()

    production_update(
        actor=actor_for_user(manager_user),
        production_id=master.pk,
        changes={"video_file": ContentFile(media["mp4"], name="Ä" * 300 + ".mp4")},
    )

    master.refresh_from_db()
    assert Path(master.video_file.name).name == "a" * 96 + ".mp4"


def test_the_extension_setting_names_only_extensions_the_engine_can_read():
    from django.conf import settings

    from productions.uploads import _CONTAINER_OF_EXTENSION

    assert set(settings.MASTER_FILE_EXTENSIONS) <= set(_CONTAINER_OF_EXTENSION)
    assert set(settings._READABLE_MASTER_EXTENSIONS) == set(_CONTAINER_OF_EXTENSION)


def test_a_deployment_may_narrow_the_extensions(settings):
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from productions.validators import validate_master_file

    settings.MASTER_FILE_EXTENSIONS = (".mp4",)

    with pytest.raises(ValidationError, match="MASTER_FILE_EXTENSIONS"):
        validate_master_file(SimpleUploadedFile("clip.mov", b"\x00" * 16))
