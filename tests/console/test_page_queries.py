"""Every console page costs a bounded number of queries, whatever the rows it shows.

Each page (`console_pages`, the list bench/console.py times) is opened on a small
world and again once the world has four times the rows (masters, variants and days
alike); both must stay within the page's budget. The server times at 50 masters ×
15 variants × 30 days are measured by bench/console.py.
"""

from __future__ import annotations

import pytest

from tests.console.world import build_world, console_pages

pytestmark = pytest.mark.django_db

# Session, user, their permissions (user and groups), then the page's own reads.
BUDGETS = {
    # + engine status, the last run, the 14 days per master and day, the masters with
    # their live and winner counts, their objectives (2), alerts (account errors,
    # variant counts, failed uploads, stalled masters (2), running ads), the schedule
    "dashboard": 22,
    # + count (2), the page's variants with masters, their delivery, their masters'
    # objectives (2), the master and look filters
    "creative grid": 12,
    "grid sorted by ROAS": 12,
    "grid of one master": 12,
    # + the variant, its days, objective (2), fragments, decisions, Meta calls
    "variant page": 11,
    # + count (2), the page's masters, their delivery, their objectives (2)
    "master list": 11,
    # + the master, its fragments (inline) and what the form's widgets list
    "master page": 8,
    "new master": 5,
    # + count (2), the page's fragments with masters and approvers
    "fragment list": 7,
    "fragment page": 6,
    "approval audit": 7,
    # + the newest measured day, masters and campaigns to filter by, the sums, the
    # variants, the fragments
    "leaderboards": 10,
    "leaderboards by ROAS": 10,
    "cycle runs": 7,
    # + the run, the variants named (with their masters), the masters named
    "run report": 7,
    "run report, promote": 7,
    "promotion log": 7,
    "promotion log entry": 5,
    "daily metrics": 7,
    "daily metric entry": 5,
    # + the masters to choose from
    "run a cycle now": 6,
    "preview a dry run": 6,
    "generate now": 6,
    "schedule": 10,
}


@pytest.fixture
def worlds(db):
    """The small world, and a function that grows it fourfold."""
    small = build_world(masters=2, variants_per_master=4, days=5)

    def grow() -> None:
        build_world(masters=6, variants_per_master=12, days=20, seed=8)

    return small, grow


def test_every_console_page_has_a_budget(worlds):
    small, _ = worlds
    assert set(console_pages(small)) == set(BUDGETS)


@pytest.mark.parametrize("page", list(BUDGETS))
def test_a_console_page_costs_the_same_bounded_queries_for_four_times_the_rows(
    page, staff_manager, worlds, django_assert_max_num_queries
):
    # Given a small world and its page, opened once (caches that fill once per
    # process, such as content types, filled)
    small, grow = worlds
    url = console_pages(small)[page]
    assert staff_manager.get(url).status_code == 200

    # Then it stays within its budget
    with django_assert_max_num_queries(BUDGETS[page]):
        answer = staff_manager.get(url)
    assert answer.status_code == 200

    # And when the world grows fourfold, within the same budget
    grow()
    with django_assert_max_num_queries(BUDGETS[page]):
        answer = staff_manager.get(url)
    assert answer.status_code == 200
