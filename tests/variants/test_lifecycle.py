"""The named lifecycle transitions: each owns its statuses and its timestamps."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import VariantFactory
from variants.choices import VariantStatus
from variants.services.lifecycle import (
    VariantTransitionRefused,
    variant_activate,
    variant_demote,
    variant_mark_archived,
    variant_mark_fatigued,
    variant_mark_rendered,
    variant_release_upload,
)

pytestmark = pytest.mark.django_db

AS_OF = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)


def test_activate_stamps_the_callers_clock_on_both_timestamps():
    variant = VariantFactory(status=VariantStatus.TESTING)

    variant_activate(variant_id=variant.pk, at=AS_OF)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.ACTIVE
    assert variant.status_changed_at == AS_OF
    assert variant.activated_at == AS_OF


def test_activate_without_a_clock_uses_now():
    variant = VariantFactory(status=VariantStatus.TESTING)
    before = timezone.now()

    variant_activate(variant_id=variant.pk)

    variant.refresh_from_db()
    assert variant.activated_at == variant.status_changed_at
    assert variant.activated_at >= before


def test_activate_refuses_a_variant_that_is_not_testing():
    variant = VariantFactory(status=VariantStatus.RENDERED)

    with pytest.raises(VariantTransitionRefused):
        variant_activate(variant_id=variant.pk, at=AS_OF)


def test_demote_moves_active_back_to_testing_and_keeps_activated_at():
    variant = VariantFactory(status=VariantStatus.ACTIVE, activated_at=AS_OF)
    later = AS_OF + dt.timedelta(days=2)

    variant_demote(variant_id=variant.pk, at=later)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING
    assert variant.status_changed_at == later
    assert variant.activated_at == AS_OF


def test_mark_fatigued_keeps_the_score():
    variant = VariantFactory(status=VariantStatus.ACTIVE)

    variant_mark_fatigued(variant_id=variant.pk, fatigue_score=0.31, at=AS_OF)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FATIGUED
    assert variant.is_fatigued
    assert variant.fatigue_score == 0.31
    assert variant.status_changed_at == AS_OF


def test_mark_archived_only_from_the_named_statuses():
    variant = VariantFactory(status=VariantStatus.TESTING)

    with pytest.raises(VariantTransitionRefused):
        variant_mark_archived(
            variant_id=variant.pk, from_statuses=[VariantStatus.FATIGUED], at=AS_OF
        )
    variant_mark_archived(
        variant_id=variant.pk, from_statuses=[VariantStatus.TESTING], at=AS_OF
    )

    variant.refresh_from_db()
    assert variant.status == VariantStatus.ARCHIVED
    assert variant.archived_at == AS_OF
    assert variant.status_changed_at == AS_OF


def test_mark_archived_leaves_the_failure_reason_unless_given_one():
    kept = VariantFactory(status=VariantStatus.FAILED, failure_reason="ffmpeg died")
    replaced = VariantFactory(status=VariantStatus.FAILED, failure_reason="old")

    variant_mark_archived(variant_id=kept.pk, from_statuses=[VariantStatus.FAILED])
    variant_mark_archived(
        variant_id=replaced.pk,
        from_statuses=[VariantStatus.FAILED],
        failure_reason="archived by marta: dull",
    )

    kept.refresh_from_db()
    replaced.refresh_from_db()
    assert kept.failure_reason == "ffmpeg died"
    assert replaced.failure_reason == "archived by marta: dull"
    assert kept.archived_at is not None


def test_mark_rendered_stores_the_files_and_forgets_an_earlier_failure():
    variant = VariantFactory(status=VariantStatus.RENDERING, failure_reason="timeout")

    variant_mark_rendered(
        variant_id=variant.pk,
        video_file="variants/v.mp4",
        poster_file="variants/v.jpg",
        video_checksum="ab" * 32,
        probed_duration=10.0,
    )

    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERED
    assert variant.video_file.name == "variants/v.mp4"
    assert variant.poster_file.name == "variants/v.jpg"
    assert variant.probed_duration == 10.0
    assert variant.rendered_at is not None
    assert variant.failure_reason == ""


def test_release_upload_puts_the_variant_back_to_rendered():
    variant = VariantFactory(status=VariantStatus.UPLOADING)

    variant_release_upload(variant_id=variant.pk)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERED
