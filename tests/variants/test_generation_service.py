"""variants_generate: plan, check the human rules, write a batch (real database)."""

import dataclasses

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from productions.guard import UnapprovedHashtagRefused
from productions.models import CreativeProduction
from tests.factories import (
    FULL_BATCH,
    FragmentFactory,
    ProductionFactory,
    master_with_approved_cuts,
)
from variants.models import CreativeVariant
from variants.services import generation
from variants.services.generation import (
    GenerationError,
    generation_seed,
    variants_generate,
)


@pytest.fixture
def master(db):
    return master_with_approved_cuts(sheet=FULL_BATCH)


def test_generate_writes_a_batch_of_draft_variants_from_the_plan(master, settings):
    settings.CREATIVE_ENGINE_MODE = "stub"

    variants = variants_generate(master_id=master.pk, seed=11)

    assert 5 <= len(variants) <= 15
    stored = list(
        CreativeVariant.objects.filter(parent=master).order_by("variant_number")
    )
    assert [v.variant_number for v in stored] == list(range(1, len(variants) + 1))
    assert {v.batch_number for v in stored} == {1}
    assert {v.status for v in stored} == {"draft"}
    assert {v.narrative_structure for v in stored} == {
        "hook_body_cta",
        "hook_inverted",
        "cta_forward",
    }
    assert {v.duration_category for v in stored} == {"short", "medium", "long"}
    first = stored[0]
    assert set(first.fragments_order[0]) == {
        "fragment_id",
        "fragment_type",
        "source_in",
        "source_out",
    }
    assert first.plan_seed == 11
    assert first.plan_details["signature"]
    assert 0 < first.plan_details["batch_diversity"] <= 1
    assert first.mode == "stub"
    assert (first.campaign_id, first.adset_id) == (master.campaign_id, master.adset_id)
    assert first.pixel_id in master.authorized_pixels
    master.refresh_from_db()
    assert master.total_variants_generated == len(variants)


def test_an_unapproved_fragment_never_appears_in_a_variant(master):
    rejected = FragmentFactory(
        master_creative=master,
        fragment_type="hook",
        start_time=24.0,
        end_time=28.0,
        approved=False,
        approved_at=None,
    )

    variants = variants_generate(master_id=master.pk, seed=1)

    used = {slot["fragment_id"] for v in variants for slot in v.fragments_order}
    assert str(rejected.pk) not in used


def test_nothing_is_written_when_a_plan_breaks_a_human_rule(master, monkeypatch):
    # Given a planner that slips an unapproved hashtag into one plan
    real_plan_batch = generation.plan_batch

    def tampered(**kwargs):
        batch = real_plan_batch(**kwargs)
        bad = dataclasses.replace(batch.plans[-1], hashtags=("#notapproved",))
        return dataclasses.replace(batch, plans=(*batch.plans[:-1], bad))

    monkeypatch.setattr(generation, "plan_batch", tampered)

    # When the batch is generated
    with pytest.raises(UnapprovedHashtagRefused):
        variants_generate(master_id=master.pk, seed=1)

    # Then no variant exists and the master's counter is untouched
    assert CreativeVariant.objects.count() == 0
    assert CreativeProduction.objects.get(pk=master.pk).total_variants_generated == 0


def test_the_next_batch_is_numbered_on_and_repeats_no_earlier_variant(master):
    first = variants_generate(master_id=master.pk)
    second = variants_generate(master_id=master.pk)

    assert {v.batch_number for v in second} == {2}
    assert first[0].plan_seed == generation_seed(master_id=master.pk, batch_number=1)
    assert second[0].plan_seed == generation_seed(master_id=master.pk, batch_number=2)
    earlier = {v.plan_details["signature"] for v in first}
    assert not earlier & {v.plan_details["signature"] for v in second}
    master.refresh_from_db()
    assert master.total_variants_generated == len(first) + len(second)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"is_active": False}, "is inactive"),
        ({"duration": None}, "has no usable duration"),
    ],
)
def test_an_inactive_master_or_one_without_duration_is_refused(db, kwargs, message):
    master = ProductionFactory(**kwargs)

    with pytest.raises(GenerationError, match=message):
        variants_generate(master_id=master.pk)


@pytest.mark.parametrize(
    ("master_id", "message"),
    [
        ("not-a-uuid", "'not-a-uuid' is not a valid master id"),
        ("8d2d4b4e-0000-4000-8000-000000000000", "No master with id"),
    ],
)
def test_an_unknown_master_is_refused(db, master_id, message):
    with pytest.raises(GenerationError, match=message):
        variants_generate(master_id=master_id)


def test_a_master_without_an_approved_cta_is_refused_and_nothing_written(db):
    master = ProductionFactory(duration=20.0)
    FragmentFactory(master_creative=master, fragment_type="hook")
    FragmentFactory(
        master_creative=master, fragment_type="body", start_time=3.0, end_time=9.0
    )
    FragmentFactory(
        master_creative=master,
        fragment_type="cta",
        start_time=9.0,
        end_time=12.0,
        approved=False,
        approved_at=None,
    )

    with pytest.raises(GenerationError, match="no approved call to action"):
        variants_generate(master_id=master.pk)
    assert not CreativeVariant.objects.exists()


def test_renders_are_queued_only_after_commit(
    master, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[str] = []
    from variants import tasks

    monkeypatch.setattr(
        tasks.render_variant,
        "apply_async",
        lambda args, kwargs, **options: queued.append(args[0]),
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        variants = variants_generate(master_id=master.pk, seed=2)
        tasks.renders_queue(v.pk for v in variants)
        assert queued == []
    for callback in callbacks:
        callback()

    assert queued == [str(v.pk) for v in variants]
    # Each message is the variant's one render: its dispatch token is recorded
    assert all(
        token
        for token in CreativeVariant.objects.filter(
            pk__in=[v.pk for v in variants]
        ).values_list("dispatch_token", flat=True)
    )


def test_generation_itself_queues_nothing(master, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        variants_generate(master_id=master.pk, seed=2)

    assert callbacks == []


def test_generation_stays_within_its_query_budget(
    master, django_assert_max_num_queries
):
    # lock master, approved fragments, the earlier variants (next batch number,
    # signatures and cached pieces in one read), one guard read for the whole batch,
    # one INSERT, the counter UPDATE, plus savepoints (hints are the caller's:
    # promotion.services.generation_inputs)
    with django_assert_max_num_queries(6 + 2):
        variants_generate(master_id=master.pk, seed=3)


def test_generation_queries_do_not_grow_with_the_number_of_variants(db):
    """The human-rules check reads the approved set once per batch, not once per plan."""

    def queries_for(count: int) -> int:
        master = master_with_approved_cuts(sheet=FULL_BATCH)
        with CaptureQueriesContext(connection) as queries:
            written = variants_generate(master_id=master.pk, seed=5, count=count)
        assert len(written) == count
        return len(queries)

    assert queries_for(5) == queries_for(12)
