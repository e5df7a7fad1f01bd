"""A whole production cycle on the embedded defaults: real renders, stub Meta, promotion."""

import datetime as dt
from pathlib import Path

import av
import pytest
from django.core.files import File
from django.db.models import Count

from creative_engine.models import RunStatus
from creative_engine.services.cycle import cycle_execute, cycle_request
from productions.guard import check_variant_respects_human_rules
from productions.selectors import approved_fragment_ids
from promotion.models import PromotionLog, StubMetaObject
from tests.factories import FragmentFactory, ProductionFactory
from variants.choices import DURATION_BOUNDS
from variants.models import CreativeVariant
from variants.rendering.demo_media import make_synthetic_master

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def small_master(tmp_path, settings):
    settings.RENDER_WIDTH, settings.RENDER_HEIGHT = 360, 640
    settings.META_STUB_UPLOAD_FAILURE_RATE = 0.0
    path = make_synthetic_master(
        tmp_path / "m.mp4", duration=20.0, width=360, height=640
    )
    with Path(path).open("rb") as handle:
        master = ProductionFactory(video_url="", video_file=File(handle, name="m.mp4"))
    cuts = [
        ("hook", 0, 3),
        ("hook", 3, 5.5),
        ("hook", 10, 13),
        ("body", 5, 12),
        ("body", 11, 18),
        ("cta", 16, 20),
        ("cta", 13.5, 17),
        ("outro", 18.5, 20),
    ]
    for kind, start, end in cuts:
        FragmentFactory(
            master_creative=master, fragment_type=kind, start_time=start, end_time=end
        )
    return master


def test_a_cycle_renders_uploads_and_a_later_cycle_promotes(small_master):
    # When the first cycle runs now
    first = cycle_execute(run_id=cycle_request().pk)

    # Then 5-15 variants were rendered to real files and uploaded, one ad each
    assert first.status == RunStatus.SUCCEEDED, first.errors
    variants = list(CreativeVariant.objects.filter(parent=small_master))
    assert 5 <= len(variants) <= 15
    assert {v.status for v in variants} == {"testing"}
    for variant in variants:
        with av.open(variant.video_file.path) as container:
            seconds = float(container.duration) / 1_000_000
        low, high = DURATION_BOUNDS[variant.duration_category]
        assert low - 0.05 <= seconds <= high + 0.05
        check_variant_respects_human_rules(
            master=small_master,
            fragment_ids=[s["fragment_id"] for s in variant.fragments_order],
            hashtags=variant.hashtags,
            pixel_id=variant.pixel_id or None,
            approved_fragment_ids=approved_fragment_ids(production_id=small_master.pk),
        )
    ads = StubMetaObject.objects.filter(kind="ad")
    assert ads.count() == len(variants)
    assert not ads.values("name").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert PromotionLog.objects.filter(
        operation="create_ad", success=True
    ).count() == len(variants)

    # When a cycle runs a simulated week later (every variant past the evidence gates)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=7, hours=1)
    second = cycle_execute(run_id=cycle_request(as_of=later).pk)

    # Then it measured, ranked, and promoted at most three, each with its numbers
    assert second.status == RunStatus.SUCCEEDED, second.errors
    assert second.counts["insight_rows"] > 0
    promoted = [d for d in second.decisions if d["action"] == "promote"]
    assert 1 <= len(promoted) <= 3
    assert all("posterior_mean" in d["numbers"] for d in promoted)
    active = CreativeVariant.objects.filter(parent=small_master, status="active")
    assert {str(v.pk) for v in active} == {d["variant_id"] for d in promoted}
