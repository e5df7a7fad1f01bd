"""/api/productions/: a master with its fragments in one validated request; roles and
system-owned fields; bad input answers 400 with field messages, never a 500."""

import json

import pytest

import productions.media
from productions.models import ApprovalAudit, CreativeProduction
from tests.factories import FragmentFactory, ProductionFactory

pytestmark = pytest.mark.django_db


def new_master(**overrides):
    body = {
        "title": "Spring launch",
        "video_url": "https://cdn.example.com/spring.mp4",
        "duration": 20.0,
        "style_guide": {"tone": "warm", "hashtags": ["#spring"]},
        "fragments": [
            {"fragment_type": "hook", "start_time": 0.0, "end_time": 3.0},
            {"fragment_type": "body", "start_time": 3.0, "end_time": 12.0},
            {"fragment_type": "cta", "start_time": 12.0, "end_time": 15.0},
        ],
    }
    body.update(overrides)
    return body


def test_manager_creates_a_master_with_its_fragments_in_one_request(
    manager_api, manager_user
):
    response = manager_api.post("/api/productions/", new_master(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    master = CreativeProduction.objects.get(pk=body["id"])
    assert master.created_by == manager_user
    assert master.fragment_set.count() == 3
    assert [f["fragment_type"] for f in body["fragments"]] == ["body", "cta", "hook"]
    # New fragments wait for an explicit approval.
    assert not any(f["approved"] for f in body["fragments"])
    assert body["approved_fragments"] == []
    assert ApprovalAudit.objects.filter(production=master).count() == 4


def test_system_owned_fields_in_a_payload_change_nothing(admin_api):
    payload = new_master(
        total_variants_generated=99,
        fragments=[],
        mode="live",
        id="00000000-0000-0000-0000-000000000001",
        created_by=1,
        approved_fragments=["00000000-0000-0000-0000-000000000002"],
    )

    response = admin_api.post("/api/productions/", payload, format="json")

    assert response.status_code == 201, response.content
    master = CreativeProduction.objects.get(pk=response.json()["id"])
    assert master.total_variants_generated == 0
    assert master.mode == "stub"
    assert str(master.pk) != "00000000-0000-0000-0000-000000000001"
    assert master.fragments == []


def test_patching_system_owned_fields_changes_nothing(manager_api):
    master = ProductionFactory(total_variants_generated=4)

    response = manager_api.patch(
        f"/api/productions/{master.pk}/",
        {"total_variants_generated": 0, "fragments": [], "mode": "live"},
        format="json",
    )

    assert response.status_code == 200, response.content
    master.refresh_from_db()
    assert master.total_variants_generated == 4
    assert master.mode == "stub"


@pytest.mark.parametrize(
    "field, value",
    [
        ("authorized_pixels", ["998877665544"]),
        ("authorized_subgenres", ["drum and bass"]),
        ("genre", "jazz"),
    ],
)
def test_a_manager_may_not_set_pixels_subgenres_or_genre_on_a_new_master(
    manager_api, field, value
):
    response = manager_api.post(
        "/api/productions/", new_master(**{field: value}), format="json"
    )

    assert response.status_code == 403
    assert field in response.json()["error"]["message"]
    assert "admin role" in response.json()["error"]["message"]
    assert not CreativeProduction.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("authorized_pixels", ["998877665544"]),
        ("authorized_subgenres", ["drum and bass"]),
        ("genre", "jazz"),
    ],
)
def test_a_manager_may_not_change_pixels_subgenres_or_genre(manager_api, field, value):
    master = ProductionFactory()
    before = getattr(master, field)

    response = manager_api.patch(
        f"/api/productions/{master.pk}/", {field: value}, format="json"
    )

    assert response.status_code == 403
    master.refresh_from_db()
    assert getattr(master, field) == before


def test_a_manager_may_send_the_protected_fields_unchanged(manager_api):
    master = ProductionFactory()

    response = manager_api.patch(
        f"/api/productions/{master.pk}/",
        {
            "title": "Renamed",
            "authorized_pixels": master.authorized_pixels,
            "genre": master.genre,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Renamed"


def test_an_admin_changes_pixels_subgenres_and_genre_with_an_audit_row(
    admin_api, admin_user_engine
):
    master = ProductionFactory()

    response = admin_api.patch(
        f"/api/productions/{master.pk}/",
        {
            "authorized_pixels": ["111122223333"],
            "authorized_subgenres": ["lofi"],
            "genre": "hip hop",
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    master.refresh_from_db()
    assert master.authorized_pixels == ["111122223333"]
    assert master.genre == "hip hop"
    audit = ApprovalAudit.objects.get(production=master, action="authorization_changed")
    assert audit.actor == admin_user_engine


def test_a_fragment_outside_the_masters_duration_is_a_400_naming_it(manager_api):
    payload = new_master(
        duration=10.0,
        fragments=[
            {"fragment_type": "hook", "start_time": 0.0, "end_time": 3.0},
            {"fragment_type": "body", "start_time": 3.0, "end_time": 14.0},
        ],
    )

    response = manager_api.post("/api/productions/", payload, format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields["fragments"][0] == {}
    assert "only 10.00s long" in fields["fragments"][1]["end_time"][0]
    assert not CreativeProduction.objects.exists()


def test_shortening_a_master_below_its_fragments_is_a_400(manager_api):
    master = ProductionFactory(duration=20.0)
    FragmentFactory(master_creative=master, start_time=10.0, end_time=18.0)

    response = manager_api.patch(
        f"/api/productions/{master.pk}/", {"duration": 12.0}, format="json"
    )

    assert response.status_code == 400
    assert "shorten them first" in response.json()["error"]["fields"]["duration"][0]


def test_malformed_json_is_a_400_not_a_500(manager_api):
    response = manager_api.post(
        "/api/productions/", '{"title": "x", ', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"title": ["not", "a", "string"]}, "title"),
        ({"duration": "long"}, "duration"),
        ({"duration": 0.5}, "duration"),
        ({"authorized_pixels": "123"}, "authorized_pixels"),
        ({"style_guide": {"colour": "red"}}, "style_guide"),
        ({"style_guide": []}, "style_guide"),
        ({"video_url": "ftp://cdn.example.com/a.mp4"}, "video_url"),
        ({"video_url": 42}, "video_url"),
        ({"fragments": {"fragment_type": "hook"}}, "fragments"),
        ({"is_active": "maybe"}, "is_active"),
        ({"video_file": "not-a-file.mp4"}, "video_file"),
    ],
)
def test_wrong_types_are_a_400_with_a_message_on_the_field(admin_api, overrides, field):
    response = admin_api.post(
        "/api/productions/", new_master(**overrides), format="json"
    )

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_a_fragment_that_ends_before_it_starts_is_a_400(manager_api):
    payload = new_master(
        fragments=[{"fragment_type": "hook", "start_time": 5.0, "end_time": 2.0}]
    )

    response = manager_api.post("/api/productions/", payload, format="json")

    assert response.status_code == 400
    assert "end after it starts" in json.dumps(response.json())


def test_a_master_needs_a_video_url_or_a_file(manager_api):
    response = manager_api.post(
        "/api/productions/", new_master(video_url=""), format="json"
    )

    assert response.status_code == 400
    assert "video_url" in response.json()["error"]["fields"]


@pytest.mark.parametrize("master_id", ["3b1f1c3e-0000-4000-8000-000000000000", "nope"])
def test_unknown_or_malformed_ids_are_a_json_404(manager_api, master_id):
    response = manager_api.get(f"/api/productions/{master_id}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_list_filters_by_title_and_orders(manager_api):
    ProductionFactory(title="Summer tour")
    ProductionFactory(title="Winter tour")
    ProductionFactory(title="Album teaser")

    response = manager_api.get("/api/productions/?title=tour&ordering=title")

    assert response.status_code == 200
    assert [m["title"] for m in response.json()["results"]] == [
        "Summer tour",
        "Winter tour",
    ]


def test_the_productions_list_costs_the_same_queries_for_one_or_many_masters(
    manager_api, django_assert_num_queries
):
    for _ in range(6):
        master = ProductionFactory()
        FragmentFactory.create_batch(3, master_creative=master)

    # token + user, the user's groups, count, masters with their creator, fragments
    # with their approvers
    with django_assert_num_queries(5):
        response = manager_api.get("/api/productions/")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 6
    assert len(response.json()["results"][0]["fragments"]) == 3


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory) -> bytes:
    """A real 3-second H.264 clip, 160x90, made once for the session."""
    import subprocess

    import imageio_ffmpeg

    path = tmp_path_factory.mktemp("video") / "tiny.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x90:rate=10:duration=3",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path.read_bytes()


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("master.mp4", content, content_type="video/mp4")


def test_an_uploaded_master_is_probed_for_its_duration(manager_api, tiny_video):
    response = manager_api.post(
        "/api/productions/",
        {
            "title": "Uploaded",
            "video_file": _upload(tiny_video),
            "fragments[0]fragment_type": "hook",
            "fragments[0]start_time": "0",
            "fragments[0]end_time": "2",
        },
        format="multipart",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["duration"] == pytest.approx(3.0, abs=0.1)
    assert body["video_file"].endswith(".mp4")
    assert len(body["fragments"]) == 1


def test_a_corrupt_upload_is_a_400_on_video_file(manager_api):
    response = manager_api.post(
        "/api/productions/",
        {"title": "Broken", "video_file": _upload(b"\x00\x00\x00\x18ftypmp42junk")},
        format="multipart",
    )

    assert response.status_code == 400
    assert "not a readable video" in response.json()["error"]["fields"]["video_file"][0]
    assert not CreativeProduction.objects.exists()


def test_a_fragment_beyond_an_uploaded_masters_probed_length_is_a_400(
    manager_api, tiny_video
):
    response = manager_api.post(
        "/api/productions/",
        {
            "title": "Uploaded",
            "video_file": _upload(tiny_video),
            "fragments[0]fragment_type": "hook",
            "fragments[0]start_time": "0",
            "fragments[0]end_time": "5",
        },
        format="multipart",
    )

    assert response.status_code == 400
    assert "end_time" in response.json()["error"]["fields"]["fragments"][0]


@pytest.fixture
def probe_calls(monkeypatch):
    """Every file PyAV is asked to read, in order."""
    calls = []
    real_probe = productions.media.probe_media

    def counting_probe(path):
        calls.append(path)
        return real_probe(path)

    monkeypatch.setattr(productions.media, "probe_media", counting_probe)
    return calls


def test_creating_a_master_from_an_upload_probes_the_file_once(
    manager_api, tiny_video, probe_calls
):
    response = manager_api.post(
        "/api/productions/",
        {
            "title": "Uploaded",
            "video_file": _upload(tiny_video),
            "fragments[0]fragment_type": "hook",
            "fragments[0]start_time": "0",
            "fragments[0]end_time": "2",
        },
        format="multipart",
    )

    assert response.status_code == 201, response.content
    assert len(probe_calls) == 1
    assert CreativeProduction.objects.get().duration == pytest.approx(3.0, abs=0.1)


def test_replacing_a_masters_file_probes_the_new_file_once(
    manager_api, tiny_video, probe_calls
):
    master = ProductionFactory(duration=30.0)

    response = manager_api.patch(
        f"/api/productions/{master.pk}/",
        {"video_file": _upload(tiny_video)},
        format="multipart",
    )

    assert response.status_code == 200, response.content
    assert len(probe_calls) == 1
    master.refresh_from_db()
    assert master.duration == pytest.approx(3.0, abs=0.1)
