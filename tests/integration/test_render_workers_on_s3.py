"""Two real render workers that share no disk, on PostgreSQL + Redis + an S3 server.

Each worker has its own scratch folder and cache and a MEDIA_ROOT that no one else
uses; masters and renders live only in the bucket. One worker is killed in the middle
of a render; the sweep hands the orphan to the other, and every variant of the cycle
ends rendered exactly once.
"""

import re
import time
from pathlib import Path

import pytest
from django.core.files import File

from config.celery import app as celery_app
from creative_engine.services.cycle import cycle_execute, cycle_request
from promotion.tasks import sweep_stuck_work
from tests.factories import CutSheet, master_with_approved_cuts
from variants.choices import VariantStatus
from variants.models import CreativeVariant
from variants.rendering.demo_media import make_synthetic_master

from .conftest import purge_queues, require_worker_services, start_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CUTS = CutSheet(
    master_seconds=20.0,
    cuts=(
        ("hook", 0.0, 3.0),
        ("hook", 3.0, 5.5),
        ("body", 5.5, 12.0),
        ("body", 12.0, 17.0),
        ("cta", 17.0, 20.0),
    ),
)


def _wait_for(predicate, *, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _claimed_in(log: str) -> set[str]:
    return set(re.findall(r"variant ([0-9a-f-]{36}): draft → rendering", log))


def _rendered_in(log: str) -> list[str]:
    return re.findall(r"variant ([0-9a-f-]{36}): rendering → rendered", log)


@pytest.fixture
def render_workers(tmp_path, s3_media):
    """Two render workers (render queue only), each with its own folders."""
    broker = require_worker_services()
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = broker
    purge_queues()
    workers = {}
    try:
        for name in ("render-a", "render-b"):
            own = tmp_path / name
            workers[name] = start_worker(
                broker=broker,
                log_path=tmp_path / f"{name}.log",
                queues="render",
                env={
                    **s3_media.server.environment(s3_media.bucket),
                    "MEDIA_ROOT": str(own / "media-never-used"),
                    "RENDER_SCRATCH_DIR": str(own / "scratch"),
                    "RENDER_CACHE_DIR": str(own / "cache"),
                    "RENDER_WIDTH": "360",
                    "RENDER_HEIGHT": "640",
                },
            )
        yield workers
    finally:
        for worker in workers.values():
            worker.kill()
        celery_app.conf.task_always_eager = True
        purge_queues(unacked=True)


def test_two_workers_without_a_shared_disk_render_a_cycle_once_though_one_dies(
    render_workers, s3_media, tmp_path, settings
):
    # Given a master whose video is only in the bucket
    settings.RENDER_WIDTH, settings.RENDER_HEIGHT = 360, 640
    video = make_synthetic_master(
        tmp_path / "upload" / "master.mp4", duration=20.0, width=360, height=640
    )
    with video.open("rb") as fh:
        master = master_with_approved_cuts(
            sheet=CUTS, video_url="", video_file=File(fh, name="master.mp4")
        )
    assert master.video_file.name in s3_media.object_keys()

    # When a cycle generates its variants and queues their renders to the two workers
    run = cycle_request(options={"auto_upload": False, "promote_top_3": False})
    cycle_execute(run_id=run.pk)
    variant_ids = {
        str(pk)
        for pk in CreativeVariant.objects.filter(parent=master).values_list(
            "pk", flat=True
        )
    }
    assert len(variant_ids) >= 5

    # ...and one worker is killed in the middle of a render
    def victim_mid_render():
        rendering = {
            str(pk)
            for pk in CreativeVariant.objects.filter(
                status=VariantStatus.RENDERING
            ).values_list("pk", flat=True)
        }
        for name, worker in render_workers.items():
            log = worker.log_path.read_text(errors="replace")
            mine = (_claimed_in(log) - set(_rendered_in(log))) & rendering
            if mine and _rendered_in(log):  # busy, and has finished one already
                return name, mine.pop()
        return None

    _wait_for(
        lambda: victim_mid_render() is not None,
        timeout=120,
        what="a worker in the middle of its second render",
    )
    victim_name, orphan = victim_mid_render()
    render_workers[victim_name].kill()
    survivor = next(w for n, w in render_workers.items() if n != victim_name)

    # ...the survivor drains the queue; the orphan stays "rendering" until the sweep
    # sees that its lease holder is gone (its process is dead) and resumes it at once
    _wait_for(
        lambda: (
            not CreativeVariant.objects.filter(
                parent=master, status=VariantStatus.DRAFT
            ).exists()
            and CreativeVariant.objects.filter(
                parent=master, status=VariantStatus.RENDERING
            ).count()
            == 1
        ),
        timeout=240,
        what=f"the survivor to drain the queue\n{survivor.log()}",
    )
    assert CreativeVariant.objects.get(pk=orphan).status == VariantStatus.RENDERING
    assert sweep_stuck_work()["resume_render"] == 1

    # Then every variant ends rendered, each by exactly one finished render
    _wait_for(
        lambda: (
            set(
                CreativeVariant.objects.filter(parent=master).values_list(
                    "status", flat=True
                )
            )
            == {VariantStatus.RENDERED}
        ),
        timeout=120,
        what=f"the orphan to be rendered\n{survivor.log()}",
    )
    finished = [
        variant_id
        for worker in render_workers.values()
        for variant_id in _rendered_in(worker.log_path.read_text(errors="replace"))
    ]
    assert sorted(finished) == sorted(variant_ids)
    assert orphan in _rendered_in(survivor.log_path.read_text(errors="replace"))
    # ...with one video and one poster per variant in the bucket, and nothing else
    rows = CreativeVariant.objects.filter(parent=master)
    expected = {master.video_file.name}
    for row in rows:
        expected |= {row.video_file.name, row.poster_file.name}
    assert set(s3_media.object_keys()) == expected
    # ...no worker wrote a media folder, and the survivor left no scratch behind
    for name in render_workers:
        assert not (tmp_path / name / "media-never-used").exists()
    survivor_scratch = next(
        tmp_path / n / "scratch" for n in render_workers if n != victim_name
    )
    assert list(Path(survivor_scratch).glob("render-*")) == []
