"""Console pages cost a fixed number of queries, whatever the rows they show.

Each page is opened on a small world and on one four times larger (masters, variants
and days alike); the query counts must be equal and under the page's budget. The
server times at 50 masters × 15 variants × 30 days are measured by bench/console.py.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.console.world import build_world

pytestmark = pytest.mark.django_db

# Session, user, groups/permissions, the page's own reads: each budget names its page.
BUDGETS = {
    "dashboard": 25,
    "creative grid": 16,
    "variant page": 22,
    "master list": 20,
}


def _pages(world) -> dict[str, str]:
    variant = world.variants[0]
    return {
        "dashboard": reverse("admin:index"),
        "creative grid": reverse("admin:variants_creativevariant_changelist"),
        "variant page": reverse(
            "admin:variants_creativevariant_change", args=[variant.pk]
        ),
        "master list": reverse("admin:productions_creativeproduction_changelist"),
    }


def _counts(client, world) -> dict[str, int]:
    counts = {}
    for name, url in _pages(world).items():
        client.get(url)  # caches that fill once per process (content types) filled
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(url)
        assert answer.status_code == 200, name
        counts[name] = len(queries)
    return counts


def test_each_console_page_costs_the_same_queries_for_four_times_the_rows(
    staff_manager,
):
    # Given a small world, measured
    small = build_world(masters=2, variants_per_master=4, days=5)
    small_counts = _counts(staff_manager, small)

    # When the world grows fourfold in masters, variants and days
    build_world(masters=6, variants_per_master=12, days=20, seed=8)
    large_counts = _counts(staff_manager, small)

    # Then no page asks more, and each stays in its budget
    assert large_counts == small_counts
    for name, count in large_counts.items():
        assert count <= BUDGETS[name], f"{name}: {count} queries"
