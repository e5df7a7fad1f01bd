"""The seed's own twelve tests (SPEC.md, "Tests"), each through the real services.

Only the outside world is stood in for: Meta is the stub account and its market
(stub mode, as SPEC.md's "STUB Mode" runs), rendering writes a small real MP4 where
a test is about the whole pipeline, and a tiny placeholder file where a test starts
from an already rendered variant.

    pytest tests/test_meta_creative_production.py -v
"""

import datetime as dt
from pathlib import Path

import av
import pytest
import time_machine
from django.core.files import File
from django_celery_beat.models import PeriodicTask

from creative_engine.models import CycleRun, RunStatus
from creative_engine.schedule import next_scheduled_run, scheduled_window_for
from creative_engine.services.cycle import cycle_execute, cycle_request
from creative_engine.tasks import run_scheduled_cycle
from productions.guard import (
    HumanRuleViolation,
    UnapprovedFragmentRefused,
    UnauthorizedPixelRefused,
    check_variant_respects_human_rules,
)
from productions.models import CreativeFragment, CreativeProduction
from productions.selectors import approved_fragment_ids
from promotion.models import PromotionLog, StubMetaObject
from promotion.services.analyzer import fragments_update_performance
from promotion.services.fatigue import fatigue_review
from promotion.services.generation_inputs import performance_hints
from promotion.services.promote import master_promote_top
from promotion.services.upload import variant_upload
from tests.factories import (
    DailyMetricFactory,
    FragmentFactory,
    ProductionFactory,
    master_with_approved_cuts,
)
from tests.promotion.builders import T0, rendered_variant, stub_client
from variants.choices import DURATION_BOUNDS, VariantStatus
from variants.models import CreativeVariant
from variants.rendering.demo_media import make_synthetic_master
from variants.services.generation import variants_generate

pytestmark = pytest.mark.django_db

UTC = dt.UTC
CUTS = [
    ("hook", 0.0, 3.0),
    ("hook", 3.0, 5.5),
    ("hook", 10.0, 13.0),
    ("body", 5.0, 12.0),
    ("body", 11.0, 18.0),
    ("cta", 16.0, 20.0),
    ("cta", 13.5, 17.0),
    ("outro", 18.5, 20.0),
]


def _master(**kwargs):
    master = ProductionFactory(duration=20.0, **kwargs)
    for kind, start, end in CUTS:
        FragmentFactory(
            master_creative=master, fragment_type=kind, start_time=start, end_time=end
        )
    return master


def _uploaded(master, client, number):
    variant = rendered_variant(master, variant_number=number)
    variant_upload(variant_id=variant.pk, client=client, as_of=T0)
    variant.refresh_from_db()
    return variant


def _deliver(variant, ctrs, *, impressions=3000, start=None):
    start = start or T0.date()
    for offset, ctr in enumerate(ctrs):
        DailyMetricFactory(
            variant=variant,
            date=start + dt.timedelta(days=offset),
            impressions=impressions,
            clicks=round(impressions * ctr),
            conversions=0,
            spend=impressions * 0.008,
            revenue=0,
            video_3s_views=round(impressions * ctr * 25),
            thruplays=round(impressions * ctr * 8),
        )


def _decaying_live_variant(client):
    """A variant two weeks flat at 3 % CTR, then two weeks sliding to 1.3 %."""
    master = master_with_approved_cuts()
    variant = _uploaded(master, client, 1)
    # A second approved hook: a refresh needs an unused fragment to swap in.
    FragmentFactory(
        master_creative=master, fragment_type="hook", start_time=12, end_time=15
    )
    _deliver(
        variant,
        [0.03] * 14 + [0.03 - 0.0012 * i for i in range(1, 15)],
        impressions=1500,
    )
    return variant


# 1 ---------------------------------------------------------------------------------


def test_variant_generation_5_to_15():
    # Given a master with approved fragments
    master = _master()

    # When the engine generates a batch
    variants = variants_generate(master_id=master.pk, seed=1)

    # Then it wrote 5-15 draft variants, numbered 1..n, counted on the master
    assert 5 <= len(variants) <= 15
    assert {v.status for v in variants} == {VariantStatus.DRAFT}
    assert sorted(v.variant_number for v in variants) == list(
        range(1, len(variants) + 1)
    )
    master.refresh_from_db()
    assert master.total_variants_generated == len(variants)


# 2 ---------------------------------------------------------------------------------


def test_duration_variants_short_medium_long():
    master = _master()

    variants = variants_generate(master_id=master.pk, seed=2)

    # Every batch has the three lengths, each inside SPEC.md's bounds
    assert {v.duration_category for v in variants} == {"short", "medium", "long"}
    for variant in variants:
        low, high = DURATION_BOUNDS[variant.duration_category]
        assert low <= variant.duration_seconds <= high
        slots = sum(s["source_out"] - s["source_in"] for s in variant.fragments_order)
        assert slots == pytest.approx(variant.duration_seconds, abs=0.05)


# 3 ---------------------------------------------------------------------------------


def test_recombination_structures():
    master = _master()

    variants = variants_generate(master_id=master.pk, seed=3)

    # The batch tests the three narrative structures, each in its own order
    assert {v.narrative_structure for v in variants} == {
        "hook_body_cta",
        "hook_inverted",
        "cta_forward",
    }
    expected = {
        "hook_body_cta": ["hook", "body", "cta"],
        "hook_inverted": ["cta", "body", "hook"],
        "cta_forward": ["cta", "hook", "body"],
    }
    for variant in variants:
        kinds = [s["fragment_type"] for s in variant.fragments_order]
        core = [k for k in kinds if k != "outro"]
        assert core == expected[variant.narrative_structure], variant.fragments_order


# 4 ---------------------------------------------------------------------------------


def test_fragment_extraction():
    # Given two measured variants that differ only in their opening hook
    master = _master()
    hooks = list(
        CreativeFragment.objects.filter(
            master_creative=master, fragment_type="hook"
        ).order_by("start_time")
    )
    body = CreativeFragment.objects.filter(
        master_creative=master, fragment_type="body"
    ).first()
    cta = CreativeFragment.objects.filter(
        master_creative=master, fragment_type="cta"
    ).first()
    strong, weak = hooks[0], hooks[1]
    for number, (hook, ctr) in enumerate([(strong, 0.03), (weak, 0.01)], start=1):
        order = [
            {
                "fragment_id": str(f.pk),
                "fragment_type": f.fragment_type,
                "source_in": f.start_time,
                "source_out": f.end_time,
            }
            for f in (hook, body, cta)
        ]
        variant = rendered_variant(master, variant_number=number, fragments_order=order)
        _deliver(variant, [ctr] * 5)

    # When the creative analyzer (10.15) scores the fragments
    scored = fragments_update_performance(master_id=master.pk)

    # Then the strong hook scores above average, the weak one below, the shared
    # body at average; the hook on screen first carries the hook rate
    assert scored == CreativeFragment.objects.filter(master_creative=master).count()
    strong.refresh_from_db()
    weak.refresh_from_db()
    body.refresh_from_db()
    assert strong.performance_score > 0.5 > weak.performance_score
    assert body.performance_score == pytest.approx(0.5, abs=0.01)
    assert strong.usage_count == weak.usage_count == 1
    assert strong.hook_rate > weak.hook_rate
    # And the planner's hints read those measurements back
    hints = performance_hints(master_id=master.pk)
    assert hints.evidence == 2


# 5 ---------------------------------------------------------------------------------


def test_auto_upload_to_meta():
    # Given a rendered variant and the stub Meta account
    master = master_with_approved_cuts()
    variant = rendered_variant(master)
    client = stub_client()

    # When it is uploaded
    variant_upload(variant_id=variant.pk, client=client, as_of=T0)

    # Then video, creative and ad exist on Meta, the ad in the master's ad set,
    # PAUSED until the optimizer activates it, and the variant is testing
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING
    assert variant.meta_video_id and variant.meta_creative_id and variant.meta_ad_id
    ad = StubMetaObject.objects.get(kind="ad", meta_id=variant.meta_ad_id)
    assert ad.parent_meta_id == variant.adset_id
    assert ad.status == "PAUSED"
    # The creative opts out of every Advantage+ enhancement
    creative = StubMetaObject.objects.get(
        kind="creative", meta_id=variant.meta_creative_id
    )
    assert set(creative.payload["enhancements"].values()) == {"OPT_OUT"}
    # And every call to Meta is logged
    operations = set(
        PromotionLog.objects.filter(variant=variant, success=True).values_list(
            "operation", flat=True
        )
    )
    assert {"upload_video", "create_creative", "create_ad"} <= operations


# 6 ---------------------------------------------------------------------------------


def test_promotion_loop():
    # Given six tested variants, three clearly ahead on every day
    master = master_with_approved_cuts()
    client = stub_client(at=T0 + dt.timedelta(days=7))
    variants = [_uploaded(master, stub_client(), n) for n in range(1, 7)]
    for variant, ctr in zip(
        variants, [0.030, 0.028, 0.026, 0.012, 0.011, 0.002], strict=True
    ):
        _deliver(variant, [ctr] * 6)

    # When the optimizer runs
    outcome = master_promote_top(
        master_id=master.pk, as_of=T0 + dt.timedelta(days=7), client=client
    )

    # Then exactly the top 3 are ACTIVE on Meta and here, each with its reason
    assert set(outcome.winners) == {str(v.pk) for v in variants[:3]}
    for variant in variants[:3]:
        variant.refresh_from_db()
        assert variant.status == VariantStatus.ACTIVE
        ad = StubMetaObject.objects.get(kind="ad", meta_id=variant.meta_ad_id)
        assert ad.status == "ACTIVE"
    # And the clear loser is paused (not archived: it is not fatigued)
    loser = CreativeVariant.objects.get(pk=variants[5].pk)
    assert loser.status == VariantStatus.PAUSED
    promoted = [d for d in outcome.decisions if d.action == "promote"]
    assert len(promoted) == 3
    assert all("rank" in d.reason and d.numbers["posterior_mean"] for d in promoted)


# 7 ---------------------------------------------------------------------------------


def test_fatigue_detection_and_refresh():
    client = stub_client()
    variant = _decaying_live_variant(client)

    # When fatigue is reviewed 29 days in
    outcomes = fatigue_review(as_of=T0 + dt.timedelta(days=29), client=client)

    # Then the decay is detected (14+ days, 20 %+ drop) and a refresh is written
    assert [o.variant_id for o in outcomes] == [str(variant.pk)]
    assessment = outcomes[0].assessment
    assert assessment.fatigued and assessment.drop >= 0.20
    assert outcomes[0].refresh_variant_id
    # And a steady variant is left alone
    steady = _uploaded(variant.parent, client, 2)
    _deliver(steady, [0.03] * 28, impressions=1500)
    again = fatigue_review(as_of=T0 + dt.timedelta(days=29), client=client)
    assert str(steady.pk) not in {o.variant_id for o in again}


# 8 ---------------------------------------------------------------------------------


def test_archive_fatigued():
    client = stub_client()
    variant = _decaying_live_variant(client)

    fatigue_review(as_of=T0 + dt.timedelta(days=29), client=client)

    # The fatigued variant is archived here, with its score, and its ad on Meta
    variant.refresh_from_db()
    assert variant.status == VariantStatus.ARCHIVED
    assert variant.is_fatigued
    assert variant.fatigue_score >= 0.20
    assert variant.archived_at is not None
    ad = StubMetaObject.objects.get(kind="ad", meta_id=variant.meta_ad_id)
    assert ad.status == "ARCHIVED"
    assert PromotionLog.objects.filter(
        variant=variant, operation="set_ad_status", promotion_type="archive"
    ).exists()


# 9 ---------------------------------------------------------------------------------


def test_refresh_creation():
    client = stub_client()
    variant = _decaying_live_variant(client)

    outcome = fatigue_review(as_of=T0 + dt.timedelta(days=29), client=client)[0]

    # The refresh is a draft that points back at the fatigued variant, keeps its
    # structure, swaps one fragment for an approved one it did not use, and
    # carries a suggestion of what wore out
    refresh = CreativeVariant.objects.get(pk=outcome.refresh_variant_id)
    assert refresh.status == VariantStatus.DRAFT
    assert refresh.refreshed_from_id == variant.pk
    assert refresh.narrative_structure == variant.narrative_structure
    old = {s["fragment_id"] for s in variant.fragments_order}
    new = {s["fragment_id"] for s in refresh.fragments_order}
    assert len(new - old) == 1
    assert new <= {
        str(f) for f in approved_fragment_ids(production_id=variant.parent_id)
    }
    assert refresh.plan_details["suggestion"]["text"]


# 10 --------------------------------------------------------------------------------


@pytest.mark.slow
def test_full_production_pipeline(tmp_path, settings):
    # Given a master with a real (small) video and approved cuts
    settings.RENDER_WIDTH, settings.RENDER_HEIGHT = 360, 640
    settings.META_STUB_UPLOAD_FAILURE_RATE = 0.0
    path = make_synthetic_master(
        tmp_path / "m.mp4", duration=20.0, width=360, height=640
    )
    with Path(path).open("rb") as handle:
        master = ProductionFactory(video_url="", video_file=File(handle, name="m.mp4"))
    for kind, start, end in CUTS:
        FragmentFactory(
            master_creative=master, fragment_type=kind, start_time=start, end_time=end
        )

    # When a cycle runs: generate → render → upload
    first = cycle_execute(run_id=cycle_request().pk)

    # Then 5-15 variants were rendered to real MP4s and each has a Meta ad
    assert first.status == RunStatus.SUCCEEDED, first.errors
    variants = list(CreativeVariant.objects.filter(parent=master))
    assert 5 <= len(variants) <= 15
    assert {v.status for v in variants} == {VariantStatus.TESTING}
    for variant in variants:
        with av.open(variant.video_file.path) as container:
            assert container.streams.video[0].codec_context.name == "h264"
        assert variant.meta_ad_id

    # When cycles run as the simulated days pass (insights, fatigue, promotion)
    later = first.as_of + dt.timedelta(days=7, hours=1)
    second = cycle_execute(run_id=cycle_request(as_of=later).pk)

    # Then the measured variants were judged and 3 winners are ACTIVE, every
    # decision explained
    assert second.status == RunStatus.SUCCEEDED, second.errors
    assert second.counts["insight_rows"] > 0
    assert (
        CreativeVariant.objects.filter(
            parent=master, status=VariantStatus.ACTIVE
        ).count()
        == 3
    )
    promotes = [d for d in second.decisions if d["action"] == "promote"]
    assert len(promotes) == 3 and all(d["reason"] for d in promotes)


# 11 --------------------------------------------------------------------------------


def test_scheduler_12h_cycle():
    # The beat entry runs the cycle at 00:00 and 12:00
    task = PeriodicTask.objects.get(name="creative-engine-cycle")
    assert task.task == "creative_engine.run_scheduled_cycle"
    assert (task.crontab.minute, task.crontab.hour) == ("0", "0,12")
    # Windows are the two halves of the day, the next run 12 hours after the last
    morning = dt.datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    assert scheduled_window_for(morning) == dt.datetime(2026, 3, 1, 0, tzinfo=UTC)
    assert next_scheduled_run(morning) == dt.datetime(2026, 3, 1, 12, tzinfo=UTC)

    # When beat fires at noon (twice: two beats, or a retry), then at midnight
    _master()
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, 2, tzinfo=UTC), tick=False):
        run_scheduled_cycle()
        run_scheduled_cycle()
    with time_machine.travel(dt.datetime(2026, 3, 2, 0, 0, 2, tzinfo=UTC), tick=False):
        run_scheduled_cycle()

    # Then each 12-hour window ran exactly one cycle
    windows = list(
        CycleRun.objects.order_by("scheduled_window").values_list(
            "scheduled_window", "status"
        )
    )
    assert [w for w, _ in windows] == [
        dt.datetime(2026, 3, 1, 12, tzinfo=UTC),
        dt.datetime(2026, 3, 2, 0, tzinfo=UTC),
    ]
    assert {s for _, s in windows} <= {RunStatus.SUCCEEDED, RunStatus.PARTIAL}


# 12 --------------------------------------------------------------------------------


def test_human_constraint_enforcement():
    master = _master(authorized_pixels=["111111"], authorized_subgenres=["indie"])
    unapproved = FragmentFactory(
        master_creative=master,
        fragment_type="hook",
        start_time=1.0,
        end_time=4.0,
        approved=False,
    )
    approved = approved_fragment_ids(production_id=master.pk)
    assert unapproved.pk not in approved

    # The engine's variants use only approved fragments, authorized pixels and
    # approved hashtags
    for variant in variants_generate(master_id=master.pk, seed=12):
        check_variant_respects_human_rules(
            master=master,
            fragment_ids=[s["fragment_id"] for s in variant.fragments_order],
            hashtags=variant.hashtags,
            pixel_id=variant.pixel_id or None,
            approved_fragment_ids=approved,
        )
        assert str(unapproved.pk) not in {
            s["fragment_id"] for s in variant.fragments_order
        }
    # A variant that would break a rule is refused with a named error
    with pytest.raises(UnapprovedFragmentRefused):
        check_variant_respects_human_rules(
            master=master,
            fragment_ids=[str(unapproved.pk)],
            hashtags=[],
            pixel_id=None,
            approved_fragment_ids=approved,
        )
    with pytest.raises(UnauthorizedPixelRefused):
        check_variant_respects_human_rules(
            master=master,
            fragment_ids=[str(f) for f in approved],
            hashtags=[],
            pixel_id="999999",
            approved_fragment_ids=approved,
        )
    # And the system cannot change what humans authorized
    master.authorized_pixels = ["999999"]
    with pytest.raises(HumanRuleViolation):
        master.save()
    with pytest.raises(HumanRuleViolation):
        CreativeProduction.objects.filter(pk=master.pk).update(genre="techno")
    master.refresh_from_db()
    assert master.authorized_pixels == ["111111"]
