"""The master page through the test client: upload probing, frames served as small
JPEGs, the style guide and the human rules as widgets with the roles' rules, the probe
buttons, and query counts that do not grow with the rows shown."""

from __future__ import annotations

import html
import socket
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from productions import thumbnails
from productions.looks import KNOWN_LOOKS
from productions.models import ApprovalAudit, CreativeProduction
from productions.thumbnails import THUMBNAIL_WIDTH, frame_name, source_key
from productions.url_safety import UnresolvedHostError
from tests.api.fake_dns import fake_getaddrinfo
from tests.factories import FragmentFactory, ProductionFactory, UserFactory
from variants.rendering.demo_media import make_synthetic_master

pytestmark = pytest.mark.django_db

SECONDS = 4.0


@pytest.fixture(autouse=True)
def _fake_dns(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


@pytest.fixture(scope="module")
def tiny_video(tmp_path_factory) -> bytes:
    """A real 4 s H.264/AAC master, 90x160 at 10 fps."""
    path = tmp_path_factory.mktemp("master-page") / "tiny.mp4"
    return make_synthetic_master(
        path, duration=SECONDS, width=90, height=160, fps=10
    ).read_bytes()


def _staff_client(client, user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    return client


@pytest.fixture
def manager_client(client, manager_user):
    return _staff_client(client, manager_user)


@pytest.fixture
def admin_client_engine(client, admin_user_engine):
    return _staff_client(client, admin_user_engine)


def _file_master(video: bytes, **kwargs) -> CreativeProduction:
    kwargs.setdefault("duration", SECONDS)
    return ProductionFactory(
        video_url="", video_file=ContentFile(video, name="tiny.mp4"), **kwargs
    )


def _form(master: CreativeProduction | None = None, **overrides) -> dict:
    """The page's POST as a browser sends it: style fields, not the JSON."""
    data: dict = {
        "title": master.title if master else "Spring launch",
        "is_active": "on",
        "video_url": master.video_url if master else "",
        "duration": "" if master is None else str(master.duration),
        "human_instructions": "",
        "campaign_id": "",
        "adset_id": "",
        "sg_tone": "warm",
        "sg_hashtags": ["#spring", "#launch", ""],
        "sg_banned_words": [""],
        "sg_required_phrases": ["Spring, on sale"],
        "sg_vibes": [""],
        "sg_color_palette": ["#ff2bd6", "#14002b"],
        "sg_looks": ["warm_film"],
        "sg_cta_type": "LEARN_MORE",
        "sg_max_caption_length": "125",
        "fragment_set-TOTAL_FORMS": "0",
        "fragment_set-INITIAL_FORMS": "0",
        "fragment_set-MIN_NUM_FORMS": "0",
        "fragment_set-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def _page(response) -> str:
    return html.unescape(response.content.decode())


# --- Upload: probed at once ---------------------------------------------------------------


def test_an_upload_is_probed_on_save_and_the_page_shows_its_streams(
    manager_client, tiny_video
):
    # When a manager uploads a video with no duration typed
    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"),
        _form(video_file=SimpleUploadedFile("spring.mp4", tiny_video, "video/mp4")),
    )

    # Then the master has the probed duration, and its page says what was found
    assert response.status_code == 302, _page(response)[:3000]
    master = CreativeProduction.objects.get()
    assert master.duration == pytest.approx(SECONDS, abs=0.05)
    page = _page(
        manager_client.get(
            reverse("admin:productions_creativeproduction_change", args=[master.pk])
        )
    )
    assert "Probed: 4.00 s, 90×160 at 10 fps, 2 stream(s) (h264, with sound)" in page
    assert 'data-fps="10"' in page


def test_a_file_that_is_not_a_video_is_a_field_error_and_nothing_is_saved(
    manager_client,
):
    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"),
        _form(video_file=SimpleUploadedFile("spring.mp4", b"<html>not a video")),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "not a readable video" in " ".join(errors["video_file"])
    assert not CreativeProduction.objects.exists()


# --- Frames as small JPEGs ----------------------------------------------------------------


def test_a_frame_is_extracted_once_as_a_small_jpeg_and_served_by_the_media_url(
    manager_client, tiny_video, monkeypatch
):
    # Given a master with an uploaded video, and a count of ffmpeg runs
    master = _file_master(tiny_video)
    runs = []
    extract = thumbnails._extract_frame
    monkeypatch.setattr(
        thumbnails,
        "_extract_frame",
        lambda source, seconds: runs.append(seconds) or extract(source, seconds),
    )
    url = reverse(
        "admin:productions_creativeproduction_frame",
        args=[master.pk, source_key(master), 1500],
    )

    # When the frame at 1.5 s is asked for twice
    first = manager_client.get(url)
    second = manager_client.get(url)

    # Then it is extracted once, kept in storage and answered by a redirect to media
    assert runs == [1.5]
    assert first.status_code == second.status_code == 302
    assert first["Location"] == default_storage.url(frame_name(master, 1500))
    assert "immutable" in first["Cache-Control"]
    image = manager_client.get(first["Location"])
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    body = b"".join(image.streaming_content)
    assert body[:3] == b"\xff\xd8\xff"  # JPEG
    assert len(body) < 20_000
    assert _jpeg_width(body) == THUMBNAIL_WIDTH


def _jpeg_width(data: bytes) -> int:
    """The width in a JPEG's start-of-frame segment."""
    at = 2
    while at < len(data):
        marker, length = data[at + 1], int.from_bytes(data[at + 2 : at + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(data[at + 7 : at + 9], "big")
        at += 2 + length
    raise AssertionError("no start of frame")


def test_a_frame_past_the_end_is_the_last_one_not_an_error(manager_client, tiny_video):
    master = _file_master(tiny_video)
    url = reverse(
        "admin:productions_creativeproduction_frame",
        args=[master.pk, source_key(master), 3_600_000],
    )

    response = manager_client.get(url)

    assert response.status_code == 302
    assert response["Location"].endswith("/3950.jpg")


def test_frames_are_for_staff_with_a_role_and_of_a_readable_video(
    client, manager_client, tiny_video
):
    master = ProductionFactory(video_url="", video_file=ContentFile(b"x", "bad.mp4"))

    def frame(pk, key="k"):
        url = reverse("admin:productions_creativeproduction_frame", args=[pk, key, 0])
        return manager_client.get(url)

    blank = frame(master.pk)  # not a video: a blank frame, not a broken image
    assert blank.status_code == 200
    assert blank["Content-Type"] == "image/gif"
    assert blank["X-Frame-Unavailable"] == "No frame could be read at 0.00s."
    assert frame("00000000-0000-0000-0000-000000000000").status_code in (302, 404)
    outsider = UserFactory(username="outsider", is_staff=True)
    client.force_login(outsider)
    url = reverse(
        "admin:productions_creativeproduction_frame", args=[master.pk, "k", 0]
    )
    assert client.get(url).status_code == 403


def test_rows_and_lists_show_frames_not_the_master_video(manager_client, tiny_video):
    master = _file_master(tiny_video)
    FragmentFactory(master_creative=master, start_time=1.0, end_time=2.5)
    frame_url = reverse(
        "admin:productions_creativeproduction_frame",
        args=[master.pk, source_key(master), 1000],
    )

    change = _page(
        manager_client.get(
            reverse("admin:productions_creativeproduction_change", args=[master.pk])
        )
    )
    fragments = _page(
        manager_client.get(reverse("admin:productions_creativefragment_changelist"))
    )
    masters = _page(
        manager_client.get(reverse("admin:productions_creativeproduction_changelist"))
    )

    assert f'<img src="{frame_url}"' in change
    assert change.count("<video") == 1  # the cutter's, one for the page
    assert "tiny.mp4#t=1.000,2.500" in change  # the row's thumbnail links to its cut
    assert f'<img src="{frame_url}"' in fragments
    assert "<video" not in fragments and "<video" not in masters
    assert "/frame/" in masters and "ce-thumb" in masters


# --- Style guide, pixels and subgenres as widgets -----------------------------------------


def test_the_style_fields_are_stored_as_the_json_the_validators_read(manager_client):
    master = ProductionFactory()
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])

    response = manager_client.post(url, _form(master))

    assert response.status_code == 302, _page(response)[:3000]
    master.refresh_from_db()
    assert master.style_guide == {
        "tone": "warm",
        "hashtags": ["#spring", "#launch"],
        "required_phrases": ["Spring", "on sale"],
        "color_palette": ["#ff2bd6", "#14002b"],
        "luts": {"warm_film": KNOWN_LOOKS["warm_film"]},
        "cta_type": "LEARN_MORE",
        "max_caption_length": 125,
    }
    assert ApprovalAudit.objects.filter(
        production=master, action="master_changed"
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"sg_max_caption_length": "5"}, "sg_max_caption_length", "greater than"),
        ({"sg_hashtags": ["#a#b"]}, "sg_hashtags", "one word"),
        ({"sg_tone": "x" * 1001}, "sg_tone", "STYLE_GUIDE_MAX_TEXT_CHARS"),
        ({"sg_tone": "nul\x00"}, "sg_tone", "Null characters are not allowed"),
        ({"sg_looks": ["../etc/passwd"]}, "sg_looks", "Select a valid choice"),
    ],
)
def test_bad_style_input_is_a_field_error_and_nothing_is_saved(
    manager_client, overrides, field, message
):
    master = ProductionFactory()
    before = master.style_guide
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])

    response = manager_client.post(url, _form(master, **overrides))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field]), errors
    master.refresh_from_db()
    assert master.style_guide == before


def test_a_manager_reads_pixels_and_subgenres_and_cannot_post_them(manager_client):
    master = ProductionFactory()
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])

    page = _page(manager_client.get(url))
    response = manager_client.post(
        url,
        _form(
            master,
            authorized_pixels=["999999999999"],
            authorized_subgenres=["metal"],
            genre="sports",
        ),
    )

    assert 'name="authorized_pixels"' not in page
    assert 'name="authorized_subgenres"' not in page
    assert 'data-ce-readonly="authorized_pixels"' in page
    assert "123456789012345" in page
    assert response.status_code == 302
    master.refresh_from_db()
    assert master.authorized_pixels == ["123456789012345"]
    assert master.authorized_subgenres == ["indie pop", "synthwave"]
    assert master.genre == "music"


def test_an_admin_edits_pixels_and_subgenres_one_row_per_item(admin_client_engine):
    master = ProductionFactory()
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])

    page = _page(admin_client_engine.get(url))
    response = admin_client_engine.post(
        url,
        _form(
            master,
            authorized_pixels=["123456789012345", "999999999999", ""],
            authorized_subgenres=["synthwave"],
            genre="music",
        ),
    )

    assert page.count('name="authorized_pixels"') >= 2  # a row, and a new row's
    assert response.status_code == 302, _page(response)[:3000]
    master.refresh_from_db()
    assert master.authorized_pixels == ["123456789012345", "999999999999"]
    assert master.authorized_subgenres == ["synthwave"]
    assert ApprovalAudit.objects.filter(action="authorization_changed").exists()


def test_an_admin_typing_a_bad_pixel_gets_a_field_error(admin_client_engine):
    master = ProductionFactory()
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])

    response = admin_client_engine.post(
        url, _form(master, authorized_pixels=["12ab"], genre="music")
    )

    assert response.status_code == 200
    assert "is not valid" in " ".join(
        response.context["adminform"].form.errors["authorized_pixels"]
    )


def test_view_only_staff_read_the_style_guide_and_rules_as_text(client):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__startswith="view_")
    )
    client.force_login(viewer)
    master = ProductionFactory()

    response = client.get(
        reverse("admin:productions_creativeproduction_change", args=[master.pk])
    )

    page = _page(response)
    assert response.status_code == 200
    assert "ce-style-summary" in page and "#newmusic" in page
    assert 'name="sg_tone"' not in page and 'name="_save"' not in page


# --- Probe a master -----------------------------------------------------------------------


def test_the_probe_button_takes_the_duration_from_the_video(manager_client, tiny_video):
    # Given a master whose typed duration is wrong (saved before uploads were probed)
    master = _file_master(tiny_video, duration=9.0)
    change = reverse("admin:productions_creativeproduction_change", args=[master.pk])
    assert "/probe/" in _page(manager_client.get(change))

    # When the manager presses "Probe the video"
    response = manager_client.get(
        reverse("admin:productions_creativeproduction_probe_detail", args=[master.pk]),
        follow=True,
    )

    # Then the duration is the video's, and the page says what was found
    master.refresh_from_db()
    assert master.duration == pytest.approx(SECONDS, abs=0.05)
    assert "probed: 4.00 s, 90×160 at 10 fps" in _page(response)
    assert ApprovalAudit.objects.filter(
        production=master, action="master_changed"
    ).exists()


def test_a_probe_the_fragments_would_not_fit_is_refused_in_words(
    manager_client, tiny_video
):
    master = _file_master(tiny_video, duration=9.0)
    FragmentFactory(master_creative=master, start_time=2.0, end_time=8.0)

    response = manager_client.get(
        reverse("admin:productions_creativeproduction_probe_detail", args=[master.pk]),
        follow=True,
    )

    master.refresh_from_db()
    assert master.duration == 9.0
    assert "was not probed: 1 fragment(s) end after 4.00s" in _page(response)


def test_a_master_url_that_cannot_be_fetched_is_a_readable_refusal(manager_client):
    master = ProductionFactory(video_url="https://10.0.0.1/master.mp4", duration=None)
    response = manager_client.get(
        reverse("admin:productions_creativeproduction_probe_row", args=[master.pk]),
        follow=True,
    )

    assert "was not probed: The video cannot be probed" in _page(response)
    master.refresh_from_db()
    assert master.duration is None


def test_view_only_staff_cannot_probe(client, tiny_video):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename="view_creativeproduction")
    )
    client.force_login(viewer)
    master = _file_master(tiny_video, duration=9.0)

    response = client.get(
        reverse("admin:productions_creativeproduction_probe_detail", args=[master.pk])
    )

    assert response.status_code == 403
    master.refresh_from_db()
    assert master.duration == 9.0


# --- Query counts -------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_master_page_costs_the_same_queries_for_one_or_fifteen_fragments(
    manager_client, django_assert_max_num_queries
):
    small = ProductionFactory()
    FragmentFactory(master_creative=small, start_time=0, end_time=2)
    big = ProductionFactory()
    for i in range(15):
        FragmentFactory(
            master_creative=big, start_time=i, end_time=i + 1, approved_by=None
        )
    page = "admin:productions_creativeproduction_change"
    budget = _queries(manager_client, reverse(page, args=[small.pk]))

    # Session, user, permissions, the master (approved count annotated), its
    # fragments with their approvers and master joined: a query per row shows here.
    with django_assert_max_num_queries(budget):
        manager_client.get(reverse(page, args=[big.pk]))


def test_the_master_list_costs_the_same_queries_for_one_or_fifteen_masters(
    manager_client, django_assert_max_num_queries
):
    ProductionFactory()
    url = reverse("admin:productions_creativeproduction_changelist")
    budget = _queries(manager_client, url)
    for _ in range(14):
        ProductionFactory()

    # Posters are frame URLs (no query), creators joined, counts annotated.
    with django_assert_max_num_queries(budget):
        manager_client.get(url)


def test_the_fragment_list_costs_the_same_queries_for_one_or_fifteen_fragments(
    manager_client, django_assert_max_num_queries
):
    master = ProductionFactory()
    FragmentFactory(master_creative=master, start_time=0, end_time=1)
    url = reverse("admin:productions_creativefragment_changelist")
    budget = _queries(manager_client, url)
    for i in range(1, 15):
        FragmentFactory(
            master_creative=ProductionFactory(), start_time=i, end_time=i + 1
        )

    with django_assert_max_num_queries(budget):
        manager_client.get(url)


def test_thumbnails_live_under_media_not_in_a_hidden_cache(tiny_video):
    master = _file_master(tiny_video)

    name = thumbnails.frame_thumbnail(master, 500)

    assert name.startswith(f"thumbnails/{master.pk}/")
    assert not any(part.startswith(".") for part in Path(name).parts)
    assert default_storage.exists(name)


def test_a_frame_of_a_master_whose_url_host_does_not_resolve_is_blank_not_a_500(
    manager_client, monkeypatch
):
    # Given a master by URL whose host no longer resolves
    master = ProductionFactory(video_url="https://gone.example/master.mp4")

    def unresolved(*args, **kwargs):
        raise UnresolvedHostError("gone.example does not resolve.")

    monkeypatch.setattr("productions.admin.masters.frame_thumbnail", unresolved)
    url = reverse(
        "admin:productions_creativeproduction_frame", args=[master.pk, "k", 0]
    )

    # When its frame is asked for
    response = manager_client.get(url)

    # Then it is a blank frame that says why
    assert response.status_code == 200
    assert response["X-Frame-Unavailable"] == "gone.example does not resolve."
