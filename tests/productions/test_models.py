"""Bad input gets a clear validation error at the model layer and the database refuses it."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from creative_engine.models import CycleRun
from productions.models import CreativeFragment, CreativeProduction
from tests.factories import (
    CycleRunFactory,
    DailyMetricFactory,
    FragmentFactory,
    ProductionFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db


def test_fragment_ending_before_it_starts_is_a_validation_error_and_a_db_error():
    master = ProductionFactory()
    fragment = CreativeFragment(
        master_creative=master, fragment_type="hook", start_time=5.0, end_time=5.0
    )

    with pytest.raises(ValidationError) as excinfo:
        fragment.full_clean()
    assert "must end after it starts" in str(excinfo.value.message_dict["end_time"])

    with pytest.raises(IntegrityError), transaction.atomic():
        fragment.save()
    assert not CreativeFragment.objects.filter(master_creative=master).exists()


def test_fragment_past_the_end_of_the_master_is_refused():
    master = ProductionFactory(duration=20.0)
    fragment = CreativeFragment(
        master_creative=master, fragment_type="body", start_time=18.0, end_time=21.5
    )

    with pytest.raises(ValidationError, match="master is only 20.00s long"):
        fragment.full_clean()


def test_unknown_fragment_type_is_refused_by_validation_and_database():
    master = ProductionFactory()
    fragment = CreativeFragment(
        master_creative=master, fragment_type="teaser", start_time=0, end_time=2
    )

    with pytest.raises(ValidationError) as excinfo:
        fragment.full_clean()
    assert "fragment_type" in excinfo.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        fragment.save()


def test_fragment_duration_follows_its_cut():
    fragment = FragmentFactory(start_time=1.5, end_time=4.0)

    assert fragment.duration == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("style_guide", ["not", "an", "object"], "must be a JSON object"),
        ("style_guide", {"tone": 3}, "'tone' must be a string"),
        ("style_guide", {"colour": "red"}, "Unknown style guide keys: colour"),
        ("style_guide", {"max_caption_length": 5}, "integer 20–2200"),
        ("style_guide", {"hashtags": ["two words"]}, "one word without spaces"),
        ("authorized_pixels", "123456789", "JSON list of pixel ids"),
        ("authorized_pixels", ["abc"], "is not valid"),
        ("authorized_pixels", ["123456", "123456"], "duplicate"),
        ("authorized_subgenres", [""], "non-empty name"),
    ],
)
def test_malformed_json_fields_are_refused_with_a_readable_message(
    field, value, message
):
    master = CreativeProduction(title="t", video_url="https://cdn.example.com/a.mp4")
    setattr(master, field, value)

    with pytest.raises(ValidationError) as excinfo:
        master.full_clean()

    assert message in " ".join(excinfo.value.message_dict[field])


def test_master_without_any_video_is_refused():
    master = CreativeProduction(title="No video")

    with pytest.raises(ValidationError, match="video file or a video URL"):
        master.full_clean()


def test_duplicate_variant_numbers_in_a_batch_are_refused():
    first = VariantFactory(variant_number=3)
    duplicate = VariantFactory.build(
        parent=first.parent, batch_number=1, variant_number=3
    )

    with pytest.raises(ValidationError, match="already has a variant with this number"):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_the_same_variant_number_is_fine_in_a_later_batch():
    first = VariantFactory(variant_number=3)

    later = VariantFactory(parent=first.parent, batch_number=2, variant_number=3)

    assert later.pk


def test_variant_numbers_stay_between_1_and_15():
    variant = VariantFactory.build(parent=ProductionFactory(), variant_number=16)

    with pytest.raises(ValidationError):
        variant.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        variant.save()


def test_two_variants_can_never_claim_the_same_meta_ad():
    VariantFactory(meta_ad_id="120200001")

    with pytest.raises(IntegrityError), transaction.atomic():
        VariantFactory(meta_ad_id="120200001")


def test_one_metrics_row_per_variant_and_day():
    row = DailyMetricFactory(date=dt.date(2026, 3, 1))

    with pytest.raises(IntegrityError), transaction.atomic():
        DailyMetricFactory(variant=row.variant, date=dt.date(2026, 3, 1))


def test_one_run_per_scheduled_window_while_manual_runs_are_unlimited():
    window = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    CycleRunFactory(scheduled_window=window)
    CycleRunFactory(scheduled_window=None)
    CycleRunFactory(scheduled_window=None)

    with pytest.raises(IntegrityError), transaction.atomic():
        CycleRunFactory(scheduled_window=window)
    assert CycleRun.objects.count() == 3


def test_the_four_spec_tables_keep_their_names():
    from promotion.models import PromotionLog
    from variants.models import CreativeVariant

    assert CreativeProduction._meta.db_table == "meta_creative_productions"
    assert CreativeVariant._meta.db_table == "meta_creative_variants"
    assert CreativeFragment._meta.db_table == "meta_creative_fragments"
    assert PromotionLog._meta.db_table == "meta_creative_promotion_logs"
