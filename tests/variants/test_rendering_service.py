"""variant_render: the claim, the human rules, storage, idempotency and clean failures."""

import errno
import hashlib
import ipaddress
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from productions.choices import FragmentType
from productions.models import CreativeFragment
from tests.factories import FragmentFactory, ProductionFactory, VariantFactory
from variants import tasks
from variants.choices import DurationCategory, VariantStatus
from variants.models import CreativeVariant
from variants.rendering.errors import TransientRenderError
from variants.services import rendering as rendering_service
from variants.services.rendering import variant_render

pytestmark = pytest.mark.django_db

STYLE_GUIDE = {
    "hashtags": ["#newmusic"],
    "luts": {"warm": {"warmth": 0.6, "saturation": 1.2}},
}


def _master(video: Path, **overrides):
    with video.open("rb") as fh:
        values = {
            "video_url": "",
            "video_file": File(fh, name="master.mp4"),
            "style_guide": STYLE_GUIDE,
        }
        values.update(overrides)
        return ProductionFactory(**values)


def _variant(master, *, look="warm", cuts=None, **overrides):
    hook = FragmentFactory(
        master_creative=master,
        fragment_type=FragmentType.HOOK,
        start_time=0.0,
        end_time=4.0,
    )
    body = FragmentFactory(
        master_creative=master,
        fragment_type=FragmentType.BODY,
        start_time=8.0,
        end_time=15.0,
    )
    cuts = cuts or [(hook, 0.0, 2.0), (body, 9.0, 13.0)]
    values = {
        "parent": master,
        "fragments_order": [
            {
                "fragment_id": str(fragment.id),
                "fragment_type": fragment.fragment_type,
                "source_in": cut_in,
                "source_out": cut_out,
            }
            for fragment, cut_in, cut_out in cuts
        ],
        "color_look": look,
        "text_overlay": "Listen now",
        "duration_seconds": 6.0,
        "duration_category": DurationCategory.SHORT,
    }
    values.update(overrides)
    return VariantFactory(**values)


def _stored_variant_files() -> list[str]:
    root = Path(default_storage.location) / "variants"
    return (
        sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []
    )


@pytest.fixture
def master(synthetic_master, small_render_size):
    return _master(synthetic_master)


def test_a_draft_is_rendered_and_stored_with_its_checksum_and_duration(
    master, piece_cache
):
    # Given a draft variant of an uploaded master
    variant = _variant(master)

    # When it is rendered
    variant_render(variant_id=variant.id, cache=piece_cache)

    # Then it is rendered, with files in storage that match what the row says
    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERED
    assert variant.video_file.name.startswith("variants/")
    assert variant.poster_file.name.endswith(".jpg")
    with default_storage.open(variant.video_file.name) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == variant.video_checksum
    assert default_storage.exists(variant.poster_file.name)
    assert variant.probed_duration == pytest.approx(6.0, abs=1 / 30)
    assert variant.rendered_at is not None
    assert variant.failure_reason == ""


def test_the_first_render_encodes_the_pieces_of_the_drafts_waiting_after_it(
    master, piece_cache, monkeypatch
):
    # Given three drafts of one master, in two looks, and one already rendered
    first = _variant(master)
    second = _variant(master, look="natural")
    third = _variant(master, text_overlay="Out Friday")
    done = _variant(master, look="natural", status=VariantStatus.RENDERED)
    batches = []
    real_render = rendering_service.render_to_file

    def render_noting_the_batch(spec, out_path, **kwargs):
        batches.append(kwargs["batch"])
        return real_render(spec, out_path, **kwargs)

    monkeypatch.setattr(rendering_service, "render_to_file", render_noting_the_batch)

    # When the drafts are rendered one after the other
    variant_render(variant_id=first.id, cache=piece_cache)
    encoded_by_first = piece_cache.misses
    for variant in (second, third):
        variant_render(variant_id=variant.id, cache=piece_cache)

    # Then the first render's batch was the two other drafts (not the rendered one),
    # and the later renders found every piece they need
    assert [len(batch) for batch in batches] == [2, 1, 0]
    assert {(s.look is None, s.text_overlay) for s in batches[0]} == {
        (True, "Listen now"),
        (False, "Out Friday"),
    }
    assert piece_cache.misses == encoded_by_first > 0
    assert set(
        CreativeVariant.objects.filter(
            id__in=[first.id, second.id, third.id]
        ).values_list("status", flat=True)
    ) == {VariantStatus.RENDERED}
    assert done.status == VariantStatus.RENDERED


def test_a_sibling_whose_plan_does_not_resolve_is_left_out_of_the_batch(
    master, piece_cache
):
    # Given a draft, and a sibling draft whose look the style guide lacks
    variant = _variant(master)
    _variant(master, look="no-such-look")

    # When the first is rendered
    variant_render(variant_id=variant.id, cache=piece_cache)

    # Then it renders; the sibling's own render will say why it cannot
    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERED


def test_rendering_a_rendered_variant_again_does_nothing(master, piece_cache):
    variant = _variant(master, look="natural")
    variant_render(variant_id=variant.id, cache=piece_cache)
    variant.refresh_from_db()
    files, rendered_at = _stored_variant_files(), variant.rendered_at

    variant_render(variant_id=variant.id, cache=piece_cache)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERED
    assert variant.rendered_at == rendered_at
    assert _stored_variant_files() == files


def test_a_variant_another_worker_is_rendering_is_left_alone(master, piece_cache):
    variant = _variant(master)
    CreativeVariant.objects.filter(id=variant.id).update(
        status=VariantStatus.RENDERING, status_changed_at=timezone.now()
    )

    variant_render(variant_id=variant.id, cache=piece_cache)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERING
    assert _stored_variant_files() == []


def test_a_render_abandoned_by_a_dead_worker_is_taken_over(master, piece_cache):
    variant = _variant(master, look="natural")
    CreativeVariant.objects.filter(id=variant.id).update(
        status=VariantStatus.RENDERING,
        status_changed_at=timezone.now() - timedelta(hours=1),
    )

    variant_render(variant_id=variant.id, cache=piece_cache)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERED


def test_a_failure_after_the_files_were_stored_deletes_them_and_marks_failed(
    master, piece_cache, monkeypatch
):
    # Given a failure right after the video and poster reached storage
    real_store = rendering_service._store

    def store_then_fail(variant, result, stored):
        real_store(variant, result, stored)
        raise RuntimeError("database went away")

    monkeypatch.setattr(rendering_service, "_store", store_then_fail)
    variant = _variant(master, look="natural")

    # When it is rendered
    variant_render(variant_id=variant.id, cache=piece_cache)

    # Then nothing is left in storage and the variant says why it failed
    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert "database went away" in variant.failure_reason
    assert variant.video_file.name == ""
    assert _stored_variant_files() == []


def test_a_corrupt_master_fails_the_variant_with_a_clear_reason(
    tmp_path, small_render_size, piece_cache
):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(bytes((i * 31) % 256 for i in range(50_000)))
    variant = _variant(_master(corrupt))

    variant_render(variant_id=variant.id, cache=piece_cache)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert variant.failure_reason.startswith("The master video cannot be used:")
    assert "not a readable video" in variant.failure_reason
    assert _stored_variant_files() == []


def test_a_master_file_missing_from_storage_fails_the_variant(master, piece_cache):
    variant = _variant(master)
    default_storage.delete(master.video_file.name)

    variant_render(variant_id=variant.id, cache=piece_cache)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert "missing from storage" in variant.failure_reason


def test_a_fragment_withdrawn_from_approval_is_refused_by_the_human_rules(
    master, piece_cache
):
    variant = _variant(master)
    first = variant.fragments_order[0]["fragment_id"]
    CreativeFragment.objects.filter(id=first).update(approved=False)

    variant_render(variant_id=variant.id, cache=piece_cache)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert variant.failure_reason.startswith("Refused by the human rules:")
    assert _stored_variant_files() == []


def test_a_fragment_of_another_master_is_refused_by_the_human_rules(
    master, piece_cache
):
    foreign = FragmentFactory(start_time=0.0, end_time=4.0)
    variant = _variant(master, cuts=[(foreign, 0.0, 2.0)])

    variant_render(variant_id=variant.id, cache=piece_cache)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert variant.failure_reason.startswith("Refused by the human rules:")


def test_a_cut_outside_the_video_is_refused(master, piece_cache):
    tail = FragmentFactory(
        master_creative=master,
        fragment_type=FragmentType.CTA,
        start_time=17.0,
        end_time=22.0,
    )
    variant = _variant(master, cuts=[(tail, 18.0, 22.0)])

    variant_render(variant_id=variant.id, cache=piece_cache)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert "reaches outside the master" in variant.failure_reason


def test_a_cut_outside_its_fragment_is_refused(master, piece_cache):
    hook = FragmentFactory(
        master_creative=master,
        fragment_type=FragmentType.HOOK,
        start_time=0.0,
        end_time=3.0,
    )
    variant = _variant(master, cuts=[(hook, 2.0, 5.0)])

    variant_render(variant_id=variant.id, cache=piece_cache)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert "outside its fragment" in variant.failure_reason


def test_a_look_missing_from_the_style_guide_fails_the_variant(master, piece_cache):
    variant = _variant(master, look="teal")

    variant_render(variant_id=variant.id, cache=piece_cache)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert variant.failure_reason.startswith("The colour look cannot be used:")


def test_a_bad_cube_file_fails_with_its_line_number(
    synthetic_master, small_render_size, settings, piece_cache
):
    luts = Path(settings.MEDIA_ROOT) / "luts"
    luts.mkdir(parents=True)
    (luts / "broken.cube").write_text("LUT_3D_SIZE 2\n0 0 0\n0 0 oops\n")
    master = _master(
        synthetic_master, style_guide={**STYLE_GUIDE, "luts": {"broken": "broken.cube"}}
    )
    variant = _variant(master, look="broken")

    variant_render(variant_id=variant.id, cache=piece_cache)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert "broken.cube, line 3" in variant.failure_reason


def test_a_transient_failure_is_raised_for_a_retry_which_revives_the_variant(
    master, piece_cache, monkeypatch
):
    # Given a disk that is full once
    real_render = rendering_service.render_to_file
    attempts = []

    def full_disk_once(*args, **kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_render(*args, **kwargs)

    monkeypatch.setattr(rendering_service, "render_to_file", full_disk_once)
    variant = _variant(master, look="natural")

    # When it is rendered, it fails transiently and says so
    with pytest.raises(TransientRenderError, match="No space left"):
        variant_render(variant_id=variant.id, cache=piece_cache)
    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED

    # A plain call leaves a failed variant alone; a retry revives and renders it
    variant_render(variant_id=variant.id, cache=piece_cache)
    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    variant_render(variant_id=variant.id, revive_failed=True, cache=piece_cache)
    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERED
    assert variant.failure_reason == ""


def test_the_task_renders_a_draft_and_is_a_no_op_the_second_time(master, settings):
    variant = _variant(master)

    tasks.render_variant.delay(str(variant.id))
    tasks.render_variant.delay(str(variant.id))

    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERED
    assert len(_stored_variant_files()) == 2
    # the pieces sit in the worker's own cache, nothing of the render under MEDIA_ROOT
    assert list((Path(settings.RENDER_CACHE_DIR) / "pieces").glob("*.mp4"))
    assert not list(Path(settings.MEDIA_ROOT).glob(".*"))
    # ...and its scratch folder went with the render
    assert list(Path(settings.RENDER_SCRATCH_DIR).iterdir()) == []


def test_the_task_is_routed_to_the_render_queue_with_late_acks():
    task = tasks.render_variant
    assert task.name == "variants.render_variant"
    assert task.queue == "render"
    assert task.acks_late and task.reject_on_worker_lost
    assert task.soft_time_limit < task.time_limit


def test_the_task_retries_a_transient_failure_until_it_succeeds(master, monkeypatch):
    real_render = rendering_service.render_to_file
    attempts = []

    def flaky(*args, **kwargs):
        attempts.append(1)
        if len(attempts) < 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_render(*args, **kwargs)

    monkeypatch.setattr(rendering_service, "render_to_file", flaky)
    variant = _variant(master, look="natural")

    tasks.render_variant.delay(str(variant.id))

    variant.refresh_from_db()
    assert len(attempts) == 3
    assert variant.status == VariantStatus.RENDERED


def test_the_task_gives_up_after_its_retry_bound_and_leaves_the_reason(
    master, monkeypatch
):
    attempts = []

    def always_full(*args, **kwargs):
        attempts.append(1)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rendering_service, "render_to_file", always_full)
    variant = _variant(master, look="natural")

    tasks.render_variant.delay(str(variant.id))

    variant.refresh_from_db()
    assert len(attempts) == tasks.RENDER_MAX_RETRIES + 1
    assert variant.status == VariantStatus.FAILED
    assert "No space left on device" in variant.failure_reason


class _MasterServer(BaseHTTPRequestHandler):
    body = b""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


def _render_via_loopback(variant, piece_cache):
    """Render with cdn.example.test resolving to this machine, which is allowed."""
    variant_render(
        variant_id=variant.id,
        cache=piece_cache,
        resolver=lambda host, port: ["127.0.0.1"],
        allowed_networks=[ipaddress.ip_network("127.0.0.1/32")],
    )


def test_a_master_given_by_url_is_fetched_safely_and_rendered(
    synthetic_master, small_render_size, piece_cache
):
    # Given a master served over HTTP under a (fake) public name
    handler = type("H", (_MasterServer,), {"body": synthetic_master.read_bytes()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        port = httpd.server_address[1]
        master = ProductionFactory(
            video_url=f"http://cdn.example.test:{port}/master.mp4",
            style_guide=STYLE_GUIDE,
        )
        variant = _variant(master, look="natural")

        # When it is rendered with a resolver that knows the name
        _render_via_loopback(variant, piece_cache)
    finally:
        httpd.shutdown()
        httpd.server_close()

    # Then the fetched copy was probed and rendered from
    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERED, variant.failure_reason


def test_a_master_url_to_a_private_address_fails_the_variant(
    small_render_size, piece_cache
):
    master = ProductionFactory(
        video_url="http://169.254.169.254/latest/meta-data/", style_guide=STYLE_GUIDE
    )
    variant = _variant(master)

    variant_render(variant_id=variant.id, cache=piece_cache)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert variant.failure_reason.startswith("The master URL was refused:")


def test_a_batch_from_a_url_master_downloads_it_once(
    synthetic_master, small_render_size, piece_cache
):
    # Given a master served over HTTP that counts its downloads
    gets = []

    class Counting(_MasterServer):
        body = synthetic_master.read_bytes()

        def do_GET(self):
            gets.append(self.path)
            super().do_GET()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        port = httpd.server_address[1]
        master = ProductionFactory(
            video_url=f"http://cdn.example.test:{port}/master.mp4",
            style_guide=STYLE_GUIDE,
        )
        variants = [_variant(master, look="natural") for _ in range(3)]

        # When three of its variants are rendered
        for variant in variants:
            _render_via_loopback(variant, piece_cache)

        # And the master is pointed at another URL (a new video)
        master.video_url = f"http://cdn.example.test:{port}/master-v2.mp4"
        master.save(update_fields=["video_url"])
        again = _variant(master, look="natural")
        _render_via_loopback(again, piece_cache)
    finally:
        httpd.shutdown()
        httpd.server_close()

    # Then all rendered, the first URL was fetched once, and the new URL once more
    for variant in [*variants, again]:
        variant.refresh_from_db()
        assert variant.status == VariantStatus.RENDERED, variant.failure_reason
    assert gets == ["/master.mp4", "/master-v2.mp4"]


def test_scratch_folders_a_killed_render_left_are_swept_by_the_next_render(tmp_path):
    # Given the folder of a render killed 20 minutes ago and one of a live render
    import os
    import time

    from variants.services.rendering import sweep_scratch

    dead = tmp_path / "render-dead"
    (dead / "luts").mkdir(parents=True)
    (dead / "v.mp4").write_bytes(b"half a video")
    old = time.time() - 20 * 60
    os.utime(dead, (old, old))
    live = tmp_path / "render-live"
    live.mkdir()
    unrelated = tmp_path / "cache"
    unrelated.mkdir()
    os.utime(unrelated, (old, old))

    # When the sweep runs (as every render does first)
    removed = sweep_scratch(tmp_path)

    # Then only the abandoned render folder is gone
    assert removed == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "render-live"]
