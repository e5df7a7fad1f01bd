"""Variants are named so a marketer can tell them apart, never by a bare UUID."""

import pytest

from tests.factories import VariantFactory
from variants.naming import variant_display_name


def test_a_variant_name_says_master_number_structure_length_and_look() -> None:
    name = variant_display_name(
        master_title="Neon Nights",
        batch_number=1,
        variant_number=3,
        structure="hook_body_cta",
        duration_seconds=10.2,
        look="warm",
    )

    assert name == "Neon Nights · #1.3 · Hook→Body→CTA · 10 s · look Warm"


def test_a_long_master_title_is_shortened_with_an_ellipsis() -> None:
    name = variant_display_name(
        master_title="A" * 80,
        batch_number=2,
        variant_number=15,
        structure="cta_forward",
        duration_seconds=6,
        look="",
    )

    assert name.startswith("A" * 39 + "…")
    assert name.endswith("· #2.15 · CTA→Hook→Body · 6 s · look Natural")


@pytest.mark.django_db
def test_a_variant_row_prints_its_readable_name_not_its_uuid() -> None:
    variant = VariantFactory(narrative_structure="hook_inverted")

    assert str(variant.parent_id) not in str(variant)
    assert str(variant).startswith(variant.parent.title[:20])
    assert "CTA→Body→Hook" in str(variant)
