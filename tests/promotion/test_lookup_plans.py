"""Lookups the cycle makes once per ad or per master read through their own index.

Asked of the database's planner (EXPLAIN) on tables written just now, without
statistics, as in a fresh database: there a lookup by an ad's id once read every ad
of the stub account, and an ad set's budget changes every row the ad set had, so
each call's cost grew with everything uploaded before it.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from promotion.choices import PromotionType, StubObjectKind
from promotion.meta.protocol import AdStatus
from promotion.models import PromotionLog, StubMetaObject
from promotion.selectors import adset_budget_change_hours
from tests.promotion.builders import T0, stub_client

pytestmark = pytest.mark.django_db

SEED = 5
ADSET_ID = "120210000000002"


def index_searches_by(sql: str, column: str) -> bool:
    """Whether the database's plan for `sql` looks `column` up in an index (rather
    than filtering, row by row, what an index on other columns found)."""
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(explain + sql)
        lines = [" ".join(str(cell) for cell in row) for row in cursor]
    # PostgreSQL: "Index Cond: (... (meta_id)::text = ...)"; SQLite: "SEARCH t USING
    # INDEX i (seed=? AND meta_id=?)".
    return any(
        column in line and ("Index Cond" in line or " INDEX " in line) for line in lines
    )


def statement_reading(queries: CaptureQueriesContext, table: str, column: str) -> str:
    """The one captured SELECT from `table` that filters on `column`."""
    found = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and f'FROM "{table}"' in q["sql"]
        and f'"{column}" =' in q["sql"]
    ]
    assert len(found) == 1, found
    return found[0]


def stub_account_with_ads(count: int) -> list[str]:
    """`count` ads of one ad set on the stub account, each with its video and
    creative, written in bulk; their ids."""
    StubMetaObject.objects.bulk_create(
        StubMetaObject(
            seed=SEED,
            kind=kind,
            meta_id=f"{prefix}{n:06d}",
            name=f"ce-{n}-{kind}",
            parent_meta_id=ADSET_ID if kind == StubObjectKind.AD else "",
            status="PAUSED" if kind == StubObjectKind.AD else "ready",
            created_at=T0,
        )
        for n in range(count)
        for kind, prefix in (
            (StubObjectKind.VIDEO, "9"),
            (StubObjectKind.CREATIVE, "8"),
            (StubObjectKind.AD, "7"),
        )
    )
    return [f"7{n:06d}" for n in range(count)]


def test_setting_an_ads_status_finds_the_ad_by_its_id_not_among_its_ad_sets_ads():
    # Given an ad set with many ads on the stub account
    ad_ids = stub_account_with_ads(60)

    # When the status of one is set
    with CaptureQueriesContext(connection) as queries:
        stub_client(seed=SEED).set_ad_status(ad_id=ad_ids[30], status=AdStatus.ACTIVE)

    # Then the ad is looked up by its id in the (seed, id, kind) key, not found by
    # filtering every ad an index on the seed and kind alone gives
    assert StubMetaObject.objects.get(meta_id=ad_ids[30]).status == "ACTIVE"
    lookup = statement_reading(queries, "meta_creative_stub_objects", "meta_id")
    assert index_searches_by(lookup, "meta_id")


def test_an_adsets_budget_changes_are_read_without_its_other_calls():
    # Given an ad set with many uploads and status calls and two budget changes
    rows = [
        PromotionLog(
            promotion_type=PromotionType.UPLOAD,
            operation=operation,
            adset_id=ADSET_ID,
            success=True,
            decision_details={"as_of": (T0 - dt.timedelta(hours=30)).isoformat()},
        )
        for _ in range(40)
        for operation in ("upload_video", "create_creative", "create_ad")
    ]
    rows += [
        PromotionLog(
            promotion_type=PromotionType.SCALE,
            operation="set_adset_budget",
            adset_id=ADSET_ID,
            success=True,
            decision_details={"as_of": (T0 - dt.timedelta(hours=h)).isoformat()},
        )
        for h in (3, 5)
    ]
    PromotionLog.objects.bulk_create(rows)

    # When the budget engine asks for the recent changes
    with CaptureQueriesContext(connection) as queries:
        hours = adset_budget_change_hours(adset_id=ADSET_ID, as_of=T0)

    # Then it gets the two, the operation looked up in the (ad set, operation,
    # newest first) index rather than filtered from every row of the ad set
    assert sorted(hours) == [3.0, 5.0]
    lookup = statement_reading(queries, "meta_creative_promotion_logs", "operation")
    assert index_searches_by(lookup, "operation")
