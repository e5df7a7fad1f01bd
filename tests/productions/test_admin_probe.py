"""A master's duration in the admin is the video's own, as probed, on add and when
its file is replaced; a fragment cut past that end is refused in plain words."""

import html
import subprocess

import imageio_ffmpeg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from productions.models import CreativeFragment, CreativeProduction
from tests.factories import FragmentFactory, ProductionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def twelve_seconds(tmp_path_factory) -> bytes:
    """A real 12 s MP4: the video of the bug report."""
    path = tmp_path_factory.mktemp("probe") / "twelve.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi",
            "-i", "testsrc2=size=64x36:rate=10:duration=12",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path.read_bytes()


@pytest.fixture
def manager_client(client, manager_user):
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.force_login(manager_user)
    return client


def _upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("hero cut.mp4", content, content_type="video/mp4")


def _form(duration: str = "", fragments=(), initial: int = 0, **overrides) -> dict:
    data = {
        "title": "Summer Sale 2027 — hero cut",
        "is_active": "on",
        "video_url": "",
        "duration": duration,
        "style_guide": "{}",
        "human_instructions": "",
        "campaign_id": "",
        "adset_id": "",
        "fragment_set-TOTAL_FORMS": str(len(fragments)),
        "fragment_set-INITIAL_FORMS": str(initial),
        "fragment_set-MIN_NUM_FORMS": "0",
        "fragment_set-MAX_NUM_FORMS": "1000",
    }
    for i, (kind, start, end) in enumerate(fragments):
        data[f"fragment_set-{i}-fragment_type"] = kind
        data[f"fragment_set-{i}-start_time"] = str(start)
        data[f"fragment_set-{i}-end_time"] = str(end)
    data.update(overrides)
    return data


def _page(response) -> str:
    return html.unescape(response.content.decode())


def test_a_fragment_cut_past_the_probed_end_of_a_new_master_is_refused(
    manager_client, twelve_seconds
):
    # Given a 12 s upload and a 10–30 s fragment typed in the same page
    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"),
        _form(video_file=_upload(twelve_seconds), fragments=[("body", 10, 30)]),
    )

    # Then the page says why, and nothing is saved
    assert response.status_code == 200
    assert "master is only 12.00s long" in _page(response)
    assert not CreativeProduction.objects.exists()
    assert not CreativeFragment.objects.exists()


def test_a_typed_duration_the_video_contradicts_is_refused(
    manager_client, twelve_seconds
):
    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"),
        _form(duration="30", video_file=_upload(twelve_seconds)),
    )

    assert response.status_code == 200
    assert "The uploaded video is 12.00s long, not 30.00s" in _page(response)
    assert not CreativeProduction.objects.exists()


def test_replacing_the_file_of_a_master_takes_the_new_files_duration(
    manager_client, twelve_seconds
):
    # Given a master believed to be 40 s long
    master = ProductionFactory(duration=40.0)
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])

    # When its file is replaced by the 12 s video (the old duration left in the box)
    response = manager_client.post(
        url,
        _form(
            duration="40",
            title=master.title,
            video_url=master.video_url,
            video_file=_upload(twelve_seconds),
        ),
    )

    # Then the master takes the new file's duration: the old one was not retyped
    assert response.status_code == 302, _page(response)[:2000]
    master.refresh_from_db()
    assert master.duration == pytest.approx(12.0, abs=0.1)
    assert master.video_file.name.endswith(".mp4")


def test_a_new_file_shorter_than_the_masters_fragments_is_refused(
    manager_client, twelve_seconds
):
    # Given a 40 s master with a fragment to 30 s, shown in its inline
    master = ProductionFactory(duration=40.0)
    fragment = FragmentFactory(master_creative=master, start_time=10, end_time=30)
    url = reverse("admin:productions_creativeproduction_change", args=[master.pk])
    data = _form(
        title=master.title,
        video_url=master.video_url,
        video_file=_upload(twelve_seconds),
        fragments=[(fragment.fragment_type, 10, 30)],
        initial=1,
        **{
            "fragment_set-0-id": str(fragment.pk),
            "fragment_set-0-master_creative": str(master.pk),
        },
    )

    # When the 12 s file replaces it
    response = manager_client.post(url, data)

    # Then the fragment is named as past the end and nothing changes
    assert response.status_code == 200
    assert "ends at 30.00s but the master is only 12.00s long" in _page(response)
    master.refresh_from_db()
    assert master.duration == 40.0
    assert not master.video_file


def test_a_fragment_added_on_its_own_page_past_the_probed_end_is_refused(
    manager_client, twelve_seconds
):
    manager_client.post(
        reverse("admin:productions_creativeproduction_add"),
        _form(video_file=_upload(twelve_seconds)),
    )
    master = CreativeProduction.objects.get()

    response = manager_client.post(
        reverse("admin:productions_creativefragment_add"),
        {
            "master_creative": str(master.pk),
            "fragment_type": "body",
            "start_time": "10",
            "end_time": "30",
        },
    )

    assert response.status_code == 200
    assert "master is only 12.00s long" in _page(response)
    assert not CreativeFragment.objects.exists()
