"""Media as the console plays them: real bytes under MEDIA_ROOT, ranges as browsers
ask for them (seeking, `#t=` cuts), and only for staff with an engine role."""

import importlib
import os
from pathlib import Path

import pytest
from django.urls import NoReverseMatch, clear_url_caches, reverse

from config.media import UnsatisfiableRange, requested_range
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SIZE = 1000
CONTENT = bytes(range(256)) * 3 + bytes(range(SIZE - 768))
MASTER = "masters/2027/05/spring-teaser.mp4"


@pytest.fixture
def media_file(settings) -> Path:
    path = Path(settings.MEDIA_ROOT) / MASTER
    path.parent.mkdir(parents=True)
    path.write_bytes(CONTENT)
    return path


@pytest.fixture
def staff_client(client, manager_user):
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.force_login(manager_user)
    return client


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _get(client, path: str = MASTER, **headers):
    return client.get(f"/media/{path}", headers=headers)


def test_a_master_is_served_whole_without_a_range_in_production(
    staff_client, media_file, settings
):
    # Given DEBUG off (as in production): media are still Django's to serve
    settings.DEBUG = False

    response = _get(staff_client)

    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(SIZE)
    assert response["Content-Type"] == "video/mp4"
    assert "private" in response["Cache-Control"]
    assert _body(response) == CONTENT


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),  # first
        ("bytes=400-599", 400, 599),  # middle
        ("bytes=900-999", 900, 999),  # last
        ("bytes=900-5000", 900, 999),  # past the end: cut to the end
        ("bytes=-100", 900, 999),  # suffix
        ("bytes=-5000", 0, 999),  # suffix longer than the file
        ("bytes=100-", 100, 999),  # open-ended
        ("bytes=999-999", 999, 999),  # one byte
    ],
)
def test_a_range_is_answered_206_with_exactly_its_bytes(
    staff_client, media_file, header, first, last
):
    response = _get(staff_client, Range=header)

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert _body(response) == CONTENT[first : last + 1]


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_an_unsatisfiable_range_is_416_with_the_size(staff_client, media_file, header):
    response = _get(staff_client, Range=header)

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"


@pytest.mark.parametrize(
    "header",
    ["bytes=abc", "bytes=20-10", "bytes=0-1,5-6", "items=0-10", "bytes=-", "bytes 0-1"],
)
def test_a_range_we_do_not_read_is_ignored_and_the_whole_file_served(
    staff_client, media_file, header
):
    response = _get(staff_client, Range=header)

    assert response.status_code == 200
    assert _body(response) == CONTENT


def test_a_stale_if_range_gets_the_whole_file(staff_client, media_file):
    os.utime(media_file, (2_000_000_000, 2_000_000_000))

    stale = _get(
        staff_client, Range="bytes=0-9", If_Range="Mon, 01 Jan 2001 00:00:00 GMT"
    )
    fresh = _get(staff_client, Range="bytes=0-9", If_Range=stale["Last-Modified"])

    assert stale.status_code == 200 and _body(stale) == CONTENT
    assert fresh.status_code == 206 and _body(fresh) == CONTENT[:10]


def test_a_range_streams_from_the_file_without_reading_it_whole(staff_client, settings):
    # Given a master larger than anything worth holding in memory
    big = Path(settings.MEDIA_ROOT) / "masters/big.mp4"
    big.parent.mkdir(parents=True)
    with big.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)

    response = _get(staff_client, "masters/big.mp4", Range="bytes=-10")

    # Then the response is a stream, not a body built in memory
    assert response.streaming
    assert _body(response) == b"\0" * 10


@pytest.mark.parametrize(
    "path",
    [
        "../secret.txt",
        "masters/../../secret.txt",
        "masters/%2e%2e/%2e%2e/secret.txt",
        "..%2fsecret.txt",
        "/etc/passwd",
        "%2fetc%2fpasswd",
        "masters\\..\\..\\secret.txt",
        ".cache/render.mp4",
        "escape/secret.txt",  # a symlink out of MEDIA_ROOT
        "masters",  # a folder
        "masters/missing.mp4",
    ],
)
def test_nothing_outside_media_root_is_served(staff_client, media_file, path):
    root = Path(media_file).parents[3]
    outside = root.parent / "secret.txt"
    outside.write_bytes(b"top secret")
    (root / "escape").symlink_to(root.parent, target_is_directory=True)
    (root / ".cache").mkdir()
    (root / ".cache/render.mp4").write_bytes(b"cached")

    response = staff_client.get(f"/media/{path}")

    assert response.status_code == 404
    assert b"top secret" not in response.getvalue()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, media_file):
    response = _get(client, Range="bytes=0-9")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(
    ("is_staff", "groups"),
    [(True, []), (False, ["manager"]), (False, [])],
    ids=["staff-without-role", "role-without-staff", "neither"],
)
def test_a_signed_in_user_without_staff_and_a_role_is_refused(
    client, media_file, is_staff, groups
):
    user = UserFactory(username="someone", is_staff=is_staff, groups=groups)
    client.force_login(user)

    response = _get(client)

    assert response.status_code == 403
    assert CONTENT[:10] not in response.getvalue()


def test_a_post_to_media_is_refused(staff_client, media_file):
    assert staff_client.post(f"/media/{MASTER}").status_code == 405


def test_no_media_route_when_a_front_server_serves_media(settings):
    import config.urls

    settings.MEDIA_SERVED_BY_DJANGO = False
    try:
        clear_url_caches()
        importlib.reload(config.urls)
        with pytest.raises(NoReverseMatch):
            reverse("media", args=["x.mp4"])
    finally:
        settings.MEDIA_SERVED_BY_DJANGO = True
        importlib.reload(config.urls)
        clear_url_caches()
    assert reverse("media", args=["x.mp4"]) == "/media/x.mp4"


def test_the_range_parser_on_an_empty_file():
    for header in ("bytes=0-", "bytes=-5"):
        with pytest.raises(UnsatisfiableRange):
            requested_range(header, 0)
    assert requested_range("bytes=0-0", 1) == (0, 0)
