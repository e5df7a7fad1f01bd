"""The running-ads count: what the Page cap is checked against before every upload."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from promotion.selectors import running_ads_count
from tests.factories import ProductionFactory, VariantFactory
from variants.choices import VariantStatus


def _variants(statuses_with_ads: list[tuple[str, str]]) -> None:
    master = ProductionFactory()
    for number, (status, ad_id) in enumerate(statuses_with_ads, 1):
        VariantFactory(
            parent=master, variant_number=number, status=status, meta_ad_id=ad_id
        )


@pytest.mark.django_db
def test_only_live_variants_with_an_ad_count_as_running():
    # Given testing and active variants with ads, one testing without its ad yet,
    # and variants with ads that no longer run (paused, archived)
    _variants(
        [
            (VariantStatus.TESTING, "ad-1"),
            (VariantStatus.ACTIVE, "ad-2"),
            (VariantStatus.TESTING, ""),
            (VariantStatus.PAUSED, "ad-3"),
            (VariantStatus.ARCHIVED, "ad-4"),
        ]
    )

    # Then two ads run on the Page
    assert running_ads_count() == 2


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the plan is read with SQLite's EXPLAIN"
)
def test_the_count_reads_an_index_not_the_variant_rows():
    # The count runs twice per upload: reading each live variant's wide row made it
    # grow with the rows' size (14 ms at 3,400 live variants; 0.5 ms from the index).
    _variants([(VariantStatus.TESTING, "ad-1")])
    with CaptureQueriesContext(connection) as queries:
        running_ads_count()
    (count,) = queries.captured_queries

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {count['sql']}")
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())

    assert "COVERING INDEX var_status_ad_idx" in plan
